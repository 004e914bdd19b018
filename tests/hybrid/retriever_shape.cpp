// One generic function over every index of the library through the Retriever concept (core/retriever.hpp):
// search, search_into, search_batch, filtered search, prepared scoring, save and load -- the same code for all four.
#include <catch2/catch.hpp>

#include <type_traits>
#include <utility>
#include <vector>

#include "sparsedense/core/retriever.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/filter_support.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

static_assert(Retriever<InvertedIndex> && Retriever<ClusteredInvertedIndex> && Retriever<FlatIndex> && Retriever<IvfPqIndex<>>);
static_assert(Retriever<IvfPqIndex<std::uint64_t>> && Retriever<HnswIndex>);

namespace {

template <class Results>
bool best_first(const Results& r) {
    for (std::size_t i = 1; i < r.size(); ++i)
        if (ranks_before(r[i], r[i - 1])) return false;
    return true;
}

/// Exercises the whole shape on `index`. `exact_top_k(query_row, k, filter)` is the brute-force answer; the
/// search must equal it when `exact` (for approximate indexes: when the filter plan is the exact scan).
template <Retriever R, class ExactTopK>
void exercise(const R& index, const typename R::batch_type& queries, std::size_t nq, bool exact, ExactTopK&& exact_top_k) {
    using Params = typename R::search_params_type;
    const std::size_t k = 10;
    auto query = [&](std::size_t i) -> typename R::query_type { return queries.row(i); };
    // search, search_into, search_batch agree; results are best first
    const auto batch = index.search_batch(queries, k);
    const auto batch1 = index.search_batch(queries, k, Params{}, 1);
    REQUIRE(batch.size() == nq);
    SearchResults<typename R::id_type> into;
    for (std::size_t i = 0; i < nq; ++i) {
        const auto hits = index.search(query(i), k);
        REQUIRE(hits.size() <= k);
        REQUIRE(best_first(hits));
        REQUIRE(batch[i] == hits);
        REQUIRE(batch1[i] == hits);
        index.search_into(query(i), k, into);
        REQUIRE(into == hits);
        if (exact) REQUIRE(hits == exact_top_k(i, k, IdFilter{}));
        // the prepared scorer gives every hit its reported score
        const auto scorer = index.prepare(query(i));
        for (const auto& h : hits) REQUIRE(scorer(h.id) == Approx(h.score).epsilon(1e-5).margin(1e-5));
        // copies and moves of a scorer whose original is gone score alike (a scorer may point into its own query)
        using Scorer = std::remove_cvref_t<decltype(scorer)>;
        if constexpr (std::is_copy_constructible_v<Scorer>) {
            std::vector<Scorer> kept;
            {
                Scorer original = index.prepare(query(i));
                kept.push_back(original);
                kept.push_back(std::move(original));
            }
            kept.reserve(kept.capacity() + 8);  // the vector moves them again
            for (const auto& s : kept)
                for (const auto& h : hits) REQUIRE(s(h.id) == scorer(h.id));
        }
    }
    // filtered: every hit accepted; exact (or exact-scan plan) equals the filtered brute force
    for (double fraction : sparsedense::testing::filter_selectivities()) {
        const IdBitset bits = sparsedense::testing::random_id_bitset(index.size(), fraction, 99);
        Params p{};
        if constexpr (requires { p.exact_scan_fraction; }) p.exact_scan_fraction = 1.0;  // force the exact plan
        const bool exact_plan = exact || requires { p.exact_scan_fraction; };
        const auto filtered = index.search_batch(queries, k, p, 0, bits);
        for (std::size_t i = 0; i < nq; ++i) {
            for (const auto& h : filtered[i]) REQUIRE(bits.test(h.id));
            REQUIRE(filtered[i] == index.search(query(i), k, p, bits));
            if (exact_plan) {
                const auto want = exact_top_k(i, k, IdFilter(bits));
                REQUIRE(filtered[i].size() == want.size());
                for (std::size_t r = 0; r < want.size(); ++r) {
                    REQUIRE(filtered[i][r].id == want[r].id);
                    REQUIRE(filtered[i][r].score == Approx(want[r].score).epsilon(1e-5).margin(1e-5));
                }
            }
        }
    }
    // save and load (memory-mapped) answer the same
    sparsedense::testing::TempDir dir;
    index.save(dir.file("index.sdx"));
    const R loaded = R::load(dir.file("index.sdx"));
    REQUIRE(loaded.size() == index.size());
    REQUIRE(loaded.dimension() == index.dimension());
    for (std::size_t i = 0; i < nq; ++i) REQUIRE(loaded.search(query(i), k) == index.search(query(i), k));
}

}  // namespace

