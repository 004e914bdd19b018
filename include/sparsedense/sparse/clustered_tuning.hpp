// sparsedense/sparse/clustered_tuning.hpp
//
// tune(): parameters of the clustered index (clustered_inverted_index.hpp) for a target recall@k, picked on a
// sample of the user's own documents and queries, the way FAISS's auto-tuning (Johnson, Douze, Jégou, "Billion-scale
// similarity search with GPUs", 2017: ParameterSpace::explore, an operating-point frontier) and Seismic's grid
// searches (Bruch et al., SIGIR 2024, section 6) pick theirs.
//
// Idea. The queries are split at random into a tuning half and a held-out half; the exact top-k of every query
// comes from the exact index (InvertedIndex, term-at-a-time). The clustered index is built once; every
// (query_cut, heap_factor) point of a grid is run on the tuning half, and the cheapest point whose tuning recall
// reaches the target plus `confidence` (2) standard errors of that mean is chosen: picking the cheapest of many noisy
// points favours those whose recall the tuning half overestimates (on 200 generated queries per half, one standard
// error let the held-out recall fall 0.03 short), and the margin pays for that. Its recall on the held-out half is measured and reported, never used to choose. When no point
// reaches the target, lambda is raised (x1.5) and the grid is run again, up to max_rebuilds times.
//
// Cost is a work model, not a clock: a point's cost per query is summary_entry_ns x summary entries read +
// document_ns x documents scored + block_ns x block summaries scored (ClusteredSearchStatistics), with constants
// fitted by least squares on 216 splade-beir configurations on this project's machine (6% rms error; docs/sparse.md,
// "Where the time goes at recall 0.99"). It is deterministic
// (the same sample gives the same answer under any load), and the two terms it weighs, sequential summary bytes
// against random forward-index reads, keep their ratio across x86 servers far better than absolute times do.
//
// Corpus samples. lambda (postings kept per list) must grow with the corpus: the default is
// default_lambda(n) = 1.3 sqrt(n) (about 280 for 46k SPLADE documents, 1,300 for 1M, 3,900 for 8.8M, where
// Seismic's published configurations use 3,500-4,000). When `corpus_size` says the documents passed are a sample
// of a larger corpus, the returned lambda is scaled by sqrt(corpus_size / sample size); the search parameters are
// returned as tuned (they are per-query quantities). Re-run tune() on the full corpus when you can.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <unordered_set>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

