// HnswIndex: recall against brute force, determinism, prepared scoring, bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "dense/hnsw_test_support.hpp"
#include "sparsedense/core/retriever.hpp"

using namespace sparsedense;
using namespace sparsedense::hnsw_test;

static_assert(Retriever<HnswIndex>);

TEST_CASE("hnsw index: recall at large ef is at least 0.99 of brute force, every metric and payload", "[dense][hnsw]") {
    const Data data = clustered(4000, 32, 60);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        const FlatIndex flat = FlatIndex::build(data.view(), metric);
        const auto truth = run(flat, data, 10, FlatIndexSearchParams{});
        for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector,
                                   VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
            INFO("metric " << metric_name(metric) << ", payload " << vector_encoding_name(enc));
            const HnswIndex index = HnswIndex::build(data.view(), metric, small_params(enc));
            CHECK(index.size() == data.n);
            // an int4 payload orders candidates coarsely: it re-scores 64 (see HnswIndexSearchParams::rerank)
            const std::size_t rerank = enc == VectorEncoding::int4_per_dimension ? 64 : 32;
            const double r = recall(run(index, data, 10, HnswIndexSearchParams{.ef = 200, .rerank = rerank}), truth);
            CHECK(r >= 0.99);
            // recall grows with ef (a small ef may not reach the bar, but must not beat the large one by much)
            CHECK(recall(run(index, data, 10, HnswIndexSearchParams{.ef = 10, .rerank = rerank}), truth) <= r + 0.02);
        }
    }
}

TEST_CASE("hnsw index: an int8 payload without the f32 copy stays accurate and reports its own exact scores", "[dense][hnsw]") {
    const Data data = clustered(3000, 24, 40);
    const FlatIndex flat_i8 = FlatIndex::build(data.view(), Metric::l2, {.storage = VectorEncoding::int8_per_dimension});
    auto p = small_params(VectorEncoding::int8_per_dimension);
    p.keep_f32 = false;
    const HnswIndex index = HnswIndex::build(data.view(), Metric::l2, p);
    CHECK(recall(run(index, data, 10, HnswIndexSearchParams{.ef = 200}), run(flat_i8, data, 10, FlatIndexSearchParams{})) >= 0.98);
    for (std::size_t q = 0; q < 5; ++q) {
        const auto scorer = index.prepare(data.query(q));
        for (const auto& hit : index.search(data.query(q), 10)) CHECK(scorer(hit.id) == hit.score);
    }
    // the f32 copy costs memory: the index without it is smaller
    CHECK(index.memory_bytes() < HnswIndex::build(data.view(), Metric::l2, small_params(VectorEncoding::int8_per_dimension)).memory_bytes());
}

TEST_CASE("hnsw index: threads = 1 builds the same graph every time, threads = 2 builds an equally good one", "[dense][hnsw]") {
    const Data data = clustered(3000, 16, 40);
    const HnswIndex a = HnswIndex::build(data.view(), Metric::l2, small_params(VectorEncoding::f32, 1));
    const HnswIndex b = HnswIndex::build(data.view(), Metric::l2, small_params(VectorEncoding::f32, 1));
    REQUIRE(a.graph().entry() == b.graph().entry());
    REQUIRE(a.graph().max_level() == b.graph().max_level());
    for (std::uint32_t id = 0; id < data.n; ++id) {
        REQUIRE(a.graph().level(id) == b.graph().level(id));
        for (std::size_t l = 0; l <= a.graph().level(id); ++l) {
            const auto na = a.graph().neighbors(id, l), nb = b.graph().neighbors(id, l);
            REQUIRE(std::vector<std::uint32_t>(na.begin(), na.end()) == std::vector<std::uint32_t>(nb.begin(), nb.end()));
        }
    }
    for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(a.search(data.query(q), 10) == b.search(data.query(q), 10));
    const FlatIndex flat = FlatIndex::build(data.view(), Metric::l2);
    const HnswIndex parallel = HnswIndex::build(data.view(), Metric::l2, small_params(VectorEncoding::f32, 2));
    CHECK(recall(run(parallel, data, 10, HnswIndexSearchParams{.ef = 200}), run(flat, data, 10, FlatIndexSearchParams{})) >= 0.99);
    // levels come from (seed, id): the same with any thread count
    for (std::uint32_t id = 0; id < data.n; ++id) REQUIRE(parallel.graph().level(id) == a.graph().level(id));
}

