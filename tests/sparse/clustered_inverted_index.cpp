// Clustered (Seismic-style) index: recall on random data, exact fallback, parameters, bad input, real data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;

namespace {

double recall_at(const std::vector<SearchResults<>>& got, const std::vector<SearchResults<>>& truth) {
    double hits = 0, total = 0;
    for (std::size_t q = 0; q < truth.size(); ++q) {
        std::set<std::uint32_t> t;
        for (const auto& h : truth[q]) t.insert(h.id);
        for (const auto& h : got[q]) hits += static_cast<double>(t.count(h.id));
        total += static_cast<double>(truth[q].size());
    }
    return total > 0 ? hits / total : 1.0;
}

}  // namespace

TEST_CASE("clustered index: generous parameters give high recall, exact fallback equals brute force", "[sparse][clustered]") {
    const auto docs = random_sparse_rows(4000, 1000, 30, 61);
    const auto queries = random_sparse_rows(50, 1000, 12, 62);
    for (auto fv : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8}) {
        ClusteredInvertedIndexBuildParams params;
        params.lambda = 400;
        params.centroid_fraction = 0.1;
        params.alpha = 0.5;
        params.forward_values = fv;
        params.threads = 2;
        const auto index = ClusteredInvertedIndex::build(docs, params);
        REQUIRE(index.size() == 4000);
        REQUIRE(index.dimension() == 1000);
        REQUIRE(index.block_count() > 0);
        std::vector<SearchResults<>> truth, got;
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = 12;
        sp.heap_factor = 0.5f;
        for (std::size_t q = 0; q < queries.rows(); ++q) {
            truth.push_back(brute_force_search(docs, queries.row(q), 10));
            got.push_back(index.search(queries.row(q), 10, sp));
            for (std::size_t i = 1; i < got.back().size(); ++i) REQUIRE(!ranks_before(got.back()[i], got.back()[i - 1]));
            const auto exact = index.search_exact(queries.row(q), 10);
            if (fv == WeightPrecision::f32) {
                sparse_test::require_same_results(exact, truth.back(), 0.0);
            } else {
                REQUIRE(exact.size() == truth.back().size());
                for (const auto& h : exact) REQUIRE(index.score(queries.row(q), h.id) == Approx(h.score).epsilon(1e-4).margin(1e-4));
            }
        }
        INFO("forward values " << weight_precision_name(fv));
        CHECK(recall_at(got, truth) >= (fv == WeightPrecision::u8 ? 0.9 : 0.95));
        // every returned score is the stored-weight inner product
        for (std::size_t q = 0; q < 5; ++q)
            for (const auto& h : got[q]) REQUIRE(index.score(queries.row(q), h.id) == Approx(h.score).epsilon(1e-4).margin(1e-5));
    }
}

TEST_CASE("clustered index: lambda >= list lengths and heap_factor 0 make every block traversal exact, counters add up", "[sparse][clustered]") {
    const auto docs = random_sparse_rows(1500, 300, 20, 73);
    const auto queries = random_sparse_rows(30, 300, 8, 74);
    ClusteredInvertedIndexBuildParams params;
    params.lambda = 100000;
    params.forward_values = WeightPrecision::f32;
    const auto index = ClusteredInvertedIndex::build(docs, params);
    REQUIRE(index.posting_count() == docs.nnz());
    for (auto traversal : {BlockTraversal::best_first, BlockTraversal::first_list_sorted, BlockTraversal::list_by_list}) {
        INFO("traversal " << static_cast<int>(traversal));
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = 1000;
        sp.heap_factor = 0.0f;
        sp.traversal = traversal;
        for (std::size_t q = 0; q < queries.rows(); ++q) {
            ClusteredSearchStatistics stats;
            ClusteredInvertedIndexSearchParams counted = sp;
            counted.statistics = &stats;
            const auto got = index.search(queries.row(q), 10, counted);
            sparse_test::require_same_results(got, brute_force_search(docs, queries.row(q), 10), 1e-5);
            // heap_factor 0 opens every block of every list of a query term: each document sharing a term is
            // scored exactly once, however many of the query's lists hold it
            std::set<std::uint32_t> sharing;
            const auto query = queries.row(q);
            for (std::size_t d = 0; d < docs.rows(); ++d) {
                const auto row = docs.row(d);
                for (std::size_t i = 0; i < row.size(); ++i)
                    if (std::binary_search(query.ids.begin(), query.ids.end(), row.ids[i])) sharing.insert(static_cast<std::uint32_t>(d));
            }
            REQUIRE(stats.documents_scored == sharing.size());
            REQUIRE(stats.lists == query.size());
            REQUIRE(stats.blocks_opened == stats.blocks_considered);
            REQUIRE(stats.summary_entries > 0);
        }
    }
}

