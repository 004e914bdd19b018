// sparsedense/sparse/clustered_tuning.hpp
//
// tune(): parameters of the clustered index (clustered_inverted_index.hpp) for a target recall@k, picked on a
// sample of the user's own documents and queries, the way FAISS's auto-tuning (Johnson, Douze, Jégou, "Billion-scale
// similarity search with GPUs", 2017: ParameterSpace::explore, an operating-point frontier) and Seismic's grid
// searches (Bruch et al., SIGIR 2024, section 6) pick theirs.
//
// Idea. The queries are split at random into a tuning and a held-out half; the exact top-k of every query
// comes from the exact index (InvertedIndex, term-at-a-time). The clustered index is built once per lambda of the
// grid (lambda_factors x default_lambda); every (query_cut, query_mass, heap_factor) point is run on the tuning
// half, and the cheapest point whose *conservative* tuning recall reaches the target is chosen. A point's
// conservative recall is the smallest of (recall - `confidence` standard errors) over itself and every point of the
// same build that visits at least as much (larger or equal query_cut and query_mass, smaller or equal heap_factor):
// true recall grows along those directions, so a point whose recall the tuning half overestimates by chance is not
// chosen unless every more generous point agrees. Picking the cheapest of many noisy points otherwise favours the
// ones the tuning half flatters (with a flat one-standard-error margin the held-out recall fell 0.03 short on 200
// generated queries per half; a flat two-standard-error margin overshot 0.90 by 0.037 on splade-beir, at 1.2x the
// latency the target needs). Its recall on the held-out half is measured and reported, never used to choose. When
// no point reaches the target, lambda is raised (x1.5) and the grid is run again, up to max_rebuilds times.
//
// Cost is a work model, not a clock: a point's cost per query is summary_entry_ns x summary entries read +
// document_ns x documents scored + block_ns x block summaries scored (ClusteredSearchStatistics), with constants
// fitted by least squares on 216 splade-beir configurations on this project's machine (5.5% rms error; docs/sparse.md,
// "tune()"). It is deterministic
// (the same sample gives the same answer under any load), and the two terms it weighs, sequential summary bytes
// against random forward-index reads, keep their ratio across x86 servers far better than absolute times do.
//
// Corpus samples. lambda (postings kept per list) must grow with the corpus: the default is
// default_lambda(n) = 1.3 sqrt(n), in clustered_index_params.hpp (about 280 for 46k SPLADE documents, 1,300 for 1M,
// 3,900 for 8.8M, where Seismic's published configurations use 3,500-4,000). When `corpus_size` says the documents
// passed are a sample of a larger corpus, the returned lambda is scaled by sqrt(corpus_size / sample size); the
// search parameters are returned as tuned (they are per-query quantities). Re-run tune() on the full corpus when you
// can.
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

struct ClusteredTuningParams {
    std::size_t k = 10;                  ///< recall@k
    ClusteredInvertedIndexBuildParams build{};  ///< starting build parameters (lambda: see `lambda`)
    std::size_t lambda = 0;              ///< the base lambda (0 = default_lambda(documents)); overrides build.lambda
    std::vector<double> lambda_factors = {0.7, 1.0};  ///< one build per factor x the base lambda (a smaller lambda is cheaper at lower targets)
    std::size_t corpus_size = 0;         ///< the full corpus size when `docs` is a sample (0 = docs is the corpus)
    std::vector<std::size_t> query_cuts = {3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32};
    std::vector<float> heap_factors = {1.2f, 1.1f, 1.0f, 0.95f, 0.9f, 0.85f, 0.8f, 0.75f, 0.7f, 0.65f, 0.6f, 0.55f, 0.5f, 0.45f, 0.4f};
    std::vector<double> query_masses = {1.0, 0.5};  ///< query-term selection by mass (1.0 = fixed cut)
    std::size_t max_rebuilds = 2;        ///< the largest lambda x1.5 per rebuild while no grid point reaches the target
    std::uint64_t seed = 7;              ///< the split of the queries into tuning / held-out halves
    double confidence = 1.0;             ///< standard errors subtracted from each point's tuning recall (see the header comment)
    std::size_t threads = 0;             ///< build and evaluation workers, 0 = all cores
    // the work model (ns per unit; docs/sparse.md). Refitted in session 8 on 216 splade-beir configurations (lambda
    // 200-400, 5.5% rms): a block's own cost vanished into its entries once blocks were scored in one pass.
    double summary_entry_ns = 1.4;
    double document_ns = 78.0;
    double block_ns = 0.0;
};

/// One evaluated grid point (on the tuning half).
struct ClusteredTuningPoint {
    std::size_t lambda = 0, query_cut = 0;
    double query_mass = 1.0;
    float heap_factor = 0;
    double recall = 0;       ///< mean recall@k over the tuning half
    double std_error = 0;    ///< standard error of that mean
    double conservative_recall = 0;  ///< min of recall - confidence x std_error over this and every more generous point
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
    if (tp.query_cuts.empty() || tp.heap_factors.empty() || tp.query_masses.empty() || tp.lambda_factors.empty())
        raise(ErrorKind::invalid_argument, "tune: empty query_cuts, query_masses, heap_factors or lambda_factors grid");
    for (double f : tp.lambda_factors)
        if (!(f > 0.0) || !std::isfinite(f)) raise(ErrorKind::invalid_argument, "tune: lambda factor ", f, " is not a positive number");
    if (!(tp.confidence >= 0.0) || !std::isfinite(tp.confidence))
        raise(ErrorKind::invalid_argument, "tune: confidence must be >= 0, got ", tp.confidence);
    if (tp.corpus_size != 0 && tp.corpus_size < docs.rows())
        raise(ErrorKind::invalid_argument, "tune: corpus_size ", tp.corpus_size, " is smaller than the sample (", docs.rows(), " documents)");
}

