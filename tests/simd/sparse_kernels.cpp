#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "sparsedense/simd/sparse_kernels.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using namespace sparsedense::simd;
namespace reference = sparsedense::simd::detail::scalar;

TEST_CASE("sparse . dense gather equals the scalar reference at every level", "[simd][sparse]") {
    const std::size_t dim = 5000;
    const auto dense = testing::uniform_vector(dim, 4);
    const auto rows = testing::random_sparse_rows(60, dim, 120, 9);
    for (SimdLevel level : supported_simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (std::size_t r = 0; r < rows.rows(); ++r) {
            const auto v = rows.row(r);
            for (std::size_t len = 0; len <= v.size(); len += (len < 40 ? 1 : 13)) {
                const float ref = reference::sparse_dot_dense(v.ids.data(), v.values.data(), len, dense.data());
                double mass = 0;
                for (std::size_t i = 0; i < len; ++i) mass += std::fabs(v.values[i] * dense[v.ids[i]]);
                CAPTURE(simd_level_name(level), r, len);
                REQUIRE(std::fabs(sparse_dot_dense(v.ids.data(), v.values.data(), len, dense.data()) - ref) <= 1e-5 * mass + 1e-30);
            }
        }
    }
    const auto v = rows.row(0);
    REQUIRE_THROWS_WITH(sparse_dot_dense(v, std::span<const float>(dense.data(), 10)), Catch::Contains(">= dense dimension 10"));
}

TEST_CASE("sparse . sparse: merge and galloping equal a dense reference", "[simd][sparse]") {
    const std::size_t dim = 20000;
    const auto short_rows = testing::random_sparse_rows(30, dim, 8, 21, false);
    const auto mid_rows = testing::random_sparse_rows(30, dim, 150, 22, false);
    const auto long_rows = testing::random_sparse_rows(30, dim, 4000, 23, false);
    auto dense_of = [&](SparseVectorView<float> v) {
        std::vector<double> d(dim, 0.0);
        for (std::size_t i = 0; i < v.size(); ++i) d[v.ids[i]] = v.values[i];
        return d;
    };
    const CsrMatrix<float>* sets[] = {&short_rows, &mid_rows, &long_rows};
    for (const auto* a_set : sets) {
        for (const auto* b_set : sets) {
            for (std::size_t r = 0; r < 30; ++r) {
                const auto a = a_set->row(r);
                const auto b = b_set->row((r * 7) % 30);
                const auto da = dense_of(a);
                double expected = 0.0, mass = 0.0;
                for (std::size_t i = 0; i < b.size(); ++i) {
                    expected += da[b.ids[i]] * b.values[i];
                    mass += std::fabs(da[b.ids[i]] * b.values[i]);
                }
                CAPTURE(a.size(), b.size());
                REQUIRE(std::fabs(sparse_dot_sparse(a, b) - expected) <= 1e-5 * mass + 1e-30);
                REQUIRE(std::fabs(sparse_dot_sparse(b, a) - expected) <= 1e-5 * mass + 1e-30);
                REQUIRE(std::fabs(sparse_dot_sparse_reference(a, b) - expected) <= 1e-5 * mass + 1e-30);
            }
        }
    }
    // stored side in f16
    const auto a = mid_rows.row(1);
    const auto b = long_rows.row(2);
    std::vector<float16> b16(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) b16[i] = float16(b.values[i]);
    const float ref = sparse_dot_sparse_reference(a, SparseVectorView<float16>(b.ids, b16));
    REQUIRE(std::fabs(sparse_dot_sparse(a, SparseVectorView<float16>(b.ids, b16)) - ref) <= 1e-4f * (1.0f + std::fabs(ref)));
    // empty sides
    REQUIRE(sparse_dot_sparse(SparseVectorView<float>(), b) == 0.0f);
}