TEST_CASE("clustered index: best-first traversal scores fewer documents than list order at equal heap factor", "[sparse][clustered]") {
    const auto docs = sparsedense::testing::random_sparse_rows(6000, 2000, 40, 75);
    const auto queries = sparsedense::testing::random_sparse_rows(60, 2000, 15, 76);
    ClusteredInvertedIndexBuildParams params;
    params.lambda = 300;
    const auto index = ClusteredInvertedIndex::build(docs, params);
    ClusteredSearchStatistics best_first, list_order;
    std::vector<SearchResults<>> truth, got_best_first, got_list_order;
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = 8;
        sp.heap_factor = 0.9f;
        sp.statistics = &best_first;
        got_best_first.push_back(index.search(queries.row(q), 10, sp));
        sp.traversal = BlockTraversal::list_by_list;
        sp.statistics = &list_order;
        got_list_order.push_back(index.search(queries.row(q), 10, sp));
        truth.push_back(brute_force_search(docs, queries.row(q), 10));
    }
    REQUIRE(best_first.blocks_considered == list_order.blocks_considered);
    CHECK(best_first.documents_scored < list_order.documents_scored);
    CHECK(recall_at(got_best_first, truth) >= recall_at(got_list_order, truth) - 0.05);
}

TEST_CASE("clustered index: global-threshold pruning, knn graph, batch search", "[sparse][clustered]") {
    const auto docs = random_sparse_rows(3000, 800, 25, 81);
    const auto queries = random_sparse_rows(40, 800, 10, 82);
    ClusteredInvertedIndexBuildParams params;
    params.pruning = PruningStrategy::global_threshold;
    params.lambda = 80;
    params.max_fraction = 2.0;
    params.knn = 8;
    params.threads = 2;
    const auto index = ClusteredInvertedIndex::build(docs, params);
    REQUIRE(index.posting_count() <= 80 * 800);
    REQUIRE(index.knn_degree() == 8);
    REQUIRE(index.neighbours(5).size() == 8);
    // per-list cap
    ClusteredInvertedIndexSearchParams sp;
    sp.query_cut = 4;
    sp.heap_factor = 1.0f;
    std::vector<SearchResults<>> truth, plain, refined;
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        truth.push_back(brute_force_search(docs, queries.row(q), 10));
        plain.push_back(index.search(queries.row(q), 10, sp));
        ClusteredInvertedIndexSearchParams with_graph = sp;
        with_graph.knn = 8;
        refined.push_back(index.search(queries.row(q), 10, with_graph));
    }
    CHECK(recall_at(refined, truth) >= recall_at(plain, truth));
    // summary cap
    ClusteredInvertedIndexBuildParams capped;
    capped.summary_max_terms = 3;
    capped.alpha = 1.0;
    const auto small = ClusteredInvertedIndex::build(docs, capped);
    REQUIRE(small.summary_entries() <= 3 * small.block_count());
    REQUIRE(small.summary_entries() >= small.block_count());
    const auto batch = index.search_batch(queries, 10, sp, 2);
    REQUIRE(batch.size() == queries.rows());
    for (std::size_t q = 0; q < queries.rows(); ++q) REQUIRE(batch[q] == plain[q]);
}