TEST_CASE("retriever shape: the sparse indexes through one generic function", "[core][retriever][sparse]") {
    const auto docs = sparsedense::testing::random_sparse_rows(1200, 300, 20, 3);
    const auto queries = sparsedense::testing::random_sparse_rows(12, 300, 6, 4);
    // brute force on the stored (f32) weights, filtered
    auto brute = [&](std::size_t i, std::size_t k, const IdFilter& filter) {
        return sparsedense::testing::filtered_top_k(brute_force_search(docs, queries.row(i), docs.rows()), filter, k);
    };
    exercise(InvertedIndex::build(docs), queries.view(), queries.rows(), true, brute);
    ClusteredInvertedIndexBuildParams cp;
    cp.forward_values = WeightPrecision::f32;
    cp.threads = 1;
    exercise(ClusteredInvertedIndex::build(docs, cp), queries.view(), queries.rows(), false, brute);
}

TEST_CASE("retriever shape: the dense indexes (flat, IVF-PQ, HNSW) through one generic function", "[core][retriever][dense]") {
    const std::size_t n = 2000, d = 16, nq = 12;
    const auto base = sparsedense::testing::clustered_vectors(n, d, 20, 5);
    const auto qs = sparsedense::testing::clustered_vectors(nq, d, 20, 6);
    const DenseMatrixView<const float> base_view(base.data(), n, d), queries(qs.data(), nq, d);
    const FlatIndex flat = FlatIndex::build(base_view, Metric::inner_product);
    auto brute = [&](std::size_t i, std::size_t k, const IdFilter& filter) {
        return sparsedense::testing::filtered_top_k(flat.search(queries.row(i), n), filter, k);
    };
    exercise(flat, queries, nq, true, brute);
    IvfPqIndexBuildParams ip;
    ip.nlist = 16;
    ip.m = 8;
    ip.refine_encoding = VectorEncoding::f32;
    ip.threads = 1;
    exercise(IvfPqIndex<>::build(base_view, Metric::inner_product, ip), queries, nq, false, brute);
    exercise(HnswIndex::build(base_view, Metric::inner_product, {.M = 8, .ef_construction = 64, .threads = 1}), queries, nq, false, brute);
    // quantized payloads, whose prepared queries carry integer codes: the flat int8 index is exact on its own rows
    const FlatIndex flat8 = FlatIndex::build(base_view, Metric::l2, FlatIndexBuildParams{VectorEncoding::int8_per_dimension});
    auto brute8 = [&](std::size_t i, std::size_t k, const IdFilter& filter) {
        return sparsedense::testing::filtered_top_k(flat8.search(queries.row(i), n), filter, k);
    };
    exercise(flat8, queries, nq, false, brute8);
    // the int4 HNSW without a copy scores from its int4 rows, as a flat int4 index over the same batch does
    const FlatIndex flat4 = FlatIndex::build(base_view, Metric::l2, FlatIndexBuildParams{VectorEncoding::int4_per_dimension});
    auto brute4 = [&](std::size_t i, std::size_t k, const IdFilter& filter) {
        return sparsedense::testing::filtered_top_k(flat4.search(queries.row(i), n), filter, k);
    };
    exercise(HnswIndex::build(base_view, Metric::l2,
                              {.M = 8, .ef_construction = 64, .storage = VectorEncoding::int4_per_dimension, .keep_f32 = false, .threads = 1}),
             queries, nq, false, brute4);
}
