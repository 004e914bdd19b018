#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/eigen_interop.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/value_types.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

TEST_CASE("float16 conversion is exact round-to-nearest-even", "[core][f16]") {
    // every half value round-trips through float exactly
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
        const auto h = float16::from_bits(static_cast<std::uint16_t>(bits));
        const float f = h.to_float();
        if (std::isnan(f)) {
            REQUIRE(std::isnan(float16(f).to_float()));
            continue;
        }
        REQUIRE(float16(f).bits == h.bits);
    }
    REQUIRE(float16(1.0f).bits == 0x3c00);
    REQUIRE(float16(65504.0f).bits == 0x7bff);
    REQUIRE(float16(65520.0f).bits == 0x7c00);  // rounds to infinity
    REQUIRE(float16(1.0f + 1.0f / 2048.0f).bits == 0x3c00);  // tie -> even
    REQUIRE(float16(1.0f + 3.0f / 2048.0f).bits == 0x3c02);  // tie -> even (up)
    REQUIRE(float16(5.9604645e-8f).bits == 0x0001);  // smallest subnormal
    REQUIRE(float16(-2.0f).bits == 0xc000);
    // midpoint between two halves rounds to the even one; nearest otherwise
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-60000.0f, 60000.0f);
    for (int i = 0; i < 100000; ++i) {
        const float x = u(rng);
        const float y = float16(x).to_float();
        const float next = std::nextafter(y, x > y ? 1e9f : -1e9f);
        (void)next;
        // the error is at most half a unit in the last place of the half
        const float ulp = std::ldexp(1.0f, std::max(-24, static_cast<int>(std::floor(std::log2(std::fabs(y) + 1e-30f))) - 10));
        REQUIRE(std::fabs(x - y) <= 0.5f * ulp * 1.0001f + 1e-7f);
    }
}

TEST_CASE("bfloat16 conversion rounds to nearest even and widens exactly", "[core][bf16]") {
    REQUIRE(bfloat16(1.0f).bits == 0x3f80);
    REQUIRE(bfloat16(1.0f).to_float() == 1.0f);
    REQUIRE(bfloat16(std::bit_cast<float>(0x3f808000u)).bits == 0x3f80);  // tie -> even (down)
    REQUIRE(bfloat16(std::bit_cast<float>(0x3f818000u)).bits == 0x3f82);  // tie -> even (up)
    REQUIRE(bfloat16(std::bit_cast<float>(0x3f808001u)).bits == 0x3f81);
    REQUIRE(std::isnan(bfloat16(std::numeric_limits<float>::quiet_NaN()).to_float()));
    for (std::uint32_t bits = 0; bits < 65536; bits += 3) {
        const auto b = bfloat16::from_bits(static_cast<std::uint16_t>(bits));
        if (!std::isnan(b.to_float())) REQUIRE(bfloat16(b.to_float()).bits == b.bits);
    }
}

TEST_CASE("scalar quantizers stay within their error bound", "[core][quantize]") {
    const auto v = testing::uniform_vector(5000, 8, -3.0f, 5.0f);
    const auto u8 = ScalarQuantizer<std::uint8_t>::fit(v);
    const auto i8 = ScalarQuantizer<std::int8_t>::fit(v);
    for (float x : v) {
        REQUIRE(std::fabs(u8.decode(u8.encode(x)) - x) <= u8.max_error() * 1.001f);
        REQUIRE(std::fabs(i8.decode(i8.encode(x)) - x) <= i8.max_error() * 1.001f);
    }
    const std::vector<float> constant(10, 2.5f);
    const auto c = ScalarQuantizer<std::uint8_t>::fit(constant);
    REQUIRE(c.decode(c.encode(2.5f)) == 2.5f);
    std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN()};
    REQUIRE_THROWS_WITH(ScalarQuantizer<std::uint8_t>::fit(bad), Catch::Contains("value 1 is not finite"));
    REQUIRE(from_float<std::int8_t>(300.0f) == 127);
    REQUIRE(from_float<std::uint8_t>(-4.0f) == 0);
}

