#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::slurp;
using sparsedense::testing::spit;


TEST_CASE("fvecs / ivecs / bvecs round-trip and reject truncation", "[io][vecs]") {
    testing::TempDir dir;
    const auto values = testing::uniform_vector(37 * 5, 3);
    DenseMatrix<float> m(DenseMatrixView<const float>(values.data(), 37, 5));
    io::write_fvecs(dir.file("a.fvecs"), m.view());
    const auto back = io::read_fvecs(dir.file("a.fvecs"));
    REQUIRE(back.rows() == 37);
    REQUIRE(back.cols() == 5);
    REQUIRE(std::vector<float>(back.values().begin(), back.values().end()) == values);
    REQUIRE(io::read_fvecs(dir.file("a.fvecs"), 10).rows() == 10);

    DenseMatrix<std::int32_t> ids(4, 3);
    for (std::size_t i = 0; i < 12; ++i) ids.values()[i] = static_cast<std::int32_t>(i * 7);
    io::write_ivecs(dir.file("a.ivecs"), ids.view());
    REQUIRE(io::read_ivecs(dir.file("a.ivecs")).row(3)[2] == 77);
    DenseMatrix<std::uint8_t> bytes(2, 9, 200);
    io::write_bvecs(dir.file("a.bvecs"), bytes.view());
    REQUIRE(io::read_bvecs(dir.file("a.bvecs")).row(1)[8] == 200);

    auto raw = slurp(dir.file("a.fvecs"));
    raw.pop_back();
    spit(dir.file("bad.fvecs"), raw);
    REQUIRE_THROWS_WITH(io::read_fvecs(dir.file("bad.fvecs")), Catch::Contains("not a multiple"));
    raw = slurp(dir.file("a.fvecs"));
    raw[24] = 9;  // second row's dimension field
    spit(dir.file("bad.fvecs"), raw);
    REQUIRE_THROWS_WITH(io::read_fvecs(dir.file("bad.fvecs")), Catch::Contains("row 1 has dimension 9"));
}

TEST_CASE("BigANN CSR files round-trip, unsorted rows are sorted, corrupt files are rejected", "[io][csr]") {
    testing::TempDir dir;
    const auto m = testing::random_sparse_rows(50, 1000, 20, 11);
    io::write_csr(dir.file("m.csr"), m.view());
    const auto back = io::read_csr(dir.file("m.csr"));
    REQUIRE(back.indptr == m.indptr);
    REQUIRE(back.indices == m.indices);
    REQUIRE(back.values == m.values);
    REQUIRE(back.cols == 1000);

    // a hand-written file with an unsorted row: {5: 1.0, 2: 2.0}
    {
        std::ofstream out(dir.file("u.csr"), std::ios::binary);
        const std::int64_t header[3] = {1, 10, 2}, indptr[2] = {0, 2};
        const std::int32_t ids[2] = {5, 2};
        const float vals[2] = {1.0f, 2.0f};
        out.write(reinterpret_cast<const char*>(header), sizeof header);
        out.write(reinterpret_cast<const char*>(indptr), sizeof indptr);
        out.write(reinterpret_cast<const char*>(ids), sizeof ids);
        out.write(reinterpret_cast<const char*>(vals), sizeof vals);
    }
    const auto u = io::read_csr(dir.file("u.csr"));
    REQUIRE(u.indices == std::vector<std::uint32_t>{2, 5});
    REQUIRE(u.values == std::vector<float>{2.0f, 1.0f});

    auto raw = slurp(dir.file("m.csr"));
    spit(dir.file("bad.csr"), std::vector<char>(raw.begin(), raw.end() - 4));
    REQUIRE_THROWS_WITH(io::read_csr(dir.file("bad.csr")), Catch::Contains("truncated"));
    auto bad_id = raw;
    const std::size_t first_id = 24 + 8 * 51;
    const std::int32_t huge = 5000;
    std::memcpy(bad_id.data() + first_id, &huge, 4);
    spit(dir.file("bad.csr"), bad_id);
    REQUIRE_THROWS_WITH(io::read_csr(dir.file("bad.csr")), Catch::Contains("outside [0, 1000)"));
    auto bad_ptr = raw;
    const std::int64_t backwards = 1000000;
    std::memcpy(bad_ptr.data() + 24 + 8, &backwards, 8);
    spit(dir.file("bad.csr"), bad_ptr);
    REQUIRE_THROWS_AS(io::read_csr(dir.file("bad.csr")), Error);
}

TEST_CASE("CSR reader agrees with the shared splade-beir header", "[io][csr][shared]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(path, "splade-beir/queries.csr");
    const auto q = io::read_csr(path);
    REQUIRE(q.rows() == 1000);
    REQUIRE(q.cols == 30522);
    REQUIRE_NOTHROW(q.validate());
}
