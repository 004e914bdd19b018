// sparsedense/hybrid/hybrid_searcher.hpp
//
// HybridSearcher: one call that searches a sparse index and a dense index over the same documents (ids 0..n-1 on
// both sides) and fuses the two candidate lists (see fusion.hpp). Per query:
//   1. the sparse index returns its top k0_sparse, the dense index its top k0_dense (candidate depth, separate
//      from the final k: deeper lists give fusion more to work with; Pyserini's default 10 is shallow), each run
//      with its own search parameters (params.sparse, params.dense: query_cut, nprobe, ...) and the same filter;
//   2. for convex fusion, documents found by only one side get their exact score on the other side from that
//      index's stored data when the index can prepare a query (PreparedScoring, core/retriever.hpp): the query is
//      prepared once and each missing id scored cheaply -- the default policy;
//   3. the union is fused (convex combination of normalized scores, or RRF) and cut to k.
// Any index of the library fits either side, and so does a user type with the Searchable shape. The searcher holds
// references to the indexes (they must outlive it) and is immutable: concurrent search() calls are safe when the
// indexes' const members are (all of this library's are). search_batch() splits queries over threads (0 = all).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/retriever.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/hybrid/fusion.hpp"

namespace sparsedense {

/// Parameters of one hybrid search: candidate depths, fusion, and each side's own search parameters.
template <class SparseParams, class DenseParams>
struct HybridSearchParams {
    std::size_t k0_sparse = 100;  ///< sparse candidate depth (0 = the final k)
    std::size_t k0_dense = 100;   ///< dense candidate depth (0 = the final k)
    FusionParams fusion{};
    SparseParams sparse{};        ///< passed to the sparse index's search (e.g. ClusteredInvertedIndexSearchParams)
    DenseParams dense{};          ///< passed to the dense index's search (e.g. IvfPqIndexSearchParams)
};

template <SparseSearchable Sparse, DenseSearchable Dense>
class HybridSearcher {
public:
    using params_type = HybridSearchParams<typename Sparse::search_params_type, typename Dense::search_params_type>;
    static constexpr bool can_score_sparse = PreparedScoring<Sparse>;
    static constexpr bool can_score_dense = PreparedScoring<Dense>;

    HybridSearcher(const Sparse& sparse, const Dense& dense, params_type defaults = {})
        : sparse_(&sparse), dense_(&dense), defaults_(std::move(defaults)) {
        defaults_.fusion.validate();
        if constexpr (requires { sparse.size(); dense.size(); }) {
            if (static_cast<std::size_t>(sparse.size()) != static_cast<std::size_t>(dense.size()))
                raise(ErrorKind::dimension_mismatch, "HybridSearcher: the sparse index holds ", sparse.size(), " documents but the dense index ",
                      dense.size(), " (ids must refer to the same documents)");
        }
    }

    [[nodiscard]] const params_type& default_params() const noexcept { return defaults_; }
    [[nodiscard]] const Sparse& sparse_index() const noexcept { return *sparse_; }
    [[nodiscard]] const Dense& dense_index() const noexcept { return *dense_; }

    /// Both candidate lists of one query as a FusionCandidates, exact-filled where the policy asks for it and the
    /// indexes can score. Fuse it with fuse(candidates, params.fusion, k) -- as often as wanted.
    [[nodiscard]] FusionCandidates candidates(SparseVectorView<float> sparse_query, std::span<const float> dense_query, std::size_t k,
                                              const params_type& p, const IdFilter& filter = {}) const {
        validate_k(k, "HybridSearcher::search");
        p.fusion.validate();
        const std::size_t ks = p.k0_sparse ? p.k0_sparse : k, kd = p.k0_dense ? p.k0_dense : k;
        FusionCandidates c = FusionCandidates::from_lists(sparse_->search(sparse_query, ks, p.sparse, filter),
                                                          dense_->search(dense_query, kd, p.dense, filter));
        const bool want_exact = p.fusion.method == FusionMethod::convex &&
                                (p.fusion.missing == MissingScore::automatic || p.fusion.missing == MissingScore::exact);
        if (want_exact) {
            if constexpr (can_score_sparse) {
                if (!c.sparse_filled) {
                    const auto scorer = sparse_->prepare(sparse_query);
                    c.fill_sparse([&](std::uint32_t id) { return scorer(id); });
                }
            }
            if constexpr (can_score_dense) {
                if (!c.dense_filled) {
                    const auto scorer = dense_->prepare(dense_query);
                    c.fill_dense([&](std::uint32_t id) { return scorer(id); });
                }
            }
        }
        return c;
    }

    /// Fused top-k of one query with the default parameters.
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> sparse_query, std::span<const float> dense_query, std::size_t k) const {
        return search(sparse_query, dense_query, k, defaults_);
    }

    /// Fused top-k of one query with the given parameters, among the documents the filter accepts.
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> sparse_query, std::span<const float> dense_query, std::size_t k,
                                         const params_type& p, const IdFilter& filter = {}) const {
        return fuse(candidates(sparse_query, dense_query, k, p, filter), p.fusion, k);
    }

    /// Fused top-k of every query: row i of sparse_queries goes with row i of dense_queries. threads = 0 uses
    /// every hardware thread. Results are identical to calling search() query by query.
    [[nodiscard]] std::vector<SearchResults<>> search_batch(CsrMatrixView<float> sparse_queries, DenseMatrixView<const float> dense_queries,
                                                            std::size_t k, const params_type& p, std::size_t threads = 0,
                                                            const IdFilter& filter = {}) const {
        validate_k(k, "HybridSearcher::search_batch");
        p.fusion.validate();
        if (sparse_queries.rows() != dense_queries.rows)
            raise(ErrorKind::dimension_mismatch, "HybridSearcher::search_batch: ", sparse_queries.rows(), " sparse queries but ",
                  dense_queries.rows, " dense queries");
        std::vector<SearchResults<>> out(dense_queries.rows);
        detail::parallel_for(out.size(), threads, 4, [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t i = begin; i < end; ++i)
                out[i] = search(sparse_queries.row(i), std::span<const float>(dense_queries.row(i)), k, p, filter);
        });
        return out;
    }
    [[nodiscard]] std::vector<SearchResults<>> search_batch(CsrMatrixView<float> sparse_queries, DenseMatrixView<const float> dense_queries,
                                                            std::size_t k) const {
        return search_batch(sparse_queries, dense_queries, k, defaults_);
    }

private:
    const Sparse* sparse_;
    const Dense* dense_;
    params_type defaults_;
};

}  // namespace sparsedense
