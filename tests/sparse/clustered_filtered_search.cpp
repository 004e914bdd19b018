// Clustered index: the retriever shape, filtered search (both plans), prepared scoring.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "sparsedense/core/retriever.hpp"
#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;

static_assert(Retriever<ClusteredInvertedIndex>);
static_assert(SparseSearchable<ClusteredInvertedIndex>);

namespace {

/// Random bitset accepting about `fraction` of n ids (at least one), fixed seed.
IdBitset random_filter(std::size_t n, double fraction, std::uint64_t seed) {
    IdBitset bits(n);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t i = 0; i < n; ++i)
        if (u(rng) < fraction) bits.set(i);
    if (bits.count() == 0) bits.set(n / 2);
    return bits;
}

/// Exact top-k over the accepted rows of `docs` (brute_force_search's rules: a candidate shares a query term).
SearchResults<> filtered_brute_force(CsrMatrixView<float> docs, SparseVectorView<float> query, std::size_t k, const IdFilter& filter) {
    TopKCollector<> top(k);
    for (std::size_t d = 0; d < docs.rows(); ++d) {
        if (!filter.accepts(d)) continue;
        bool overlap = false;
        const float s = sparse_merge_dot(query, docs.row(d), overlap);
        if (overlap) top.push(static_cast<std::uint32_t>(d), s);
    }
    return top.sorted();
}

ClusteredInvertedIndex small_index(const CsrMatrix<float>& docs, WeightPrecision fv) {
    ClusteredInvertedIndexBuildParams params;
    params.lambda = 300;
    params.centroid_fraction = 0.1;
    params.forward_values = fv;
    params.threads = 2;
    return ClusteredInvertedIndex::build(docs, params);
}

}  // namespace

TEST_CASE("clustered index: the exact-scan plan equals brute force at every selectivity, bitset and predicate", "[sparse][clustered][filter]") {
    const auto docs = random_sparse_rows(3000, 800, 25, 301);
    const auto queries = random_sparse_rows(20, 800, 10, 302);
    const auto index = small_index(docs, WeightPrecision::f32);
    ClusteredInvertedIndexSearchParams sp;
    sp.exact_scan_fraction = 1.0;  // every filtered search scans
    for (double fraction : {1.0, 0.1, 0.01, 0.001}) {
        const auto bits = random_filter(docs.rows(), fraction, 303);
        auto pred = [&](std::uint64_t id) { return bits.test(id); };
        for (const IdFilter& filter : {IdFilter(bits), IdFilter::predicate(pred)}) {
            for (std::size_t q = 0; q < queries.rows(); ++q) {
                INFO("fraction " << fraction << " bitset " << filter.is_bitset() << " query " << q);
                const auto got = index.search(queries.row(q), 10, sp, filter);
                sparse_test::require_same_results(got, filtered_brute_force(docs, queries.row(q), 10, filter), 1e-5);
            }
        }
    }
}

TEST_CASE("clustered index: the traversal plan returns only accepted documents and keeps recall under a 10% filter", "[sparse][clustered][filter]") {
    const auto docs = random_sparse_rows(4000, 1000, 30, 311);
    const auto queries = random_sparse_rows(40, 1000, 12, 312);
    ClusteredInvertedIndexBuildParams bp;
    bp.lambda = 400;
    bp.centroid_fraction = 0.1;
    bp.knn = 8;
    bp.threads = 2;
    const auto index = ClusteredInvertedIndex::build(docs, bp);
    ClusteredInvertedIndexSearchParams sp;
    sp.query_cut = 12;
    sp.heap_factor = 0.5f;
    sp.knn = 8;
    sp.exact_scan_fraction = 0.0;  // never scan: the traversal runs under every filter
    for (double fraction : {1.0, 0.1, 0.01, 0.001}) {
        const auto bits = random_filter(docs.rows(), fraction, 313);
        auto pred = [&](std::uint64_t id) { return bits.test(id); };
        double hits = 0, total = 0;
        for (const IdFilter& filter : {IdFilter(bits), IdFilter::predicate(pred)}) {
            for (std::size_t q = 0; q < queries.rows(); ++q) {
                const auto got = index.search(queries.row(q), 10, sp, filter);
                for (const auto& h : got) REQUIRE(bits.test(h.id));
                for (std::size_t i = 1; i < got.size(); ++i) REQUIRE(!ranks_before(got[i], got[i - 1]));
                std::set<std::uint32_t> truth;
                for (const auto& h : filtered_brute_force(docs, queries.row(q), 10, filter)) truth.insert(h.id);
                for (const auto& h : got) hits += static_cast<double>(truth.count(h.id));
                total += static_cast<double>(truth.size());
            }
        }
        INFO("fraction " << fraction << " recall " << hits / total);
        if (fraction >= 0.1) CHECK(hits / total >= 0.8);
    }
}

