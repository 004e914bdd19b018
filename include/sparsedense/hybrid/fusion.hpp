// sparsedense/hybrid/fusion.hpp
//
// Fusing a sparse and a dense candidate list of one query into one ranking.
//   * Convex combination (Bruch, Gai & Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS
//     42(1), 2023): fused = alpha * N_sparse(s) + (1 - alpha) * N_dense(d), N a per-list ScoreNormalization fitted
//     on that list's retrieved scores (see normalization.hpp). alpha = 1 is sparse only, 0 dense only.
//   * Reciprocal rank fusion (Cormack, Clarke & Buettcher, "Reciprocal Rank Fusion outperforms Condorcet and
//     individual Rank Learning Methods", SIGIR 2009): fused = sum over lists of w / (k + rank), ranks from 1,
//     k = 60 by default (Elasticsearch / OpenSearch convention; Qdrant's k = 2 with 0-based ranks is k = 3 here),
//     optional per-list weights w. A list that does not contain the document contributes nothing.
// A document retrieved by only one side has no score from the other; MissingScore says what it gets there:
//   exact        -- its true score, computed by the other index from its stored data (the sparse forward index,
//                   the stored dense vectors) -- FusionCandidates::fill_sparse / fill_dense do this;
//   list_minimum -- the lowest score in the other side's list (Pyserini's choice), normalized like the others;
//   zero         -- a normalized contribution of 0;
//   automatic    -- exact when the candidates were filled with exact scores, else list_minimum (the default).
// The normalization is always fitted on the retrieved list only, so the policies differ only in the missing
// values. FusionCandidates (the union with both scores and ranks) is built once per query and can be fused with
// many parameter settings, which is how hybrid_eval sweeps alpha cheaply. Ties go to the smaller id.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/hybrid/normalization.hpp"

namespace sparsedense {

enum class FusionMethod { convex, rrf };
enum class MissingScore { automatic, exact, list_minimum, zero };

[[nodiscard]] inline const char* missing_score_name(MissingScore m) noexcept {
    switch (m) {
        case MissingScore::automatic: return "automatic";
        case MissingScore::exact: return "exact";
        case MissingScore::list_minimum: return "list_minimum";
        case MissingScore::zero: return "zero";
    }
    return "?";
}

struct FusionParams {
    FusionMethod method = FusionMethod::convex;
    ScoreNormalization normalization = ScoreNormalization::min_max;  ///< convex only
    double alpha = 0.5;          ///< convex: weight of the sparse side, in [0, 1]
    double rrf_k = 60.0;         ///< RRF constant (> 0)
    double sparse_weight = 1.0;  ///< RRF weight of the sparse list (>= 0)
    double dense_weight = 1.0;   ///< RRF weight of the dense list (>= 0)
    MissingScore missing = MissingScore::automatic;  ///< convex only

    void validate() const {
        if (!(alpha >= 0.0 && alpha <= 1.0)) raise(ErrorKind::invalid_argument, "fusion: alpha must be in [0, 1], got ", alpha);
        if (!(rrf_k > 0.0) || !std::isfinite(rrf_k)) raise(ErrorKind::invalid_argument, "fusion: rrf_k must be > 0, got ", rrf_k);
        if (!(sparse_weight >= 0.0) || !(dense_weight >= 0.0) || !std::isfinite(sparse_weight) || !std::isfinite(dense_weight))
            raise(ErrorKind::invalid_argument, "fusion: RRF weights must be finite and >= 0, got ", sparse_weight, " and ", dense_weight);
    }

    static FusionParams convex(ScoreNormalization n, double a, MissingScore m = MissingScore::automatic) {
        FusionParams p;
        p.method = FusionMethod::convex;
        p.normalization = n;
        p.alpha = a;
        p.missing = m;
        return p;
    }
    static FusionParams rrf(double k = 60.0, double w_sparse = 1.0, double w_dense = 1.0) {
        FusionParams p;
        p.method = FusionMethod::rrf;
        p.rrf_k = k;
        p.sparse_weight = w_sparse;
        p.dense_weight = w_dense;
        return p;
    }
};

/// The union of one query's sparse and dense candidate lists, with each side's raw score and rank.
struct FusionCandidates {
    static constexpr float no_score = std::numeric_limits<float>::quiet_NaN();

