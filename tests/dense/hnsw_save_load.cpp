// HnswIndex files: round trip, zero-copy load, damaged files rejected.
#include <catch2/catch.hpp>

#include <filesystem>

#include "dense/hnsw_test_support.hpp"
#include "support/damaged_files.hpp"
#include "support/temp_dir.hpp"

using namespace sparsedense;
using namespace sparsedense::hnsw_test;

TEST_CASE("hnsw index: save and load give equal results, the arrays are mapped, adding to a loaded index copies them", "[dense][hnsw][save_load]") {
    const Data data = clustered(1500, 16, 10);
    sparsedense::testing::TempDir dir;
    const std::string path = dir.file("hnsw.sdx");
    for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
        for (Metric metric : {Metric::inner_product, Metric::cosine}) {
            HnswIndex built = HnswIndex::build(data.view(), metric, small_params(enc));
            built.remove(7);
            built.remove(700);
            built.save(path);
            HnswIndex loaded = HnswIndex::load(path);
            CHECK(loaded.graph().is_mapped());
            CHECK(loaded.size() == built.size());
            CHECK(loaded.deleted_count() == 2);
            CHECK(loaded.metric() == metric);
            CHECK(loaded.build_params().M == built.build_params().M);
            CHECK(loaded.build_params().storage == enc);
            for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(loaded.search(data.query(q), 10) == built.search(data.query(q), 10));
            const auto bytes = std::filesystem::file_size(path);
            loaded.add(DenseMatrixView<const float>(data.queries.data(), 3, data.d));
            built.add(DenseMatrixView<const float>(data.queries.data(), 3, data.d));
            CHECK_FALSE(loaded.graph().is_mapped());
            CHECK(std::filesystem::file_size(path) == bytes);
            for (std::size_t q = 0; q < data.query_count(); ++q) CHECK(loaded.search(data.query(q), 10) == built.search(data.query(q), 10));
            CHECK(HnswIndex::load(path).size() == data.n);
        }
    }
}

TEST_CASE("hnsw index: damaged files are rejected", "[dense][hnsw][save_load]") {
    const Data data = clustered(400, 8, 2);
    sparsedense::testing::TempDir dir;
    const std::string path = dir.file("hnsw.sdx");
    HnswIndex::build(data.view(), Metric::l2, small_params(VectorEncoding::int8_per_vector)).save(path);
    sparsedense::testing::require_damaged_copies_rejected(path, dir, [](const std::string& p) { return HnswIndex::load(p); });
    // a file of another index kind
    FlatIndex::build(data.view(), Metric::l2).save(dir.file("flat.sdx"));
    CHECK_THROWS_AS(HnswIndex::load(dir.file("flat.sdx")), Error);
}
