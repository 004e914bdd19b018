// sparsedense/sparse/clustered_knn_graph.hpp
//
// The k-NN graph of the clustered index, after SeismicWave (Bruch, Nardini, Rulli, Venturini, "Pairing Clustered
// Inverted Indexes with κ-NN Graphs for Fast Approximate Retrieval over Learned Sparse Representations", CIKM 2024).
// Idea: documents close to a hit tend to be hits too, and the block traversal misses some of them when their
// blocks' summaries underestimate them. So every document keeps its `degree` nearest neighbours (by inner product),
// and a search scores the neighbours of its final hits (ClusteredSearch::refine_with_graph, clustered_search.hpp).
// The graph is built with the index itself: each document, as a query, searches the index for degree + 1 hits
// (a cheap search: its 6 heaviest terms, heap_factor 0.9) and keeps those other than itself. Missing neighbours
// (fewer hits) are stored as 2^32 - 1 and skipped at search time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/sparse/clustered_index_params.hpp"
#include "sparsedense/sparse/compact_forward_index.hpp"

namespace sparsedense::detail {

/// Search parameters of the graph build: a document as query finds its neighbours cheaply through its heaviest terms.
inline ClusteredInvertedIndexSearchParams knn_graph_search_params() {
    ClusteredInvertedIndexSearchParams sp;
    sp.query_cut = 6;
    sp.heap_factor = 0.9f;
    return sp;
}

/// Neighbours of every document (docs x degree, row-major). `search(query, k, out, params)` searches the index.
template <class Search>
std::vector<std::uint32_t> build_knn_graph(const CompactForwardIndex& forward, std::size_t degree, std::size_t threads, Search&& search) {
    const std::size_t n = forward.size();
    std::vector<std::uint32_t> graph(n * degree, std::numeric_limits<std::uint32_t>::max());
    const auto sp = knn_graph_search_params();
    parallel_for(n, threads, 64, [&](std::size_t b, std::size_t e, std::size_t) {
        SearchResults<> hits;
        for (std::size_t d = b; d < e; ++d) {
            const auto v = forward.document(static_cast<std::uint32_t>(d));
            if (v.ids.empty()) continue;
            search(v.view(), degree + 1, hits, sp);
            std::size_t j = 0;
            for (const auto& h : hits)
                if (h.id != d && j < degree) graph[d * degree + j++] = h.id;
        }
    });
    return graph;
}

}  // namespace sparsedense::detail
