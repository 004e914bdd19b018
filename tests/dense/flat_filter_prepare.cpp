// FlatIndex under the retriever shape: filtered search (both plans exact), prepared scoring, zero-copy load.
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include "sparsedense/core/retriever.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "support/filter_support.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::clustered_vectors;

static_assert(Retriever<FlatIndex>);

TEST_CASE("flat index: filtered search equals the filtered full ranking at every selectivity, bitset and predicate", "[dense][flat][filter]") {
    const std::size_t n = 3000, d = 24, k = 10;
    const auto base = clustered_vectors(n, d, 30, 11);
    const auto queries = clustered_vectors(8, d, 30, 12);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::int8_per_vector}) {
            const FlatIndex index = FlatIndex::build(DenseMatrixView<const float>(base.data(), n, d), metric, {.storage = enc});
            for (double fraction : sparsedense::testing::filter_selectivities()) {
                const IdBitset bits = sparsedense::testing::random_id_bitset(n, fraction, 7);
                auto pred = [&bits](std::uint64_t id) { return bits.test(id); };
                for (std::size_t qi = 0; qi < 8; ++qi) {
                    const std::span<const float> q(queries.data() + qi * d, d);
                    const auto ranking = index.search(q, n);
                    const auto want = sparsedense::testing::filtered_top_k(ranking, IdFilter(bits), k);
                    // both plans: the scan testing the filter (fraction 0) and the scan of accepted rows (fraction 1)
                    for (double plan : {0.0, 1.0}) {
                        CHECK(index.search(q, k, {.exact_scan_fraction = plan}, bits) == want);
                        CHECK(index.search(q, k, {.exact_scan_fraction = plan}, IdFilter::predicate(pred)) == want);
                    }
                }
                const auto batch = index.search_batch(DenseMatrixView<const float>(queries.data(), 8, d), k, {}, 2, bits);
                for (std::size_t qi = 0; qi < 8; ++qi) CHECK(batch[qi] == index.search({queries.data() + qi * d, d}, k, {}, bits));
            }
        }
    }
}

TEST_CASE("flat index: a filter that accepts nothing returns nothing, bad exact_scan_fraction is rejected", "[dense][flat][filter]") {
    const std::size_t n = 200, d = 8;
    const auto base = clustered_vectors(n, d, 4, 3);
    const FlatIndex index = FlatIndex::build(DenseMatrixView<const float>(base.data(), n, d), Metric::l2);
    const IdBitset none(n);
    CHECK(index.search({base.data(), d}, 5, {}, none).empty());
    auto never = [](std::uint64_t) { return false; };
    CHECK(index.search({base.data(), d}, 5, {.exact_scan_fraction = 0.0}, IdFilter::predicate(never)).empty());
    try {
        (void)index.search({base.data(), d}, 5, {.exact_scan_fraction = 2.0});
        FAIL("no error for exact_scan_fraction = 2");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::invalid_argument);
        CHECK_THAT(e.what(), Catch::Contains("FlatIndex") && Catch::Contains("exact_scan_fraction = 2"));
    }
}

TEST_CASE("flat index: prepared query scores equal search scores, two live scorers, bad id throws", "[dense][flat][prepare]") {
    const std::size_t n = 777, d = 19;
    const auto base = clustered_vectors(n, d, 10, 5);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::int8_per_dimension}) {
            const FlatIndex index = FlatIndex::build(DenseMatrixView<const float>(base.data(), n, d), metric, {.storage = enc});
            const std::span<const float> q1(base.data() + 3 * d, d), q2(base.data() + 500 * d, d);
            const auto s1 = index.prepare(q1);
            const auto s2 = index.prepare(q2);
            for (const auto& hit : index.search(q1, n)) REQUIRE(s1(hit.id) == hit.score);
            for (const auto& hit : index.search(q2, 50)) REQUIRE(s2(hit.id) == hit.score);
            CHECK(index.score(q1, 42) == s1(42));
            CHECK_THROWS_AS(s1(static_cast<std::uint32_t>(n)), Error);
        }
    }
}

TEST_CASE("flat index: load maps the vectors without copying, adding to a loaded index copies them first", "[dense][flat][save_load]") {
    const std::size_t n = 500, d = 16;
    const auto base = clustered_vectors(n, d, 8, 9);
    sparsedense::testing::TempDir dir;
    const std::string path = dir.file("flat.sdx");
    for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::bf16, VectorEncoding::int8_per_vector}) {
        const FlatIndex built = FlatIndex::build(DenseMatrixView<const float>(base.data(), n, d), Metric::inner_product, {.storage = enc});
        built.save(path);
        FlatIndex loaded = FlatIndex::load(path);
        CHECK(loaded.store().is_mapped());
        CHECK_FALSE(built.store().is_mapped());
        const std::span<const float> q(base.data(), d);
        CHECK(loaded.search(q, 10) == built.search(q, 10));
        const auto size_before = std::filesystem::file_size(path);
        loaded.add(DenseMatrixView<const float>(base.data(), 10, d));
        CHECK_FALSE(loaded.store().is_mapped());
        CHECK(loaded.size() == n + 10);
        CHECK(std::filesystem::file_size(path) == size_before);
        CHECK(FlatIndex::load(path).size() == n);
        CHECK(loaded.search(q, 1)[0].score == built.search(q, 1)[0].score);
    }
}
