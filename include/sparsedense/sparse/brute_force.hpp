// sparsedense/sparse/brute_force.hpp
//
// The reference every sparse index is tested against: exact top-k by inner product, computed by merging the query
// with every document of a CSR matrix. A document is a candidate when it shares at least one term with the query
// (the convention of every inverted index: a document with no query term is never returned, so fewer than k hits
// come back when fewer than k documents match). Each score is summed in ascending term-id order, one product at a
// time, which is also the order the exact InvertedIndex uses, so the f32 scores agree bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"

namespace sparsedense {

/// Sequential merge inner product of two sorted sparse vectors; `overlap` tells whether any term matched.
inline float sparse_merge_dot(SparseVectorView<float> a, SparseVectorView<float> b, bool& overlap) noexcept {
    float s = 0.0f;
    bool any = false;
    std::size_t i = 0, j = 0;
    const std::size_t na = a.size(), nb = b.size();
    while (i < na && j < nb) {
        const std::uint32_t x = a.ids[i], y = b.ids[j];
        if (x == y) {
            s += a.values[i] * b.values[j];
            any = true;
            ++i;
            ++j;
        } else if (x < y) {
            ++i;
        } else {
            ++j;
        }
    }
    overlap = any;
    return s;
}

/// Exact top-k of `query` over the rows of `docs` (ids = row numbers), best first, ties by smaller id.
inline SearchResults<> brute_force_search(CsrMatrixView<float> docs, SparseVectorView<float> query, std::size_t k) {
    validate_k(k, "brute_force_search");
    query.validate(docs.cols, -1);
    TopKCollector<> top(k);
    for (std::size_t d = 0; d < docs.rows(); ++d) {
        bool overlap = false;
        const float s = sparse_merge_dot(query, docs.row(d), overlap);
        if (overlap) top.push(static_cast<std::uint32_t>(d), s);
    }
    return top.sorted();
}

}  // namespace sparsedense
