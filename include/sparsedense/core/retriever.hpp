// sparsedense/core/retriever.hpp
//
// The one shape every index of the library has, as C++20 concepts that user types can satisfy too (docs/api.md).
//
//   index.size(), index.dimension()
//   index.search(query, k, params = {}, filter = {})            -> SearchResults<id_type>, best first
//   index.search_into(query, k, out, params = {}, filter = {})  the same into `out` (no allocation once warm)
//   index.search_batch(queries, k, params = {}, threads = 0, filter = {})   one result list per query, in order;
//                                                               threads = 0 means every hardware thread
//   index.save(path)                                            written atomically
//   Index::load(path)                                           validated, memory-mapped without copying
//   index.prepare(query)                                        a scorer: scorer(id) is the exact score of id
//
// with the nested types query_type (SparseVectorView<float> or std::span<const float>), batch_type (CsrMatrixView<float>
// or DenseMatrixView<const float>), id_type, build_params_type (<Index>BuildParams) and search_params_type
// (<Index>SearchParams). The prepared scorer is FAISS's DistanceComputer idea: the query is validated and turned
// into whatever form scores fastest (scattered, rotated, normalized) once, then many ids are scored cheaply; the
// hybrid searcher's exact fill uses it.
//
// Searchable is the part HybridSearcher needs (a user type with search(query, k, params, filter) fits it);
// Retriever is the whole shape, which tests/hybrid/retriever_shape.cpp checks for every index of the library.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"

namespace sparsedense {

/// A prepared query: scorer(id) returns the exact score of document `id` (the index's stored data).
template <class S, class Id>
concept PreparedScorer = requires(const S& s, Id id) {
    { s(id) } -> std::convertible_to<float>;
};

/// What a search needs: search(query, k, params, filter) -> SearchResults<id_type>.
template <class R>
concept Searchable = requires(const R& r, const typename R::query_type& q, std::size_t k, const typename R::search_params_type& p,
                              const IdFilter& f) {
    typename R::id_type;
    { r.search(q, k, p, f) } -> std::convertible_to<SearchResults<typename R::id_type>>;
};

/// A Searchable that can also prepare a query for exact scoring of given ids.
template <class R>
concept PreparedScoring = Searchable<R> && requires(const R& r, const typename R::query_type& q) {
    { r.prepare(q) } -> PreparedScorer<typename R::id_type>;
};

/// The whole retriever shape (see the top of this header).
template <class R>
concept Retriever = PreparedScoring<R> &&
    requires(const R& r, const typename R::query_type& q, const typename R::batch_type& qs, std::size_t k,
             const typename R::search_params_type& p, const IdFilter& f, SearchResults<typename R::id_type>& out, const std::string& path) {
        typename R::build_params_type;
        { r.size() } -> std::convertible_to<std::size_t>;
        { r.dimension() } -> std::convertible_to<std::size_t>;
        { r.search(q, k) } -> std::same_as<SearchResults<typename R::id_type>>;
        { r.search(q, k, p) } -> std::same_as<SearchResults<typename R::id_type>>;
        { r.search(q, k, p, f) } -> std::same_as<SearchResults<typename R::id_type>>;
        r.search_into(q, k, out, p, f);
        { r.search_batch(qs, k) } -> std::same_as<std::vector<SearchResults<typename R::id_type>>>;
        { r.search_batch(qs, k, p, std::size_t{0}, f) } -> std::same_as<std::vector<SearchResults<typename R::id_type>>>;
        r.save(path);
        { R::load(path) } -> std::same_as<R>;
    };

/// Retrievers over learned-sparse vectors and over dense vectors.
template <class R>
concept SparseSearchable = Searchable<R> && std::same_as<typename R::query_type, SparseVectorView<float>>;
template <class R>
concept DenseSearchable = Searchable<R> && std::same_as<typename R::query_type, std::span<const float>>;

}  // namespace sparsedense