namespace sparsedense {

/// lambda for a corpus of n documents: 1.3 sqrt(n), at least 32 (see the header comment).
inline std::size_t default_lambda(std::size_t n) {
    return std::max<std::size_t>(32, static_cast<std::size_t>(std::llround(1.3 * std::sqrt(static_cast<double>(n)))));
}

struct ClusteredTuningParams {
    std::size_t k = 10;                  ///< recall@k
    ClusteredInvertedIndexBuildParams build{};  ///< starting build parameters (lambda: see `lambda`)
    std::size_t lambda = 0;              ///< 0 = default_lambda(documents); overrides build.lambda
    std::size_t corpus_size = 0;         ///< the full corpus size when `docs` is a sample (0 = docs is the corpus)
    std::vector<std::size_t> query_cuts = {3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32};
    std::vector<float> heap_factors = {1.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f};
    std::vector<double> query_masses = {1.0};  ///< query-term selection by mass (e.g. {1.0, 0.5}: twice the grid)
    std::size_t max_rebuilds = 2;        ///< lambda x1.5 per rebuild while no grid point reaches the target
    std::uint64_t seed = 7;              ///< the split of the queries into tuning / held-out halves
    double confidence = 2.0;             ///< a point qualifies when tuning recall - confidence x standard error >= target
    std::size_t threads = 0;             ///< build and evaluation workers, 0 = all cores
    // the work model (ns per unit; docs/sparse.md)
    double summary_entry_ns = 0.8;
    double document_ns = 105.0;
    double block_ns = 28.0;
};

/// One evaluated grid point (on the tuning half).
struct ClusteredTuningPoint {
    std::size_t lambda = 0, query_cut = 0;
    double query_mass = 1.0;
    float heap_factor = 0;
    double recall = 0;       ///< mean recall@k over the tuning half
    double std_error = 0;    ///< standard error of that mean
    double cost_ns = 0;      ///< modelled cost per query
};

struct ClusteredTuningResult {
    ClusteredInvertedIndexBuildParams build{};   ///< lambda scaled to corpus_size when given
    ClusteredInvertedIndexSearchParams search{};
    bool reached = false;            ///< a grid point reached the target on the tuning half (else: the highest-recall point)
    double tuning_recall = 0;
    double held_out_recall = 0;      ///< measured on the held-out half with the chosen parameters
    double cost_ns = 0;
    std::size_t tuning_queries = 0, held_out_queries = 0;
    std::vector<std::size_t> held_out_rows;  ///< the query rows of the held-out half
    std::vector<ClusteredTuningPoint> grid;  ///< every point tried, in order
};

namespace detail {

/// Mean recall@k of `index` with `sp` over the query rows `rows` against `truth` (aligned with rows), its standard
/// error, and the work counters summed over the queries.
inline ClusteredTuningPoint evaluate_point(const ClusteredInvertedIndex& index, CsrMatrixView<float> queries, const std::vector<std::size_t>& rows,
                                           const std::vector<SearchResults<>>& truth, std::size_t k, ClusteredInvertedIndexSearchParams sp,
                                           const ClusteredTuningParams& tp) {
    ClusteredSearchStatistics stats;
    sp.statistics = &stats;
    SearchResults<> got;
    double sum = 0, sum_sq = 0;
    std::unordered_set<std::uint32_t> want;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        index.search_into(queries.row(rows[i]), k, got, sp);
        want.clear();
        for (const auto& h : truth[i]) want.insert(h.id);
        double r = 1.0;
        if (!want.empty()) {
            std::size_t hit = 0;
            for (const auto& h : got) hit += want.count(h.id);
            r = static_cast<double>(hit) / static_cast<double>(want.size());
        }
        sum += r;
        sum_sq += r * r;
    }
    const double n = static_cast<double>(std::max<std::size_t>(rows.size(), 1));
    ClusteredTuningPoint p;
    p.query_cut = sp.query_cut;
    p.query_mass = sp.query_mass;
    p.heap_factor = sp.heap_factor;
    p.recall = sum / n;
    p.std_error = n > 1 ? std::sqrt(std::max(0.0, (sum_sq / n - p.recall * p.recall) / (n - 1))) : 0.0;
    p.cost_ns = (tp.summary_entry_ns * static_cast<double>(stats.summary_entries) + tp.document_ns * static_cast<double>(stats.documents_scored) +
                 tp.block_ns * static_cast<double>(stats.blocks_considered)) / n;
    return p;
}

inline void check_tuning_input(CsrMatrixView<float> docs, CsrMatrixView<float> queries, double target, const ClusteredTuningParams& tp) {
    if (!(target > 0.0 && target <= 1.0)) raise(ErrorKind::invalid_argument, "tune: target recall must be in (0, 1], got ", target);
    if (tp.k == 0) raise(ErrorKind::invalid_argument, "tune: k must be > 0");
    if (queries.rows() < 2) raise(ErrorKind::invalid_argument, "tune: needs at least 2 queries (a tuning and a held-out half), got ", queries.rows());
    if (docs.rows() == 0) raise(ErrorKind::invalid_argument, "tune: the document sample is empty");
    if (tp.query_cuts.empty() || tp.heap_factors.empty() || tp.query_masses.empty())
        raise(ErrorKind::invalid_argument, "tune: empty query_cuts, query_masses or heap_factors grid");
    if (tp.corpus_size != 0 && tp.corpus_size < docs.rows())
        raise(ErrorKind::invalid_argument, "tune: corpus_size ", tp.corpus_size, " is smaller than the sample (", docs.rows(), " documents)");
}

}  // namespace detail

