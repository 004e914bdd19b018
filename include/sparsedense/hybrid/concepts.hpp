// sparsedense/hybrid/concepts.hpp
//
// What HybridSearcher needs from the indexes it composes, as C++20 concepts (documentation that the compiler
// checks). Any index of this library fits -- InvertedIndex / ClusteredInvertedIndex on the sparse side, FlatIndex /
// IvfPqIndex on the dense side -- and so does any user type with the same member functions:
//   SparseRetriever:  r.search(SparseVectorView<float> query, k) -> SearchResults<> (best first, ids 0..n-1)
//   DenseRetriever:   r.search(std::span<const float> query, k)  -> SearchResults<>
//   SparseScorer / DenseScorer: additionally r.score(query, id) -> float, the *exact* score of document `id`
//     computed from the index's stored data (forward index / stored vectors). This is what lets the searcher give
//     a document found by only one side its true score on the other (MissingScore::exact).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"

namespace sparsedense {

template <class R>
concept SparseRetriever = requires(const R& r, SparseVectorView<float> q, std::size_t k) {
    { r.search(q, k) } -> std::convertible_to<SearchResults<>>;
};

template <class R>
concept DenseRetriever = requires(const R& r, std::span<const float> q, std::size_t k) {
    { r.search(q, k) } -> std::convertible_to<SearchResults<>>;
};

template <class R>
concept SparseScorer = SparseRetriever<R> && requires(const R& r, SparseVectorView<float> q, std::uint32_t id) {
    { r.score(q, id) } -> std::convertible_to<float>;
};

template <class R>
concept DenseScorer = DenseRetriever<R> && requires(const R& r, std::span<const float> q, std::uint32_t id) {
    { r.score(q, id) } -> std::convertible_to<float>;
};

/// Indexes that report how many documents they hold (used to check both sides index the same collection).
template <class R>
concept Sized = requires(const R& r) {
    { r.size() } -> std::convertible_to<std::size_t>;
};

}  // namespace sparsedense