/// The grid of one build, every (query_cut, query_mass, heap_factor) in `points` (query_cut and query_mass ascending,
/// heap_factor descending: each step visits more). Sets each point's conservative_recall: the smallest
/// recall - confidence x std_error over the point and every point that visits at least as much.
inline void set_conservative_recall(std::vector<ClusteredTuningPoint>& points, std::size_t cuts, std::size_t masses, std::size_t factors,
                                    double confidence) {
    auto at = [&](std::size_t c, std::size_t m, std::size_t h) -> ClusteredTuningPoint& { return points[(c * masses + m) * factors + h]; };
    for (std::size_t c = cuts; c-- > 0;)
        for (std::size_t m = masses; m-- > 0;)
            for (std::size_t h = factors; h-- > 0;) {
                auto& p = at(c, m, h);
                double r = p.recall - confidence * p.std_error;
                if (c + 1 < cuts) r = std::min(r, at(c + 1, m, h).conservative_recall);
                if (m + 1 < masses) r = std::min(r, at(c, m + 1, h).conservative_recall);
                if (h + 1 < factors) r = std::min(r, at(c, m, h + 1).conservative_recall);
                p.conservative_recall = r;
            }
}

/// A grid axis sorted and without duplicates (ascending, or descending with `descending`).
template <class T>
std::vector<T> sorted_axis(std::vector<T> v, bool descending = false) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (descending) std::reverse(v.begin(), v.end());
    return v;
}

/// The grid's axes, each ordered so that a step along it visits more (heap_factor descending).
struct TuningAxes {
    std::vector<std::size_t> lambdas, cuts;
    std::vector<double> masses;
    std::vector<float> heap_factors;

    TuningAxes(const ClusteredTuningParams& tp, std::size_t documents)
        : cuts(sorted_axis(tp.query_cuts)), masses(sorted_axis(tp.query_masses)), heap_factors(sorted_axis(tp.heap_factors, true)) {
        const std::size_t base = tp.lambda ? tp.lambda : default_lambda(documents);
        for (double f : tp.lambda_factors)
            lambdas.push_back(std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(f * static_cast<double>(base)))));
        lambdas = sorted_axis(lambdas);
    }
};

/// Every (query_cut, query_mass, heap_factor) point of the axes on one built index, evaluated on the tuning rows, with
/// their conservative recall set.
inline std::vector<ClusteredTuningPoint> evaluate_grid(const ClusteredInvertedIndex& index, std::size_t lambda, CsrMatrixView<float> queries,
                                                       const std::vector<std::size_t>& rows, const std::vector<SearchResults<>>& truth,
                                                       const TuningAxes& axes, const ClusteredTuningParams& tp) {
    std::vector<ClusteredTuningPoint> points;
    for (std::size_t qc : axes.cuts)
        for (double qm : axes.masses)
            for (float hf : axes.heap_factors) {
                ClusteredInvertedIndexSearchParams sp;
                sp.knn = tp.build.knn;
                sp.query_cut = qc;
                sp.query_mass = qm;
                sp.heap_factor = hf;
                points.push_back(evaluate_point(index, queries, rows, truth, tp.k, sp, tp));
                points.back().lambda = lambda;
            }
    set_conservative_recall(points, axes.cuts.size(), axes.masses.size(), axes.heap_factors.size(), tp.confidence);
    return points;
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
    const detail::TuningAxes axes(tp, docs.rows());
    ClusteredInvertedIndexBuildParams bp = tp.build;
    bp.threads = tp.threads;
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t chosen = none;  // position in result.grid
    ClusteredInvertedIndex index;  // the build holding the chosen point
    // One build and its grid. Until a point qualifies, the highest-recall point is kept; then the cheapest qualifying.
    auto run_build = [&](std::size_t lambda) {
        bp.lambda = lambda;
        auto built = ClusteredInvertedIndex::build(docs, bp);
        bool improved = false;
        for (const auto& p : detail::evaluate_grid(built, lambda, queries, tuning, tuning_truth, axes, tp)) {
            const bool qualifies = p.conservative_recall >= target;
            result.grid.push_back(p);
            if (result.reached ? (qualifies && p.cost_ns < result.grid[chosen].cost_ns)
                               : (qualifies || chosen == none || p.recall > result.grid[chosen].recall)) {
                chosen = result.grid.size() - 1;
                improved = true;
                result.reached = result.reached || qualifies;
            }
        }
        if (improved) index = std::move(built);
    };
    for (std::size_t lambda : axes.lambdas) run_build(lambda);
    std::size_t larger = axes.lambdas.back();
    for (std::size_t attempt = 0; attempt < tp.max_rebuilds && !result.reached; ++attempt) {
        larger = larger * 3 / 2;
        run_build(larger);
    }
    bp.lambda = result.grid[chosen].lambda;
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