/// Build and search parameters of ClusteredInvertedIndex reaching `target` recall@k on `queries` over `docs` (a
/// sample of the user's corpus and queries), chosen on one half of the queries and measured on the other.
inline ClusteredTuningResult tune(const CsrMatrixView<float>& docs, const CsrMatrixView<float>& queries, double target,
                                  const ClusteredTuningParams& tp) {
    detail::check_tuning_input(docs, queries, target, tp);
    // the split: a seeded permutation, first half tunes, second half is held out
    std::vector<std::size_t> order(queries.rows());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(tp.seed);
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t half = order.size() / 2;
    const std::vector<std::size_t> tuning(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(half));
    const std::vector<std::size_t> held_out(order.begin() + static_cast<std::ptrdiff_t>(half), order.end());

    // exact top-k of every query
    InvertedIndexBuildParams ep;
    ep.threads = tp.threads;
    const auto exact = InvertedIndex::build(docs, ep);
    auto truth_of = [&](const std::vector<std::size_t>& rows) {
        std::vector<SearchResults<>> t(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) t[i] = exact.search(queries.row(rows[i]), tp.k);
        return t;
    };
    const auto tuning_truth = truth_of(tuning), held_truth = truth_of(held_out);

    ClusteredTuningResult result;
    result.tuning_queries = tuning.size();
    result.held_out_queries = held_out.size();
    result.held_out_rows = held_out;
    ClusteredInvertedIndexBuildParams bp = tp.build;
    bp.lambda = tp.lambda ? tp.lambda : default_lambda(docs.rows());
    bp.threads = tp.threads;
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t chosen = none;  // position in result.grid
    ClusteredInvertedIndex index;
    for (std::size_t attempt = 0; attempt <= tp.max_rebuilds && !result.reached; ++attempt) {
        if (attempt > 0) bp.lambda = bp.lambda * 3 / 2;
        index = ClusteredInvertedIndex::build(docs, bp);
        const std::size_t first = result.grid.size();
        for (std::size_t qc : tp.query_cuts)
            for (double qm : tp.query_masses)
            for (float hf : tp.heap_factors) {
                ClusteredInvertedIndexSearchParams sp;
                sp.knn = tp.build.knn;
                sp.query_cut = qc;
                sp.query_mass = qm;
                sp.heap_factor = hf;
                auto p = detail::evaluate_point(index, queries, tuning, tuning_truth, tp.k, sp, tp);
                p.lambda = bp.lambda;
                result.grid.push_back(p);
            }
        const auto& g = result.grid;
        chosen = none;
        for (std::size_t i = first; i < g.size(); ++i)
            if (g[i].recall - tp.confidence * g[i].std_error >= target && (chosen == none || g[i].cost_ns < g[chosen].cost_ns)) chosen = i;
        result.reached = chosen != none;
        if (chosen == none)  // the best this build can do
            for (std::size_t i = first; i < g.size(); ++i)
                if (chosen == none || g[i].recall > g[chosen].recall) chosen = i;
    }
    const auto& best = result.grid[chosen];
    result.search.query_cut = best.query_cut;
    result.search.query_mass = best.query_mass;
    result.search.heap_factor = best.heap_factor;
    result.search.knn = tp.build.knn;
    result.tuning_recall = best.recall;
    result.cost_ns = best.cost_ns;
    result.held_out_recall = detail::evaluate_point(index, queries, held_out, held_truth, tp.k, result.search, tp).recall;
    result.build = bp;
    if (tp.corpus_size > docs.rows())
        result.build.lambda = static_cast<std::size_t>(std::llround(static_cast<double>(bp.lambda) *
                                                                    std::sqrt(static_cast<double>(tp.corpus_size) / static_cast<double>(docs.rows()))));
    return result;
}

/// tune() with the default ClusteredTuningParams (k = 10, lambda from the sample size, the default grid).
inline ClusteredTuningResult tune(const CsrMatrixView<float>& docs, const CsrMatrixView<float>& queries, double target) {
    const ClusteredTuningParams defaults;
    return tune(docs, queries, target, defaults);
}

}  // namespace sparsedense