    std::vector<std::uint32_t> ids;
    std::vector<float> sparse_score;         ///< raw score; NaN when not retrieved and not exact-scored
    std::vector<float> dense_score;
    std::vector<std::uint32_t> sparse_rank;  ///< 1-based rank in the sparse list, 0 when not retrieved
    std::vector<std::uint32_t> dense_rank;
    bool sparse_filled = false;              ///< every candidate has an (exact) sparse score
    bool dense_filled = false;

    [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }

    /// Builds the union. Each list must be best first with distinct ids.
    template <class Score>
    static FusionCandidates from_lists(const SearchResults<std::uint32_t, Score>& sparse, const SearchResults<std::uint32_t, Score>& dense) {
        FusionCandidates c;
        const std::size_t n = sparse.size() + dense.size();
        c.ids.reserve(n);
        c.sparse_score.reserve(n);
        c.dense_score.reserve(n);
        c.sparse_rank.reserve(n);
        c.dense_rank.reserve(n);
        std::unordered_map<std::uint32_t, std::size_t> where;
        where.reserve(n);
        for (std::size_t i = 0; i < sparse.size(); ++i) {
            if (!where.emplace(sparse[i].id, c.ids.size()).second)
                raise(ErrorKind::invalid_data, "fusion: id ", sparse[i].id, " appears twice in the sparse list");
            c.ids.push_back(sparse[i].id);
            c.sparse_score.push_back(static_cast<float>(sparse[i].score));
            c.sparse_rank.push_back(static_cast<std::uint32_t>(i + 1));
            c.dense_score.push_back(no_score);
            c.dense_rank.push_back(0);
        }
        for (std::size_t i = 0; i < dense.size(); ++i) {
            const auto [it, inserted] = where.emplace(dense[i].id, c.ids.size());
            if (inserted) {
                c.ids.push_back(dense[i].id);
                c.sparse_score.push_back(no_score);
                c.sparse_rank.push_back(0);
                c.dense_score.push_back(static_cast<float>(dense[i].score));
                c.dense_rank.push_back(static_cast<std::uint32_t>(i + 1));
            } else {
                if (c.dense_rank[it->second] != 0) raise(ErrorKind::invalid_data, "fusion: id ", dense[i].id, " appears twice in the dense list");
                c.dense_score[it->second] = static_cast<float>(dense[i].score);
                c.dense_rank[it->second] = static_cast<std::uint32_t>(i + 1);
            }
        }
        c.sparse_filled = sparse.size() == c.ids.size();
        c.dense_filled = dense.size() == c.ids.size();
        return c;
    }

    /// Gives every candidate the sparse list lacks its exact sparse score, exact(id) -> float.
    template <class ExactScore>
    void fill_sparse(ExactScore&& exact) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (sparse_rank[i] == 0) sparse_score[i] = static_cast<float>(exact(ids[i]));
        sparse_filled = true;
    }
    /// Gives every candidate the dense list lacks its exact dense score, exact(id) -> float.
    template <class ExactScore>
    void fill_dense(ExactScore&& exact) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (dense_rank[i] == 0) dense_score[i] = static_cast<float>(exact(ids[i]));
        dense_filled = true;
    }
};

namespace detail {

/// Normalized value of one side for every candidate, by the missing-score policy.
inline void side_values(const std::vector<float>& raw, const std::vector<std::uint32_t>& rank, bool filled, const FusionParams& p,
                        const char* side, std::vector<double>& out) {
    std::vector<float> listed;
    listed.reserve(raw.size());
    float list_min = std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (rank[i] == 0) continue;
        listed.push_back(raw[i]);
        list_min = std::min(list_min, raw[i]);
    }
    const ScoreNormalizer norm = ScoreNormalizer::fit(p.normalization, std::span<const float>(listed));
    MissingScore policy = p.missing;
    if (policy == MissingScore::automatic) policy = filled ? MissingScore::exact : MissingScore::list_minimum;
    if (policy == MissingScore::exact && !filled)
        raise(ErrorKind::invalid_argument, "fusion: missing-score policy 'exact' but the ", side,
              " scores of the other list's candidates were not filled (no exact scorer?)");
    out.resize(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (rank[i] != 0 || policy == MissingScore::exact) out[i] = norm(static_cast<double>(raw[i]));
        else if (policy == MissingScore::zero || listed.empty()) out[i] = 0.0;
        else out[i] = norm(static_cast<double>(list_min));
    }
}

