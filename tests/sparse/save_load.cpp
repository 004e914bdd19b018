// Save / load of both sparse indexes: round trips, and damaged files that must give an Error (never a crash).
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/damaged_files.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;
using sparsedense::testing::TempDir;


TEST_CASE("exact index: save/load round trip at every precision, damaged files throw", "[sparse][exact][io]") {
    TempDir dir;
    const auto docs = random_sparse_rows(1200, 300, 20, 111);
    const auto queries = random_sparse_rows(30, 300, 8, 112);
    for (auto precision : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8}) {
        InvertedIndexBuildParams params;
        params.precision = precision;
        params.block_size = 32;
        const auto index = InvertedIndex::build(docs, params);
        const std::string path = dir.file("exact.sdx");
        index.save(path);
        const auto loaded = InvertedIndex::load(path);
        REQUIRE(loaded.size() == index.size());
        REQUIRE(loaded.dimension() == index.dimension());
        REQUIRE(loaded.precision() == precision);
        REQUIRE(loaded.memory_bytes() == index.memory_bytes());
        for (std::size_t q = 0; q < queries.rows(); ++q)
            for (auto algo : {ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand, ExactAlgorithm::term_at_a_time, ExactAlgorithm::document_at_a_time})
                REQUIRE(loaded.search(queries.row(q), 10, {algo}) == index.search(queries.row(q), 10, {algo}));
        // the loaded (mapped) index filters and prepares queries as the built one does
        const auto every_third = [](std::uint64_t id) { return id % 3 == 0; };
        const auto scorer = loaded.prepare(queries.row(1));
        for (double fraction : {0.0, 1.0}) {
            InvertedIndexSearchParams sp;
            sp.exact_scan_fraction = fraction;
            const auto hits = loaded.search(queries.row(1), 10, sp, IdFilter::predicate(every_third));
            REQUIRE(hits == index.search(queries.row(1), 10, sp, IdFilter::predicate(every_third)));
            for (const auto& h : hits) REQUIRE(h.id % 3 == 0);
        }
        for (std::uint32_t d = 0; d < docs.rows(); d += 11) REQUIRE(scorer(d) == index.prepare(queries.row(1))(d));
        REQUIRE(InvertedIndex::kFormatVersion == 1);
        // overwrite in place (atomic rename over the old file)
        index.save(path);
        REQUIRE(InvertedIndex::load(path).search(queries.row(0), 5) == index.search(queries.row(0), 5));
    }
    const std::string good = dir.file("good.sdx");
    InvertedIndex::build(docs).save(good);
    sparsedense::testing::require_damaged_copies_rejected(good, dir, [](const std::string& p) { (void)InvertedIndex::load(p); });
    // a clustered file is not an exact index
    ClusteredInvertedIndex::build(docs).save(dir.file("clustered.sdx"));
    REQUIRE_THROWS_AS(InvertedIndex::load(dir.file("clustered.sdx")), Error);
    // saving into a missing folder fails cleanly
    REQUIRE_THROWS_AS(InvertedIndex::build(docs).save(dir.file("no/such/folder/x.sdx")), Error);
    // an empty index round-trips
    InvertedIndex::build(CsrMatrix<float>(5)).save(dir.file("empty.sdx"));
    REQUIRE(InvertedIndex::load(dir.file("empty.sdx")).size() == 0);
}

TEST_CASE("clustered index: save/load round trip (with k-NN graph), damaged files throw", "[sparse][clustered][io]") {
    TempDir dir;
    const auto docs = random_sparse_rows(1500, 400, 20, 121);
    const auto queries = random_sparse_rows(30, 400, 8, 122);
    for (auto fv : {WeightPrecision::f16, WeightPrecision::u8, WeightPrecision::f32}) {
        ClusteredInvertedIndexBuildParams params;
        params.forward_values = fv;
        params.knn = fv == WeightPrecision::f16 ? 5 : 0;
        params.lambda = 200;
        const auto index = ClusteredInvertedIndex::build(docs, params);
        const std::string path = dir.file("clustered.sdx");
        index.save(path);
        const auto loaded = ClusteredInvertedIndex::load(path);
        REQUIRE(loaded.size() == index.size());
        REQUIRE(loaded.dimension() == index.dimension());
        REQUIRE(loaded.block_count() == index.block_count());
        REQUIRE(loaded.knn_degree() == index.knn_degree());
        REQUIRE(loaded.memory_bytes() == index.memory_bytes());
        REQUIRE(loaded.build_params().alpha == params.alpha);
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = 5;
        sp.heap_factor = 0.8f;
        sp.knn = params.knn;
        for (std::size_t q = 0; q < queries.rows(); ++q) {
            REQUIRE(loaded.search(queries.row(q), 10, sp) == index.search(queries.row(q), 10, sp));
            REQUIRE(loaded.search_exact(queries.row(q), 10) == index.search_exact(queries.row(q), 10));
        }
    }
    const std::string good = dir.file("good.sdx");
    ClusteredInvertedIndex::build(docs).save(good);
    sparsedense::testing::require_damaged_copies_rejected(good, dir, [](const std::string& p) { (void)ClusteredInvertedIndex::load(p); });
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::load(dir.file("no_such.sdx")), Error);
    InvertedIndex::build(docs).save(dir.file("exact.sdx"));
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::load(dir.file("exact.sdx")), Error);
}