TEST_CASE("clustered index: the plan follows exact_scan_fraction, search_batch carries the filter", "[sparse][clustered][filter]") {
    const auto docs = random_sparse_rows(2000, 600, 20, 321);
    const auto queries = random_sparse_rows(12, 600, 8, 322);
    const auto index = small_index(docs, WeightPrecision::f16);
    const auto bits = random_filter(docs.rows(), 0.02, 323);  // about 40 documents
    ClusteredInvertedIndexSearchParams scan, traverse;
    scan.exact_scan_fraction = 0.05;
    traverse.exact_scan_fraction = 0.01;
    ClusteredSearchStatistics scan_stats, traverse_stats;
    scan.statistics = &scan_stats;
    traverse.statistics = &traverse_stats;
    (void)index.search(queries.row(0), 10, scan, bits);
    (void)index.search(queries.row(0), 10, traverse, bits);
    CHECK(scan_stats.lists == 0);                          // no list visited: the accepted documents were scanned
    CHECK(scan_stats.documents_scored == bits.count());
    CHECK(traverse_stats.lists > 0);
    // no filter never scans, whatever the fraction
    ClusteredSearchStatistics all_stats;
    ClusteredInvertedIndexSearchParams all;
    all.exact_scan_fraction = 1.0;
    all.statistics = &all_stats;
    (void)index.search(queries.row(0), 10, all);
    CHECK(all_stats.lists > 0);

    scan.statistics = nullptr;
    const auto batch = index.search_batch(queries, 10, scan, 2, bits);
    REQUIRE(batch.size() == queries.rows());
    for (std::size_t q = 0; q < queries.rows(); ++q) sparse_test::require_same_results(batch[q], index.search(queries.row(q), 10, scan, bits), 0.0);

    ClusteredInvertedIndexSearchParams bad;
    bad.exact_scan_fraction = 1.5;
    REQUIRE_THROWS_AS(index.search(queries.row(0), 10, bad), Error);
    bad.exact_scan_fraction = std::nan("");
    REQUIRE_THROWS_AS(index.search(queries.row(0), 10, bad), Error);
    REQUIRE(index.search(queries.row(0), 10).size() == 10);  // still usable
}

TEST_CASE("clustered index: prepare() scores ids exactly, two live prepared queries stay correct, bad ids throw", "[sparse][clustered][prepare]") {
    const auto docs = random_sparse_rows(500, 300, 15, 331);
    const auto queries = random_sparse_rows(2, 300, 8, 332);
    const auto index = small_index(docs, WeightPrecision::f32);
    const auto a = index.prepare(queries.row(0));
    const auto b = index.prepare(queries.row(1));
    for (std::uint32_t d = 0; d < docs.rows(); ++d) {
        bool overlap = false;
        REQUIRE(a(d) == sparse_merge_dot(queries.row(0), docs.row(d), overlap));  // f32 forward values: bit for bit
        REQUIRE(b(d) == sparse_merge_dot(queries.row(1), docs.row(d), overlap));
        REQUIRE(index.score(queries.row(0), d) == a(d));
    }
    try {
        (void)a(static_cast<std::uint32_t>(docs.rows()));
        FAIL("no exception");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::out_of_range);
        CHECK(std::string(e.what()).find("ClusteredInvertedIndex") != std::string::npos);
    }
    const std::uint32_t bad_ids[] = {5, 2};
    const float bad_values[] = {1.0f, 1.0f};
    REQUIRE_THROWS_AS(index.prepare({bad_ids, bad_values}), Error);
    // the f16 index scores within f16 rounding of the exact value
    const auto half = small_index(docs, WeightPrecision::f16);
    const auto h = half.prepare(queries.row(0));
    for (std::uint32_t d = 0; d < 50; ++d) CHECK(h(d) == Approx(a(d)).epsilon(2e-3).margin(1e-3));
}