TEST_CASE("hnsw index: search_batch equals search, prepared scores equal search scores, two live scorers", "[dense][hnsw][prepare]") {
    const Data data = clustered(2000, 20, 16);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::bf16, VectorEncoding::int8_per_vector}) {
            const HnswIndex index = HnswIndex::build(data.view(), metric, small_params(enc));
            const auto batch = index.search_batch(DenseMatrixView<const float>(data.queries.data(), data.query_count(), data.d), 10, {.ef = 40}, 2);
            for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(batch[q] == index.search(data.query(q), 10, {.ef = 40}));
            const auto s1 = index.prepare(data.query(0));
            const auto s2 = index.prepare(data.query(1));
            for (const auto& hit : index.search(data.query(0), 20)) CHECK(s1(hit.id) == hit.score);
            for (const auto& hit : index.search(data.query(1), 20)) CHECK(s2(hit.id) == hit.score);
            CHECK(index.score(data.query(0), 5) == s1(5));
            CHECK_THROWS_AS(s1(static_cast<std::uint32_t>(data.n)), Error);
            // results best first
            const auto hits = index.search(data.query(2), 30, {.ef = 30, .rerank = 0});
            CHECK(std::is_sorted(hits.begin(), hits.end(), RanksBefore{}));
        }
    }
}

TEST_CASE("hnsw index: k beyond the size returns every node, tiny and empty indexes work", "[dense][hnsw]") {
    const Data data = clustered(50, 8, 2);
    const HnswIndex index = HnswIndex::build(data.view(), Metric::inner_product, small_params());
    const auto all = index.search(data.query(0), 1000);
    CHECK(all.size() == 50);
    CHECK(index.search(data.query(0), std::numeric_limits<std::size_t>::max()).size() == 50);
    const HnswIndex one = HnswIndex::build(DenseMatrixView<const float>(data.base.data(), 1, 8), Metric::l2, small_params());
    CHECK(one.search(data.query(0), 3).size() == 1);
    const HnswIndex empty(8, Metric::l2);
    CHECK(empty.search(data.query(0), 3).empty());
}

TEST_CASE("hnsw index: bad input is rejected naming the value and leaves the index usable", "[dense][hnsw][errors]") {
    const Data data = clustered(300, 8, 2);
    auto expect_error = [](auto&& fn, ErrorKind kind, const std::string& text) {
        try {
            fn();
            FAIL("no error for " << text);
        } catch (const Error& e) {
            CHECK(e.kind() == kind);
            CHECK_THAT(e.what(), Catch::Contains("HnswIndex") && Catch::Contains(text));
        }
    };
    expect_error([&] { (void)HnswIndex(8, Metric::l2, {.M = 1}); }, ErrorKind::invalid_argument, "M = 1");
    expect_error([&] { (void)HnswIndex(8, Metric::l2, {.ef_construction = 0}); }, ErrorKind::invalid_argument, "ef_construction = 0");
    expect_error([&] { (void)HnswIndex(0, Metric::l2); }, ErrorKind::invalid_argument, "dimension = 0");
    HnswIndex index = HnswIndex::build(data.view(), Metric::l2, small_params());
    expect_error([&] { (void)index.search(data.query(0), 5, {.ef = 0}); }, ErrorKind::invalid_argument, "ef = 0");
    expect_error([&] { (void)index.search(data.query(0), 5, {.exact_scan_fraction = 2.0}); }, ErrorKind::invalid_argument, "exact_scan_fraction = 2");
    expect_error([&] { (void)index.search(data.query(0), 0); }, ErrorKind::invalid_argument, "k must be > 0");
    expect_error([&] { (void)index.search(std::span<const float>(data.queries.data(), 7), 5); }, ErrorKind::dimension_mismatch, "dimension 7");
    expect_error([&] { (void)index.remove(300); }, ErrorKind::out_of_range, "id 300");
    expect_error([&] { (void)HnswIndex().search(data.query(0), 5); }, ErrorKind::invalid_argument, "default-constructed");
    std::vector<float> bad(data.base.begin(), data.base.begin() + 16);
    bad[11] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(index.add(DenseMatrixView<const float>(bad.data(), 2, 8)), Error);
    CHECK(index.size() == 300);
    std::vector<float> q(data.query(0).begin(), data.query(0).end());
    q[3] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(index.search(q, 5), Error);
    CHECK(index.search(data.query(0), 5).size() == 5);
}
