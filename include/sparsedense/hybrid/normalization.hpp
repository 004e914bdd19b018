// sparsedense/hybrid/normalization.hpp
//
// Per-list score normalization before a convex combination. A sparse (BM25, SPLADE) and a dense (cosine, inner
// product) retriever score on unrelated scales, so each list is mapped onto a comparable one first. Every method
// here is an affine map s -> a * s + c fitted on one query's list of scores (the retrieved top-k0):
//   none              -- identity (raw scores; only meaningful when the scales already agree);
//   min_max           -- (s - min) / (max - min), into [0, 1] (Elasticsearch's linear retriever, OpenSearch,
//                        Weaviate's relativeScoreFusion);
//   centered_min_max  -- (s - (min + max) / 2) / (max - min), into [-1/2, 1/2] (Pyserini's HybridSearcher);
//   z_score           -- (s - mean) / sigma, population sigma (OpenSearch's z_score);
//   dbsf              -- distribution-based: (s - (mu - 3 sigma)) / (6 sigma), sample sigma (Qdrant's DBSF).
// Degenerate lists (one score, or all equal): min_max maps to 1, centered_min_max and z_score to 0, dbsf to 1/2;
// an empty list fits a map to 0. Bruch, Gai and Ingber ("An Analysis of Fusion Functions for Hybrid Retrieval",
// ACM TOIS 42(1), 2023) show convex combination of normalized scores is robust and sample-efficient to tune,
// and that the choice among these normalizations matters little once alpha is tuned.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>

#include "sparsedense/core/error.hpp"

namespace sparsedense {

enum class ScoreNormalization { none, min_max, centered_min_max, z_score, dbsf };

[[nodiscard]] inline const char* normalization_name(ScoreNormalization n) noexcept {
    switch (n) {
        case ScoreNormalization::none: return "none";
        case ScoreNormalization::min_max: return "min_max";
        case ScoreNormalization::centered_min_max: return "centered_min_max";
        case ScoreNormalization::z_score: return "z_score";
        case ScoreNormalization::dbsf: return "dbsf";
    }
    return "?";
}

[[nodiscard]] inline ScoreNormalization parse_normalization(std::string_view name) {
    for (auto n : {ScoreNormalization::none, ScoreNormalization::min_max, ScoreNormalization::centered_min_max,
                   ScoreNormalization::z_score, ScoreNormalization::dbsf})
        if (name == normalization_name(n)) return n;
    raise(ErrorKind::invalid_argument, "unknown score normalization '", name,
          "' (expected none, min_max, centered_min_max, z_score or dbsf)");
}

/// The affine map s -> scale * s + offset fitted on one list of scores.
struct ScoreNormalizer {
    double scale = 1.0;
    double offset = 0.0;

    [[nodiscard]] double operator()(double score) const noexcept { return scale * score + offset; }

    /// Fits `method` on `scores` (any order).
    template <class Score>
    [[nodiscard]] static ScoreNormalizer fit(ScoreNormalization method, std::span<const Score> scores) {
        if (method == ScoreNormalization::none) return {1.0, 0.0};
        if (scores.empty()) return {0.0, 0.0};
        double lo = static_cast<double>(scores[0]), hi = lo, sum = 0.0;
        for (const auto s : scores) {
            const double v = static_cast<double>(s);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            sum += v;
        }
        const double n = static_cast<double>(scores.size());
        const double mean = sum / n;
        double squares = 0.0;
        for (const auto s : scores) squares += (static_cast<double>(s) - mean) * (static_cast<double>(s) - mean);
        switch (method) {
            case ScoreNormalization::min_max:
                if (!(hi > lo)) return {0.0, 1.0};
                return {1.0 / (hi - lo), -lo / (hi - lo)};
            case ScoreNormalization::centered_min_max:
                if (!(hi > lo)) return {0.0, 0.0};
                return {1.0 / (hi - lo), -(lo + hi) / 2.0 / (hi - lo)};
            case ScoreNormalization::z_score: {
                const double sigma = std::sqrt(squares / n);
                if (!(sigma > 0.0)) return {0.0, 0.0};
                return {1.0 / sigma, -mean / sigma};
            }
            case ScoreNormalization::dbsf: {
                const double sigma = scores.size() > 1 ? std::sqrt(squares / (n - 1.0)) : 0.0;
                if (!(sigma > 0.0)) return {0.0, 0.5};
                const double low = mean - 3.0 * sigma;
                return {1.0 / (6.0 * sigma), -low / (6.0 * sigma)};
            }
            case ScoreNormalization::none: break;
        }
        return {1.0, 0.0};
    }
};

}  // namespace sparsedense