TEST_CASE("clustered index: bad input throws Error and leaves the index usable", "[sparse][clustered][errors]") {
    const auto docs = random_sparse_rows(500, 100, 10, 91);
    const auto index = ClusteredInvertedIndex::build(docs);
    const std::uint32_t good_ids[] = {1, 5, 9};
    const float good_values[] = {0.5f, 1.0f, 2.0f};
    const SparseVectorView<float> good{good_ids, good_values};
    const auto before = index.search(good, 5);
    sparse_test::require_bad_queries_rejected([&](SparseVectorView<float> q, std::size_t k) { (void)index.search(q, k); }, 100);
    REQUIRE_THROWS_AS(index.search_exact(good, 0), Error);
    ClusteredInvertedIndexSearchParams bad;
    bad.query_cut = 0;
    REQUIRE_THROWS_AS(index.search(good, 5, bad), Error);
    bad.query_cut = 5;
    bad.heap_factor = std::nanf("");
    REQUIRE_THROWS_AS(index.search(good, 5, bad), Error);
    bad.heap_factor = 1.0f;
    bad.traversal = static_cast<BlockTraversal>(7);
    REQUIRE_THROWS_AS(index.search(good, 5, bad), Error);
    REQUIRE_THROWS_AS(index.score(good, 500), Error);
    CsrMatrix<float> wrong_dim(7);
    REQUIRE_THROWS_AS(index.search_batch(wrong_dim, 5), Error);
    ClusteredInvertedIndexBuildParams bp;
    bp.centroid_fraction = 0.0;
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::build(docs, bp), Error);
    bp = {};
    bp.alpha = 1.5;
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::build(docs, bp), Error);
    REQUIRE(index.search(good, 5) == before);
}

TEST_CASE("clustered index: lambda 0 (the default) builds with default_lambda(documents)", "[sparse][clustered]") {
    REQUIRE(default_lambda(46282) == 280);
    REQUIRE(default_lambda(1000000) == 1300);
    REQUIRE(default_lambda(100) == 32);  // the floor
    const auto docs = random_sparse_rows(3000, 800, 25, 93);
    const auto queries = random_sparse_rows(20, 800, 10, 94);
    ClusteredInvertedIndexBuildParams explicit_params;
    explicit_params.lambda = default_lambda(docs.rows());
    REQUIRE(explicit_params.lambda == 71);  // 1.3 sqrt(3000)
    const auto by_default = ClusteredInvertedIndex::build(docs);
    const auto by_value = ClusteredInvertedIndex::build(docs, explicit_params);
    REQUIRE(ClusteredInvertedIndexBuildParams{}.lambda == 0);
    REQUIRE(by_default.build_params().lambda == 71);
    REQUIRE(by_default.memory_bytes() == by_value.memory_bytes());
    for (std::size_t q = 0; q < queries.rows(); ++q) REQUIRE(by_default.search(queries.row(q), 10) == by_value.search(queries.row(q), 10));
    explicit_params.lambda = 500;  // another lambda gives another index (the comparison above can fail)
    REQUIRE(ClusteredInvertedIndex::build(docs, explicit_params).memory_bytes() != by_default.memory_bytes());
}

TEST_CASE("clustered index: vocabulary beyond 65,536 terms (u32 forward ids)", "[sparse][clustered]") {
    auto docs = random_sparse_rows(800, 200000, 20, 101, false);
    const auto index = ClusteredInvertedIndex::build(docs);
    REQUIRE(index.dimension() == 200000);
    REQUIRE(index.forward_index().layout().wide_ids);
    const auto queries = random_sparse_rows(10, 200000, 30, 102, false);
    ClusteredInvertedIndexBuildParams exact_params;
    exact_params.forward_values = WeightPrecision::f32;
    const auto exact_index = ClusteredInvertedIndex::build(docs, exact_params);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        sparse_test::require_same_results(exact_index.search_exact(queries.row(q), 5), brute_force_search(docs, queries.row(q), 5), 0.0);
        const auto doc = index.document(3);
        REQUIRE(doc.ids == std::vector<std::uint32_t>(docs.row(3).ids.begin(), docs.row(3).ids.end()));
    }
    // u32 summary components: heap_factor 0 with every list and unpruned lists is exact, also after a file round trip
    ClusteredInvertedIndexBuildParams unpruned = exact_params;
    unpruned.lambda = 100000;
    const auto full = ClusteredInvertedIndex::build(docs, unpruned);
    REQUIRE(full.summary_entries() > 0);
    sparsedense::testing::TempDir dir;
    full.save(dir.file("wide.sdx"));
    const auto loaded = ClusteredInvertedIndex::load(dir.file("wide.sdx"));
    ClusteredInvertedIndexSearchParams all;
    all.query_cut = 1000;
    all.heap_factor = 0.0f;
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        const auto truth = brute_force_search(docs, queries.row(q), 5);
        sparse_test::require_same_results(full.search(queries.row(q), 5, all), truth, 1e-5);
        REQUIRE(loaded.search(queries.row(q), 5, all) == full.search(queries.row(q), 5, all));
    }
}