TEST_CASE("validation names the row, term and dimension at fault", "[core][validation]") {
    const std::vector<std::uint32_t> unsorted = {1, 5, 3};
    const std::vector<std::uint32_t> duplicate = {1, 4, 4};
    const std::vector<std::uint32_t> good = {1, 4, 9};
    const std::vector<float> values = {1.0f, 2.0f, 3.0f};
    const std::vector<float> with_nan = {1.0f, std::numeric_limits<float>::quiet_NaN(), 3.0f};
    const std::vector<float> with_inf = {1.0f, 2.0f, std::numeric_limits<float>::infinity()};
    using V = SparseVectorView<float>;
    REQUIRE_THROWS_WITH(V(unsorted, values).validate(), Catch::Contains("not strictly increasing at position 2") && Catch::Contains("5 then 3"));
    REQUIRE_THROWS_WITH(V(duplicate, values).validate(), Catch::Contains("duplicate term id 4"));
    REQUIRE_THROWS_WITH(V(good, with_nan).validate(), Catch::Contains("weight of term 4 is nan"));
    REQUIRE_THROWS_WITH(V(good, with_inf).validate(), Catch::Contains("not finite"));
    REQUIRE_THROWS_WITH(V(good, values).validate(8), Catch::Contains("term id 9") && Catch::Contains(">= dimension 8"));
    REQUIRE_THROWS_WITH(V(good, std::span<const float>(values.data(), 2)).validate(), Catch::Contains("3 term ids but 2 values"));
    REQUIRE_NOTHROW(V(good, values).validate(10));

    CsrMatrix<float> m(10);
    m.push_back(V(good, values));
    m.push_back(V(unsorted, values));
    REQUIRE_THROWS_WITH(m.validate(), Catch::Contains("row 1"));
    try {
        m.validate();
    } catch (const Error& e) {
        REQUIRE(e.kind() == ErrorKind::invalid_data);
    }
    CsrMatrix<float> bad_ptr(10);
    bad_ptr.push_back(V(good, values));
    bad_ptr.indptr.back() = 2;
    REQUIRE_THROWS_WITH(bad_ptr.validate(), Catch::Contains("last offset 2"));

    REQUIRE_THROWS_WITH(validate_k(0), Catch::Contains("k must be > 0"));
    REQUIRE_THROWS_WITH(validate_k(-3), Catch::Contains("got -3"));
    REQUIRE_THROWS_WITH(validate_dimension(128, 100, "query"), Catch::Contains("query has dimension 100, expected 128"));
    REQUIRE_THROWS_WITH(validate_id(10u, 10, "document"), Catch::Contains("document 10 is out of range (size 10)"));
    REQUIRE_THROWS_WITH(validate_finite(std::span<const float>(with_nan), 7, "base"), Catch::Contains("base row 7"));
}

TEST_CASE("dense matrices: views, strides, Eigen interop", "[core][dense]") {
    DenseMatrix<float> m(3, 4);
    for (std::size_t i = 0; i < 12; ++i) m.values()[i] = static_cast<float>(i);
    const auto e = eigen_map(m.view());
    REQUIRE(e(2, 3) == 11.0f);
    REQUIRE(e.rows() == 3);
    std::vector<float> padded(3 * 6, -1.0f);
    DenseMatrixView<float> pv(padded.data(), 3, 4, 6);
    eigen_map(pv) = eigen_map(m.view());
    REQUIRE(padded[6 + 1] == 5.0f);
    REQUIRE(padded[4] == -1.0f);
    REQUIRE(pv.slice(1, 2).row(0)[0] == 4.0f);
    REQUIRE_THROWS_AS(pv.slice(2, 2), Error);
    REQUIRE_THROWS_WITH(DenseMatrixView<const float>::from_span(std::span<const float>(padded.data(), 10), 4), Catch::Contains("not a multiple"));
    REQUIRE(reinterpret_cast<std::uintptr_t>(m.data()) % 64 == 0);
    DenseMatrix<float> grown;
    grown.append(m.view());
    grown.append(m.view());
    REQUIRE(grown.rows() == 6);
    DenseMatrix<float> other(1, 5);
    REQUIRE_THROWS_AS(grown.append(other.view()), Error);
}