inline SearchResults<> top_k_of(const std::vector<std::uint32_t>& ids, const std::vector<double>& fused, std::size_t k) {
    std::vector<SearchResult<std::uint32_t, double>> all(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) all[i] = {ids[i], fused[i]};
    const std::size_t m = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m), all.end(), RanksBefore{});
    SearchResults<> out(m);
    for (std::size_t i = 0; i < m; ++i) out[i] = {all[i].id, static_cast<float>(all[i].score)};
    return out;
}

}  // namespace detail

/// Fuses one query's candidates into its top k.
[[nodiscard]] inline SearchResults<> fuse(const FusionCandidates& c, const FusionParams& p, std::size_t k) {
    validate_k(k, "fuse");
    p.validate();
    std::vector<double> fused(c.size(), 0.0);
    if (p.method == FusionMethod::rrf) {
        for (std::size_t i = 0; i < c.size(); ++i) {
            if (c.sparse_rank[i] != 0) fused[i] += p.sparse_weight / (p.rrf_k + c.sparse_rank[i]);
            if (c.dense_rank[i] != 0) fused[i] += p.dense_weight / (p.rrf_k + c.dense_rank[i]);
        }
    } else {
        std::vector<double> s, d;
        detail::side_values(c.sparse_score, c.sparse_rank, c.sparse_filled, p, "sparse", s);
        detail::side_values(c.dense_score, c.dense_rank, c.dense_filled, p, "dense", d);
        for (std::size_t i = 0; i < c.size(); ++i) fused[i] = p.alpha * s[i] + (1.0 - p.alpha) * d[i];
    }
    return detail::top_k_of(c.ids, fused, k);
}

/// Fuses two lists directly (no exact re-scoring: automatic means list_minimum).
[[nodiscard]] inline SearchResults<> fuse(const SearchResults<>& sparse, const SearchResults<>& dense, const FusionParams& p, std::size_t k) {
    return fuse(FusionCandidates::from_lists(sparse, dense), p, k);
}

/// Weighted reciprocal rank fusion of any number of best-first lists: sum of weights[l] / (rrf_k + rank), ranks
/// from 1. `weights` empty means all 1; otherwise one per list.
[[nodiscard]] inline SearchResults<> reciprocal_rank_fusion(std::span<const SearchResults<>> lists, std::size_t k, double rrf_k = 60.0,
                                                            std::span<const double> weights = {}) {
    validate_k(k, "reciprocal_rank_fusion");
    if (!(rrf_k > 0.0)) raise(ErrorKind::invalid_argument, "reciprocal_rank_fusion: rrf_k must be > 0, got ", rrf_k);
    if (!weights.empty() && weights.size() != lists.size())
        raise(ErrorKind::dimension_mismatch, "reciprocal_rank_fusion: ", weights.size(), " weights for ", lists.size(), " lists");
    std::unordered_map<std::uint32_t, std::size_t> where;
    std::vector<std::uint32_t> ids;
    std::vector<double> fused;
    for (std::size_t l = 0; l < lists.size(); ++l) {
        const double w = weights.empty() ? 1.0 : weights[l];
        for (std::size_t r = 0; r < lists[l].size(); ++r) {
            const auto [it, inserted] = where.emplace(lists[l][r].id, ids.size());
            if (inserted) {
                ids.push_back(lists[l][r].id);
                fused.push_back(0.0);
            }
            fused[it->second] += w / (rrf_k + static_cast<double>(r + 1));
        }
    }
    return detail::top_k_of(ids, fused, k);
}

}  // namespace sparsedense
