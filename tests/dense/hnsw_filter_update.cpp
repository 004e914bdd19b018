// HnswIndex: filtered search (both plans) and updates (remove, slot reuse with graph repair).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

#include "dense/hnsw_test_support.hpp"
#include "support/filter_support.hpp"

using namespace sparsedense;
using namespace sparsedense::hnsw_test;

namespace {
void check_same_ranking(const SearchResults<>& got, const SearchResults<>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].id == want[i].id);
        CHECK(got[i].score == Approx(want[i].score).epsilon(1e-5).margin(1e-5));
    }
}
}  // namespace

TEST_CASE("hnsw index: filtered results respect the filter, the exact-scan plan equals brute force at every selectivity", "[dense][hnsw][filter]") {
    const Data data = clustered(5000, 24, 20);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        const FlatIndex flat = FlatIndex::build(data.view(), metric);
        const HnswIndex index = HnswIndex::build(data.view(), metric, small_params());
        const double unfiltered = recall(run(index, data, 10, HnswIndexSearchParams{.ef = 100}), run(flat, data, 10, FlatIndexSearchParams{}));
        for (double fraction : sparsedense::testing::filter_selectivities()) {
            INFO("metric " << metric_name(metric) << ", selectivity " << fraction);
            const IdBitset bits = sparsedense::testing::random_id_bitset(data.n, fraction, 3);
            auto pred = [&bits](std::uint64_t id) { return bits.test(id); };
            std::vector<SearchResults<>> truth, walked;
            for (std::size_t q = 0; q < data.query_count(); ++q) {
                const auto want = flat.search(data.query(q), 10, {}, bits);
                truth.push_back(want);
                // exact-scan plan (fraction 1): brute force, with a bitset and with a predicate
                check_same_ranking(index.search(data.query(q), 10, {.exact_scan_fraction = 1.0}, bits), want);
                check_same_ranking(index.search(data.query(q), 10, {.exact_scan_fraction = 1.0}, IdFilter::predicate(pred)), want);
                // the walk (fraction 0): only accepted ids, best first
                const auto got = index.search(data.query(q), 10, {.ef = 100, .exact_scan_fraction = 0.0}, IdFilter::predicate(pred));
                for (const auto& hit : got) CHECK(bits.test(hit.id));
                CHECK(std::is_sorted(got.begin(), got.end(), RanksBefore{}));
                CHECK(got.size() == std::min<std::size_t>(10, bits.count()));
                walked.push_back(got);
            }
            // issue #16: within 0.02 of unfiltered at 10% (20 queries here: a little noisier). Not for raw inner product:
            // a graph built on -<q, x> leaves small-norm points without in-links (MIPS is not a metric), and a filter
            // that removes the large-norm ones makes them answers the walk cannot reach (docs/dense.md).
            if (fraction >= 0.1 && metric != Metric::inner_product) CHECK(recall(walked, truth) >= unfiltered - 0.03);
        }
    }
}

TEST_CASE("hnsw index: a filter accepting nothing returns nothing under both plans", "[dense][hnsw][filter]") {
    const Data data = clustered(500, 8, 2);
    const HnswIndex index = HnswIndex::build(data.view(), Metric::l2, small_params());
    const IdBitset none(data.n);
    CHECK(index.search(data.query(0), 5, {}, none).empty());
    auto never = [](std::uint64_t) { return false; };
    CHECK(index.search(data.query(0), 5, {.exact_scan_fraction = 0.0}, IdFilter::predicate(never)).empty());
}

TEST_CASE("hnsw index: removed ids are never returned, re-added vectors reuse their slots with recall close to a fresh build", "[dense][hnsw][update]") {
    const Data data = clustered(4000, 24, 60);
    for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
        INFO("payload " << vector_encoding_name(enc));
        const FlatIndex flat = FlatIndex::build(data.view(), Metric::l2);
        const auto truth = run(flat, data, 10, FlatIndexSearchParams{});
        HnswIndex index = HnswIndex::build(data.view(), Metric::l2, small_params(enc));
        const HnswIndexSearchParams p{.ef = 64, .rerank = enc == VectorEncoding::int4_per_dimension ? std::size_t{64} : std::size_t{32}};
        const double fresh = recall(run(index, data, 10, p), truth);
        // remove every 10th node
        std::vector<std::uint32_t> removed;
        for (std::uint32_t id = 0; id < data.n; id += 10) {
            CHECK(index.remove(id));
            removed.push_back(id);
        }
        CHECK_FALSE(index.remove(0));
        CHECK(index.deleted_count() == removed.size());
        const std::set<std::uint32_t> gone(removed.begin(), removed.end());
        for (std::size_t q = 0; q < data.query_count(); ++q) {
            const auto got = index.search(data.query(q), 10, p);
            CHECK(got.size() == 10);
            for (const auto& hit : got) CHECK(gone.count(hit.id) == 0);
        }
        // the same vectors again: they take the deleted slots, lowest first, so ids match the original ones
        DenseMatrix<float> again(removed.size(), data.d);
        for (std::size_t i = 0; i < removed.size(); ++i)
            std::copy_n(data.base.begin() + static_cast<std::ptrdiff_t>(removed[i] * data.d), data.d, again.row(i).begin());
        const auto ids = index.add(again.view());
        CHECK(ids == removed);
        CHECK(index.deleted_count() == 0);
        CHECK(index.size() == data.n);
        const double readded = recall(run(index, data, 10, p), truth);
        CHECK(readded >= fresh - 0.005);  // issue #16: within 0.005 of a fresh build at the same ef
        // one more vector goes to a new id
        CHECK(index.add(std::span<const float>(data.queries.data(), data.d)) == std::vector<std::uint32_t>{static_cast<std::uint32_t>(data.n)});
    }
}

TEST_CASE("hnsw index: replacing a deleted slot with a different vector moves it in the graph", "[dense][hnsw][update]") {
    const Data data = clustered(2000, 16, 10);
    HnswIndex index = HnswIndex::build(data.view(), Metric::l2, small_params());
    REQUIRE(index.remove(123));
    // slot 123 now holds a copy of query 0: searching for that query must find it first
    CHECK(index.add(std::span<const float>(data.query(0).begin(), data.d)) == std::vector<std::uint32_t>{123});
    for (std::size_t q = 0; q < data.query_count(); ++q) {
        const auto hits = index.search(data.query(q), 1, {.ef = 50});
        if (q == 0) CHECK(hits[0].id == 123);
        CHECK(hits[0].score == index.prepare(data.query(q))(hits[0].id));
    }
}
