#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/hybrid/hybrid_searcher.hpp"
#include "sparsedense/simd/sparse_kernels.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

namespace {

struct NoParams {};

/// Brute-force exact sparse retriever over a CSR matrix: every document sharing a term with the query.
struct BruteSparse {
    using query_type = SparseVectorView<float>;
    using id_type = std::uint32_t;
    using search_params_type = NoParams;
    const CsrMatrix<float>* docs;
    [[nodiscard]] std::size_t size() const { return docs->rows(); }
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> q, std::size_t k, const NoParams& = {}, const IdFilter& filter = {}) const {
        TopKCollector<> top(k);
        for (std::size_t d = 0; d < docs->rows(); ++d) {
            const float s = simd::sparse_dot_sparse_reference(q, docs->row(d));
            if (s != 0.0f && filter.accepts(d)) top.push(static_cast<std::uint32_t>(d), s);
        }
        return top.sorted();
    }
    [[nodiscard]] float score(SparseVectorView<float> q, std::uint32_t id) const {
        return simd::sparse_dot_sparse_reference(q, docs->row(id));
    }
    [[nodiscard]] auto prepare(SparseVectorView<float> q) const {
        return [this, q](std::uint32_t id) { return score(q, id); };
    }
};

/// The same without prepare(): the searcher must fall back to the list minimum.
struct SparseNoScore {
    using query_type = SparseVectorView<float>;
    using id_type = std::uint32_t;
    using search_params_type = NoParams;
    BruteSparse inner;
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> q, std::size_t k, const NoParams& p = {}, const IdFilter& f = {}) const {
        return inner.search(q, k, p, f);
    }
};

/// Brute-force dense inner-product retriever.
struct BruteDense {
    using query_type = std::span<const float>;
    using id_type = std::uint32_t;
    using search_params_type = NoParams;
    std::vector<float> data;
    std::size_t dim;
    [[nodiscard]] std::size_t size() const { return data.size() / dim; }
    [[nodiscard]] float score(std::span<const float> q, std::uint32_t id) const {
        double s = 0;
        for (std::size_t j = 0; j < dim; ++j) s += static_cast<double>(q[j]) * data[id * dim + j];
        return static_cast<float>(s);
    }
    [[nodiscard]] auto prepare(std::span<const float> q) const {
        return [this, q](std::uint32_t id) { return score(q, id); };
    }
    [[nodiscard]] SearchResults<> search(std::span<const float> q, std::size_t k, const NoParams& = {}, const IdFilter& filter = {}) const {
        TopKCollector<> top(k);
        for (std::size_t d = 0; d < size(); ++d)
            if (filter.accepts(d)) top.push(static_cast<std::uint32_t>(d), score(q, static_cast<std::uint32_t>(d)));
        return top.sorted();
    }
};

static_assert(SparseSearchable<BruteSparse> && PreparedScoring<BruteSparse>);
static_assert(SparseSearchable<SparseNoScore> && !PreparedScoring<SparseNoScore>);
static_assert(DenseSearchable<BruteDense> && PreparedScoring<BruteDense>);
static_assert(DenseSearchable<FlatIndex> && PreparedScoring<FlatIndex>);
static_assert(DenseSearchable<IvfPqIndex<>> && PreparedScoring<IvfPqIndex<>>);
static_assert(PreparedScoring<InvertedIndex> && PreparedScoring<ClusteredInvertedIndex>);
static_assert(!SparseSearchable<BruteDense> && !DenseSearchable<BruteSparse>);

struct Fixture {
    static constexpr std::size_t n = 300, dim = 16, vocab = 200, nq = 24;
    CsrMatrix<float> docs = testing::random_sparse_rows(n, vocab, 12, 11);
    CsrMatrix<float> queries = testing::random_sparse_rows(nq, vocab, 4, 12);
    std::vector<float> vectors = testing::clustered_vectors(n, dim, 8, 13);
    std::vector<float> qvectors = testing::clustered_vectors(nq, dim, 8, 14);
    BruteSparse sparse{&docs};
    BruteDense dense{vectors, dim};
    [[nodiscard]] std::span<const float> qv(std::size_t i) const { return {qvectors.data() + i * dim, dim}; }
};

}  // namespace

