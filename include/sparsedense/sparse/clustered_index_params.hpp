// sparsedense/sparse/clustered_index_params.hpp
//
// The knobs of ClusteredInvertedIndex (clustered_inverted_index.hpp), the Seismic-style approximate index of
// Bruch, Nardini, Rulli, Venturini, "Efficient Inverted Indexes for Approximate Retrieval over Learned Sparse
// Representations" (SIGIR 2024) with the k-NN graph refinement of "Pairing Clustered Inverted Indexes with
// κ-NN Graphs for Fast Approximate Retrieval over Learned Sparse Representations" (SeismicWave, CIKM 2024).
//   build:  pruning (posting_pruning.hpp) -> clustering (posting_clustering.hpp) -> summaries (block_summaries.hpp),
//           optionally a k-NN graph (clustered_knn_graph.hpp);
//   search: block traversal and document prefetch pipeline (clustered_search.hpp).
// Their effect on recall and latency is measured in docs/sparse.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/value_types.hpp"

namespace sparsedense {

/// How posting lists are pruned before clustering.
enum class PruningStrategy : std::uint8_t {
    fixed_size = 0,        ///< keep each list's `lambda` largest postings
    global_threshold = 1,  ///< keep the lambda x dimension largest postings overall, at most lambda x max_fraction per list
};

/// lambda for a corpus of n documents: 1.3 sqrt(n), at least 32. About 280 for 46k SPLADE documents, 1,300 for 1M and
/// 3,900 for 8.8M, where Seismic's published configurations use 3,500-4,000; on 46k documents 200-300 measure best
/// (docs/sparse.md). ClusteredInvertedIndexBuildParams::lambda = 0 (the default) means this value.
inline std::size_t default_lambda(std::size_t n) {
    return std::max<std::size_t>(32, static_cast<std::size_t>(std::llround(1.3 * std::sqrt(static_cast<double>(n)))));
}

struct ClusteredInvertedIndexBuildParams {
    PruningStrategy pruning = PruningStrategy::fixed_size;
    std::size_t lambda = 0;                               ///< postings kept per list (fixed) / average (global); 0 = default_lambda(documents)
    double max_fraction = 1.5;                            ///< global_threshold: per-list cap = lambda x max_fraction
    double centroid_fraction = 0.3;                       ///< beta = centroid_fraction x list length blocks per list
    double alpha = 0.5;                                   ///< summary keeps the largest coordinates holding alpha of its L1 mass
    std::size_t summary_max_terms = 0;                    ///< and at most this many (0 = no cap; bounds memory on flat data)
    std::size_t min_cluster_size = 2;                     ///< smaller clusters are merged into the others
    std::size_t doc_cut = 15;                             ///< heaviest document terms used to pick a centroid
    WeightPrecision forward_values = WeightPrecision::f16;  ///< forward index precision
    std::size_t knn = 0;                                  ///< neighbours per document in the k-NN graph (0 = no graph)
    std::size_t threads = 0;                              ///< build workers, 0 = all cores
    std::uint64_t seed = 42;                              ///< centroid sampling
    ProgressCallback progress{};                          ///< build progress (core/progress.hpp); empty = silent
};

/// Order in which the blocks of the visited lists are considered.
enum class BlockTraversal : std::uint8_t {
    list_by_list = 0,       ///< Seismic's order: list after list, blocks in stored order
    first_list_sorted = 1,  ///< as list_by_list, but the first (heaviest-term) list best-summary-first
    best_first = 2,         ///< all blocks of all visited lists by decreasing summary score; stops at the first that fails
};

/// Work counters of one search (optional output; see ClusteredInvertedIndexSearchParams::statistics).
struct ClusteredSearchStatistics {
    std::uint64_t lists = 0;             ///< posting lists visited
    std::uint64_t blocks_considered = 0; ///< block summaries scored
    std::uint64_t summary_entries = 0;   ///< summary coordinates read (all entries of the visited lists)
    std::uint64_t blocks_opened = 0;     ///< blocks whose documents were scored
    std::uint64_t documents_scored = 0;  ///< exact document evaluations (each document at most once)
};

struct ClusteredInvertedIndexSearchParams {
    std::size_t query_cut = 8;     ///< query terms (largest weights) whose lists are visited (at most)
    /// Query-term selection by mass: among the query_cut heaviest terms, visit only the heaviest ones whose weights
    /// sum to at least query_mass x the query's total (positive) weight. 1 = always query_cut terms. A peaked query
    /// then visits few lists and a flat one up to query_cut (docs/sparse.md, "High-recall regime").
    double query_mass = 1.0;
    float heap_factor = 0.8f;      ///< open a block when summary score >= heap_factor x k-th best (smaller = more recall)
    std::size_t knn = 0;           ///< graph neighbours of each final hit to score (needs a graph built with knn > 0)
    BlockTraversal traversal = BlockTraversal::best_first;  ///< see BlockTraversal
    ClusteredSearchStatistics* statistics = nullptr;        ///< if set, this search's counters are added to it
    /// Filtered search: when the filter accepts at most this fraction of the documents, the accepted ones are scored
    /// exactly from the forward index (the result then equals brute force on the stored weights) instead of
    /// traversing the blocks. Default chosen on splade-beir (docs/sparse.md, "Filtered search").
    double exact_scan_fraction = 0.02;
};

}  // namespace sparsedense