TEST_CASE("clustered index: real SPLADE vectors (splade-beir) reach high recall", "[sparse][clustered][data]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(corpus_path, "splade-beir/corpus.csr");
    SPARSEDENSE_REQUIRE_SHARED_DATA(queries_path, "splade-beir/queries.csr");
    const auto corpus = sparse_test::read_csr(corpus_path);
    const auto queries = sparse_test::read_csr(queries_path);
    ClusteredInvertedIndexBuildParams params;
    params.threads = 2;
    const auto index = ClusteredInvertedIndex::build(corpus, params);
    const auto exact = InvertedIndex::build(corpus);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const std::size_t nq = 20;
#else
    const std::size_t nq = 100;
#endif
    std::vector<SearchResults<>> truth, got;
    ClusteredInvertedIndexSearchParams sp;
    sp.query_cut = 10;
    sp.heap_factor = 0.8f;
    for (std::size_t q = 0; q < nq; ++q) {
        truth.push_back(exact.search(queries.row(q * 9), 10));
        got.push_back(index.search(queries.row(q * 9), 10, sp));
    }
    CHECK(recall_at(got, truth) >= 0.95);
}

TEST_CASE("clustered index: every SIMD level finds the same documents", "[sparse][clustered][simd]") {
    const auto docs = random_sparse_rows(3000, 600, 25, 131);
    const auto queries = random_sparse_rows(40, 600, 10, 132);
    for (auto fv : {WeightPrecision::f16, WeightPrecision::u8}) {
        ClusteredInvertedIndexBuildParams params;
        params.forward_values = fv;
        params.lambda = 300;
        const auto index = ClusteredInvertedIndex::build(docs, params);
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = 6;
        sp.heap_factor = 0.8f;
        std::vector<SearchResults<>> reference;
        for (std::size_t q = 0; q < queries.rows(); ++q) reference.push_back(index.search(queries.row(q), 10, sp));
        for (auto level : simd::supported_simd_levels()) {
            simd::ScopedSimdLevel scoped(level);
            double same = 0, total = 0;
            for (std::size_t q = 0; q < queries.rows(); ++q) {
                const auto got = index.search(queries.row(q), 10, sp);
                std::set<std::uint32_t> ids;
                for (const auto& h : reference[q]) ids.insert(h.id);
                for (const auto& h : got) {
                    same += static_cast<double>(ids.count(h.id));
                    REQUIRE(index.score(queries.row(q), h.id) == Approx(h.score).epsilon(1e-4).margin(1e-4));
                }
                total += static_cast<double>(reference[q].size());
            }
            INFO("level " << simd::simd_level_name(level) << " forward " << weight_precision_name(fv));
            CHECK(same / total >= 0.99);  // only float summation order differs between levels
        }
    }
}