TEST_CASE("hybrid searcher: alpha 0 with exact re-scoring ranks the union by the true dense score", "[hybrid][searcher]") {
    const Fixture f;
    const HybridSearcher searcher(f.sparse, f.dense);
    REQUIRE(searcher.can_score_sparse);
    auto p = searcher.default_params();
    p.k0_sparse = 50;
    p.k0_dense = 5;  // shallow dense list: most candidates come from the sparse side only
    p.fusion = FusionParams::convex(ScoreNormalization::min_max, 0.0);
    for (std::size_t q = 0; q < Fixture::nq; ++q) {
        const auto got = searcher.search(f.queries.row(q), f.qv(q), 10, p);
        // reference: union of both candidate lists, ranked by the exact dense score
        auto s = f.sparse.search(f.queries.row(q), 50);
        const auto d = f.dense.search(f.qv(q), 5);
        s.insert(s.end(), d.begin(), d.end());
        std::vector<std::uint32_t> ids;
        for (const auto& h : s) ids.push_back(h.id);
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        SearchResults<> ref;
        for (auto id : ids) ref.push_back({id, f.dense.score(f.qv(q), id)});
        std::sort(ref.begin(), ref.end(), RanksBefore{});
        ref.resize(std::min<std::size_t>(10, ref.size()));
        REQUIRE(got.size() == ref.size());
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].id == ref[i].id);
    }
}

TEST_CASE("hybrid searcher: alpha 1 follows the sparse list, RRF, list-minimum fallback without score()", "[hybrid][searcher]") {
    const Fixture f;
    const HybridSearcher searcher(f.sparse, f.dense);
    auto p = searcher.default_params();
    p.fusion = FusionParams::convex(ScoreNormalization::z_score, 1.0);
    for (std::size_t q = 0; q < 5; ++q) {
        const auto got = searcher.search(f.queries.row(q), f.qv(q), 10, p);
        const auto s = f.sparse.search(f.queries.row(q), 10);
        for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(got[i].id == s[i].id);
    }
    // RRF through the searcher equals RRF of the two lists
    p.fusion = FusionParams::rrf();
    p.k0_sparse = 20;
    p.k0_dense = 30;
    for (std::size_t q = 0; q < 5; ++q) {
        const auto got = searcher.search(f.queries.row(q), f.qv(q), 10, p);
        const auto ref = fuse(f.sparse.search(f.queries.row(q), 20), f.dense.search(f.qv(q), 30), FusionParams::rrf(), 10);
        REQUIRE(got == ref);
    }
    // a sparse side without score(): automatic -> list minimum on that side; explicit exact -> error
    const SparseNoScore no_score{f.sparse};
    const HybridSearcher fallback(no_score, f.dense);
    REQUIRE_FALSE(fallback.can_score_sparse);
    p.fusion = FusionParams::convex(ScoreNormalization::min_max, 0.5);
    const auto c = fallback.candidates(f.queries.row(0), f.qv(0), 10, p);
    REQUIRE_FALSE(c.sparse_filled);
    REQUIRE(c.dense_filled);
    REQUIRE(fallback.search(f.queries.row(0), f.qv(0), 10, p).size() == 10);
    p.fusion.missing = MissingScore::exact;
    REQUIRE_THROWS_AS(fallback.search(f.queries.row(0), f.qv(0), 10, p), Error);
}

