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
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() / ("sparsedense_sparse_" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

std::vector<char> read_all(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const std::string& p, const std::vector<char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Every damaged variant of a good file must throw sparsedense::Error from `load`.
template <class Load>
void require_damage_detected(const std::string& good, const TempDir& dir, Load&& load) {
    const auto bytes = read_all(good);
    REQUIRE(bytes.size() > 200);
    const std::string bad = dir.file("damaged.bin");
    // truncated at several places
    for (std::size_t keep : {std::size_t{0}, std::size_t{10}, std::size_t{64}, std::size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
        write_all(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep)));
        INFO("truncated to " << keep << " bytes");
        REQUIRE_THROWS_AS(load(bad), Error);
    }
    // flipped bytes in the header, the section table and the payload
    for (std::size_t at : {std::size_t{3}, std::size_t{70}, std::size_t{130}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 70}) {
        auto copy = bytes;
        copy[at] = static_cast<char>(copy[at] ^ 0x5a);
        write_all(bad, copy);
        INFO("byte " << at << " flipped");
        REQUIRE_THROWS_AS(load(bad), Error);
    }
    // wrong format version (u32 at offset 24 of the header)
    {
        auto copy = bytes;
        copy[24] = static_cast<char>(copy[24] + 1);
        write_all(bad, copy);
        try {
            load(bad);
            FAIL("a wrong-version file loaded");
        } catch (const Error& e) {
            REQUIRE(e.kind() == ErrorKind::version_mismatch);
        }
    }
    // missing file
    REQUIRE_THROWS_AS(load(dir.file("does_not_exist.bin")), Error);
}

}  // namespace

TEST_CASE("exact index: save/load round trip at every precision; damaged files throw", "[sparse][exact][io]") {
    TempDir dir;
    const auto docs = random_sparse_rows(1200, 300, 20, 111);
    const auto queries = random_sparse_rows(30, 300, 8, 112);
    for (auto precision : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8}) {
        InvertedIndexParams params;
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
        // overwrite in place (atomic rename over the old file)
        index.save(path);
        REQUIRE(InvertedIndex::load(path).search(queries.row(0), 5) == index.search(queries.row(0), 5));
    }
    const std::string good = dir.file("good.sdx");
    InvertedIndex::build(docs).save(good);
    require_damage_detected(good, dir, [](const std::string& p) { (void)InvertedIndex::load(p); });
    // a clustered file is not an exact index
    ClusteredInvertedIndex::build(docs).save(dir.file("clustered.sdx"));
    REQUIRE_THROWS_AS(InvertedIndex::load(dir.file("clustered.sdx")), Error);
    // saving into a missing folder fails cleanly
    REQUIRE_THROWS_AS(InvertedIndex::build(docs).save(dir.file("no/such/folder/x.sdx")), Error);
    // an empty index round-trips
    InvertedIndex::build(CsrMatrix<float>(5)).save(dir.file("empty.sdx"));
    REQUIRE(InvertedIndex::load(dir.file("empty.sdx")).size() == 0);
}

TEST_CASE("clustered index: save/load round trip (with k-NN graph); damaged files throw", "[sparse][clustered][io]") {
    TempDir dir;
    const auto docs = random_sparse_rows(1500, 400, 20, 121);
    const auto queries = random_sparse_rows(30, 400, 8, 122);
    for (auto fv : {ForwardValueType::f16, ForwardValueType::u8, ForwardValueType::f32}) {
        ClusteredIndexParams params;
        params.forward_values = fv;
        params.knn = fv == ForwardValueType::f16 ? 5 : 0;
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
        ClusteredSearchParams sp;
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
    require_damage_detected(good, dir, [](const std::string& p) { (void)ClusteredInvertedIndex::load(p); });
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::load(dir.file("no_such.sdx")), Error);
    InvertedIndex::build(docs).save(dir.file("exact.sdx"));
    REQUIRE_THROWS_AS(ClusteredInvertedIndex::load(dir.file("exact.sdx")), Error);
}