TEST_CASE("compact forward index: every SIMD level's record scorer matches a double-precision dot product", "[sparse][clustered][simd]") {
    for (std::size_t dim : {std::size_t{700}, std::size_t{100000}}) {  // u16 and u32 term ids
        const auto docs = random_sparse_rows(300, dim, 37, 141, false);
        const auto queries = random_sparse_rows(5, dim, 60, 142, false);
        for (auto fv : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8}) {
            std::vector<std::uint32_t> words;
            std::vector<std::uint64_t> locations;
            const auto forward = CompactForwardIndex::build(docs, dim, fv, 1, words, locations);
            // the records decode to the rows, the words start on a cache line, and no record touches more lines
            // than its size needs
            REQUIRE(reinterpret_cast<std::uintptr_t>(forward.words().data()) % 64 == 0);
            for (std::uint32_t d = 0; d < docs.rows(); ++d) {
                const auto row = docs.row(d);
                const auto decoded = forward.document(d);
                REQUIRE(decoded.ids == std::vector<std::uint32_t>(row.ids.begin(), row.ids.end()));
                const std::uint64_t loc = forward.location(d);
                const std::size_t bytes = 4 * forward.layout().record_words(CompactForwardIndex::length_of(loc));
                const std::size_t first = (loc >> detail::forward_len_bits) * 4;
                if (bytes > 0) REQUIRE((first + bytes - 1) / 64 - first / 64 + 1 == (bytes + 63) / 64);
            }
            for (auto level : simd::supported_simd_levels()) {
                simd::ScopedSimdLevel scoped(level);
                const auto scorer = forward.scorer();
                INFO("dimension " << dim << " forward " << weight_precision_name(fv) << " level " << simd::simd_level_name(level));
                for (std::size_t q = 0; q < queries.rows(); ++q) {
                    std::vector<float> dense(dim, 0.0f);
                    const auto query = queries.row(q);
                    for (std::size_t i = 0; i < query.size(); ++i) dense[query.ids[i]] = query.values[i];
                    for (std::uint32_t d = 0; d < docs.rows(); ++d) {
                        double expected = 0.0, magnitude = 0.0;
                        forward.for_each_term(d, [&](std::uint32_t id, float value) {
                            expected += static_cast<double>(dense[id]) * value;
                            magnitude += std::abs(static_cast<double>(dense[id]) * value);
                        });
                        const std::uint64_t loc = forward.location(d);
                        const float got = scorer(forward.record(loc), CompactForwardIndex::length_of(loc), dense.data());
                        REQUIRE(std::abs(got - expected) <= 1e-5 * magnitude + 1e-6);
                    }
                }
            }
        }
    }
}

TEST_CASE("clustered index: empty corpus, empty rows, empty query", "[sparse][clustered]") {
    const auto empty = ClusteredInvertedIndex::build(CsrMatrix<float>(10));
    REQUIRE(empty.size() == 0);
    const std::uint32_t qi[] = {2, 7};
    const float qv[] = {1.0f, 0.5f};
    REQUIRE(empty.search({qi, qv}, 5).empty());
    REQUIRE(empty.search_exact({qi, qv}, 5).empty());
    CsrMatrix<float> docs(10);
    docs.push_back({});
    const std::uint32_t di[] = {2};
    const float dv[] = {3.0f};
    docs.push_back({di, dv});
    docs.push_back({});
    const auto index = ClusteredInvertedIndex::build(docs);
    const auto r = index.search({qi, qv}, 5);
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].id == 1);
    REQUIRE(r[0].score == Approx(3.0f));
    REQUIRE(index.search({}, 5).empty());
}

TEST_CASE("sparse indexes: k = SIZE_MAX returns every document that shares a query term, as brute force does", "[sparse][errors]") {
    const auto docs = random_sparse_rows(400, 200, 12, 31);
    const auto queries = random_sparse_rows(5, 200, 6, 32);
    const auto exact = InvertedIndex::build(docs);
    ClusteredInvertedIndexBuildParams cp;
    cp.lambda = 1000;  // keeps every posting: with heap_factor 0 the clustered search is exact
    cp.knn = 4;        // the k-NN candidate budget must not overflow with a huge k
    const auto clustered = ClusteredInvertedIndex::build(docs, cp);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        const auto expected = brute_force_search(docs, queries.row(q), docs.rows());
        sparse_test::require_same_results(exact.search(queries.row(q), SIZE_MAX), expected, 0.0);
        const auto got = clustered.search(queries.row(q), SIZE_MAX, {.query_cut = 100, .heap_factor = 0.0f, .knn = 4});
        CHECK(got.size() <= docs.rows());
        for (const auto& e : expected)  // every matching document is found (k-NN may add non-matching neighbours)
            CHECK(std::any_of(got.begin(), got.end(), [&](const auto& g) { return g.id == e.id; }));
    }
}