TEST_CASE("hybrid searcher: batch equals single queries with several threads, FlatIndex as the dense side",
          "[hybrid][searcher]") {
    const Fixture f;
    FlatIndex flat(Fixture::dim, Metric::inner_product);
    flat.add(std::span<const float>(f.vectors));
    using Params = HybridSearcher<BruteSparse, FlatIndex>::params_type;
    const HybridSearcher searcher(f.sparse, flat, Params{.k0_sparse = 40, .k0_dense = 40});
    const DenseMatrixView<const float> qm(f.qvectors.data(), Fixture::nq, Fixture::dim);
    for (const auto& fp : {FusionParams::convex(ScoreNormalization::dbsf, 0.3), FusionParams::rrf(),
                           FusionParams::convex(ScoreNormalization::centered_min_max, 0.7, MissingScore::zero)}) {
        const Params p{.k0_sparse = 40, .k0_dense = 40, .fusion = fp};
        const auto batch = searcher.search_batch(f.queries, qm, 10, p, 3);
        REQUIRE(batch.size() == Fixture::nq);
        for (std::size_t q = 0; q < Fixture::nq; ++q) REQUIRE(batch[q] == searcher.search(f.queries.row(q), f.qv(q), 10, p));
    }
    // k0 = 0 means "the final k"
    const auto c = searcher.candidates(f.queries.row(0), f.qv(0), 7, Params{.k0_sparse = 0, .k0_dense = 0});
    REQUIRE(c.size() <= 14);
    // mismatched collections and batch sizes are errors
    FlatIndex small(Fixture::dim, Metric::inner_product);
    small.add(std::span<const float>(f.vectors.data(), Fixture::dim * 10));
    REQUIRE_THROWS_AS(HybridSearcher(f.sparse, small), Error);
    REQUIRE_THROWS_AS(searcher.search_batch(f.queries, qm.slice(0, 3), 10), Error);
    REQUIRE_THROWS_AS(searcher.search(f.queries.row(0), f.qv(0), 0), Error);
}

TEST_CASE("hybrid searcher over an approximate dense index (IVF-PQ): missing dense scores are its exact stored-vector scores",
          "[hybrid][searcher]") {
    const Fixture f;
    IvfPqIndexBuildParams ip;
    ip.nlist = 8;
    ip.m = 4;
    ip.nbits = 4;
    ip.refine_encoding = VectorEncoding::f32;
    ip.threads = 1;
    IvfPqIndex<> ivf(Fixture::dim, Metric::inner_product, ip);
    const DenseMatrixView<const float> base(f.vectors.data(), Fixture::n, Fixture::dim);
    ivf.train(base);
    ivf.add(base);
    const HybridSearcher searcher(f.sparse, ivf);
    const HybridSearcher<BruteSparse, IvfPqIndex<>>::params_type p{.k0_sparse = 50, .k0_dense = 10,
                                                                   .fusion = FusionParams::convex(ScoreNormalization::min_max, 0.5)};
    for (std::size_t q = 0; q < 5; ++q) {
        const auto c = searcher.candidates(f.queries.row(q), f.qv(q), 10, p);
        REQUIRE(c.sparse_filled);
        REQUIRE(c.dense_filled);
        for (std::size_t i = 0; i < c.size(); ++i)
            if (c.dense_rank[i] == 0) REQUIRE(c.dense_score[i] == ivf.score(f.qv(q), c.ids[i]));
        REQUIRE(searcher.search(f.queries.row(q), f.qv(q), 10, p).size() == 10);
    }
}

TEST_CASE("hybrid searcher over the library's sparse indexes: exact InvertedIndex equals brute force, clustered index composes",
          "[hybrid][searcher]") {
    const Fixture f;
    FlatIndex flat(Fixture::dim, Metric::inner_product);
    flat.add(std::span<const float>(f.vectors));
    const auto exact = InvertedIndex::build(f.docs);
    const FusionParams fp = FusionParams::convex(ScoreNormalization::z_score, 0.6);
    const HybridSearcher with_index(exact, flat, {.k0_sparse = 30, .k0_dense = 30, .fusion = fp});
    const HybridSearcher with_brute(f.sparse, flat, {.k0_sparse = 30, .k0_dense = 30, .fusion = fp});
    for (std::size_t q = 0; q < Fixture::nq; ++q) {
        const auto a = with_index.search(f.queries.row(q), f.qv(q), 10);
        const auto b = with_brute.search(f.queries.row(q), f.qv(q), 10);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            REQUIRE(a[i].id == b[i].id);
            REQUIRE(a[i].score == Approx(b[i].score).margin(1e-5));
        }
    }
    ClusteredInvertedIndexBuildParams cp;
    cp.forward_values = WeightPrecision::f32;
    cp.threads = 1;
    const auto clustered = ClusteredInvertedIndex::build(f.docs, cp);
    const HybridSearcher approx(clustered, flat, {.k0_sparse = 30, .k0_dense = 30, .fusion = fp});
    for (std::size_t q = 0; q < 5; ++q) {
        const auto c = approx.candidates(f.queries.row(q), f.qv(q), 10, approx.default_params());
        REQUIRE(c.sparse_filled);
        for (std::size_t i = 0; i < c.size(); ++i)
            if (c.sparse_rank[i] == 0) REQUIRE(c.sparse_score[i] == Approx(f.sparse.score(f.queries.row(q), c.ids[i])).margin(1e-5));
        REQUIRE(approx.search(f.queries.row(q), f.qv(q), 10).size() == 10);
    }
}

namespace {
/// The ids of one side's list inside the candidates, in that side's rank order.
std::vector<std::uint32_t> side_ids(const FusionCandidates& c, bool sparse) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranked;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const std::uint32_t r = sparse ? c.sparse_rank[i] : c.dense_rank[i];
        if (r) ranked.emplace_back(r, c.ids[i]);
    }
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::uint32_t> ids;
    for (const auto& [r, id] : ranked) ids.push_back(id);
    return ids;
}
template <class Id>
std::vector<std::uint32_t> ids_of(const SearchResults<Id>& r) {
    std::vector<std::uint32_t> ids;
    for (const auto& h : r) ids.push_back(static_cast<std::uint32_t>(h.id));
    return ids;
}
}  // namespace

TEST_CASE("hybrid searcher: each side's search parameters (query_cut, nprobe) and the filter reach the indexes", "[hybrid][searcher][filter]") {
    const Fixture f;
    ClusteredInvertedIndexBuildParams cp;
    cp.forward_values = WeightPrecision::f32;
    cp.lambda = 60;
    cp.threads = 1;
    const auto clustered = ClusteredInvertedIndex::build(f.docs, cp);
    IvfPqIndexBuildParams ip;
    ip.nlist = 16;
    ip.m = 4;
    ip.refine_encoding = VectorEncoding::f32;
    ip.threads = 1;
    IvfPqIndex<> ivf(Fixture::dim, Metric::inner_product, ip);
    const DenseMatrixView<const float> base(f.vectors.data(), Fixture::n, Fixture::dim);
    ivf.train(base);
    ivf.add(base);
    const HybridSearcher searcher(clustered, ivf);
    auto narrow = searcher.default_params();
    narrow.k0_sparse = narrow.k0_dense = 20;
    narrow.sparse.query_cut = 1;
    narrow.sparse.heap_factor = 1.0f;
    narrow.dense.nprobe = 1;
    narrow.dense.refine_factor = 1;
    auto wide = narrow;
    wide.sparse.query_cut = 20;
    wide.sparse.heap_factor = 0.1f;
    wide.dense.nprobe = 16;
    std::size_t sparse_differs = 0, dense_differs = 0;
    for (std::size_t q = 0; q < Fixture::nq; ++q) {
        const auto sq = f.queries.row(q);
        for (const auto* p : {&narrow, &wide}) {
            const auto c = searcher.candidates(sq, f.qv(q), 10, *p);
            REQUIRE(side_ids(c, true) == ids_of(clustered.search(sq, 20, p->sparse)));
            REQUIRE(side_ids(c, false) == ids_of(ivf.search(f.qv(q), 20, p->dense)));
        }
        sparse_differs += ids_of(clustered.search(sq, 20, narrow.sparse)) != ids_of(clustered.search(sq, 20, wide.sparse));
        dense_differs += ids_of(ivf.search(f.qv(q), 20, narrow.dense)) != ids_of(ivf.search(f.qv(q), 20, wide.dense));
    }
    CHECK(sparse_differs > 0);  // the parameters really change what each side returns
    CHECK(dense_differs > 0);
    // a filter reaches both sides: every fused hit is accepted, and both lists equal the filtered side searches
    IdBitset even(Fixture::n);
    for (std::size_t i = 0; i < Fixture::n; i += 2) even.set(i);
    for (std::size_t q = 0; q < 5; ++q) {
        const auto c = searcher.candidates(f.queries.row(q), f.qv(q), 10, wide, even);
        for (const auto id : c.ids) REQUIRE(id % 2 == 0);
        REQUIRE(side_ids(c, true) == ids_of(clustered.search(f.queries.row(q), 20, wide.sparse, even)));
        REQUIRE(side_ids(c, false) == ids_of(ivf.search(f.qv(q), 20, wide.dense, even)));
        for (const auto& hit : searcher.search(f.queries.row(q), f.qv(q), 10, wide, even)) REQUIRE(hit.id % 2 == 0);
    }
}
