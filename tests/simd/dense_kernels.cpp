#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sparsedense/simd/dense_kernels.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using namespace sparsedense::simd;
namespace reference = sparsedense::simd::detail::scalar;

namespace {
// Lengths 0..70 exhaustively (every tail of every register width), then larger odd and even sizes.
std::vector<std::size_t> test_lengths() {
    std::vector<std::size_t> n;
    for (std::size_t i = 0; i <= 70; ++i) n.push_back(i);
    for (std::size_t i : {95u, 100u, 127u, 128u, 129u, 255u, 384u, 511u, 768u, 1000u, 1023u, 1024u, 1031u}) n.push_back(i);
    return n;
}

// SIMD sums reorder the additions: allow rounding proportional to the sum of |terms|.
float tolerance(const float* a, const float* b, std::size_t n, bool l2) {
    double mass = 0.0;
    for (std::size_t i = 0; i < n; ++i) mass += l2 ? double(a[i] - b[i]) * double(a[i] - b[i]) : std::fabs(double(a[i]) * double(b[i]));
    return static_cast<float>(1e-6 * mass * (1.0 + std::log2(1.0 + double(n))) + 1e-30);
}

template <class T>
std::vector<T> narrow(const std::vector<float>& v) {
    std::vector<T> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = from_float<T>(v[i]);
    return out;
}
template <class T>
std::vector<float> widen(const T* p, std::size_t n) {
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = to_float(p[i]);
    return out;
}

template <class T>
void check_one_to_one(SimdLevel level) {
    ScopedSimdLevel scoped(level);
    REQUIRE(active_simd_level() == level);
    const std::size_t max_n = 1031 + 3;
    const auto a_store = testing::uniform_vector(max_n, 1);
    const auto b_float = testing::uniform_vector(max_n, 2);
    const auto b_store = narrow<T>(b_float);
    for (std::size_t offset : {0u, 1u, 3u}) {  // unaligned starts
        for (std::size_t n : test_lengths()) {
            const float* a = a_store.data() + offset;
            const T* b = b_store.data() + offset;
            const auto bw = widen(b, n);
            const float ref_dot = reference::dot(a, b, n);
            const float ref_l2 = reference::l2_squared(a, b, n);
            CAPTURE(simd_level_name(level), n, offset);
            REQUIRE(std::fabs(dot(a, b, n) - ref_dot) <= tolerance(a, bw.data(), n, false));
            REQUIRE(std::fabs(l2_squared(a, b, n) - ref_l2) <= tolerance(a, bw.data(), n, true));
        }
    }
}

template <class T>
void check_many(SimdLevel level) {
    ScopedSimdLevel scoped(level);
    for (std::size_t dim : {1u, 7u, 16u, 33u, 100u, 128u, 385u}) {
        for (std::size_t count : {0u, 1u, 3u, 4u, 5u, 9u, 17u}) {
            const std::size_t stride = dim + 3;  // padded rows
            const auto q = testing::uniform_vector(dim + 1, 5);
            const auto rows = narrow<T>(testing::uniform_vector(count * stride + 1, 6));
            for (ScanHint hint : {ScanHint::automatic, ScanHint::interleaved, ScanHint::sequential}) {
            std::vector<float> out(count + 1, -7.0f);
            dot_many(q.data() + 1, rows.data() + 1, count, dim, stride, out.data(), hint);
            for (std::size_t r = 0; r < count; ++r) {
                const T* row = rows.data() + 1 + r * stride;
                const auto rw = widen(row, dim);
                CAPTURE(simd_level_name(level), dim, count, r);
                REQUIRE(std::fabs(out[r] - reference::dot(q.data() + 1, row, dim)) <= tolerance(q.data() + 1, rw.data(), dim, false));
            }
            REQUIRE(out[count] == -7.0f);  // nothing written past the end
            l2_squared_many(q.data() + 1, rows.data() + 1, count, dim, stride, out.data(), hint);
            for (std::size_t r = 0; r < count; ++r) {
                const T* row = rows.data() + 1 + r * stride;
                const auto rw = widen(row, dim);
                REQUIRE(std::fabs(out[r] - reference::l2_squared(q.data() + 1, row, dim)) <= tolerance(q.data() + 1, rw.data(), dim, true));
            }
            }
        }
    }
}
}  // namespace

TEST_CASE("f32 / f16 / bf16 dot and squared L2 equal the scalar reference at every level", "[simd][dense]") {
    for (SimdLevel level : supported_simd_levels()) {
        check_one_to_one<float>(level);
        check_one_to_one<float16>(level);
        check_one_to_one<bfloat16>(level);
    }
}

TEST_CASE("one query against many rows equals the scalar reference at every level", "[simd][dense]") {
    for (SimdLevel level : supported_simd_levels()) {
        check_many<float>(level);
        check_many<float16>(level);
        check_many<bfloat16>(level);
    }
}

TEST_CASE("register-blocked queries x rows equals the scalar reference at every level", "[simd][dense]") {
    for (SimdLevel level : supported_simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (std::size_t dim : {1u, 15u, 16u, 64u, 100u, 129u}) {
            for (std::size_t nq : {1u, 2u, 4u, 5u, 9u}) {
                for (std::size_t nr : {1u, 3u, 4u, 8u, 13u}) {
                    const auto q = testing::uniform_vector(nq * dim, 11);
                    const auto r = testing::uniform_vector(nr * dim, 12);
                    const std::size_t out_stride = nr + 2;
                    std::vector<float> out(nq * out_stride, -1.0f), out_l2(nq * out_stride, -1.0f);
                    dot_block(q.data(), nq, dim, r.data(), nr, dim, dim, out.data(), out_stride);
                    l2_squared_block(q.data(), nq, dim, r.data(), nr, dim, dim, out_l2.data(), out_stride);
                    for (std::size_t i = 0; i < nq; ++i) {
                        for (std::size_t j = 0; j < nr; ++j) {
                            const float* qi = q.data() + i * dim;
                            const float* rj = r.data() + j * dim;
                            CAPTURE(simd_level_name(level), dim, nq, nr, i, j);
                            REQUIRE(std::fabs(out[i * out_stride + j] - reference::dot(qi, rj, dim)) <= tolerance(qi, rj, dim, false));
                            REQUIRE(std::fabs(out_l2[i * out_stride + j] - reference::l2_squared(qi, rj, dim)) <= tolerance(qi, rj, dim, true));
                        }
                        REQUIRE(out[i * out_stride + nr] == -1.0f);
                    }
                }
            }
        }
    }
}

TEST_CASE("integer dot products are exact at every level", "[simd][dense][int]") {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<std::uint8_t> a(1100), b(1100);
    for (auto& x : a) x = static_cast<std::uint8_t>(byte(rng));
    for (auto& x : b) x = static_cast<std::uint8_t>(byte(rng));
    const auto* ai = reinterpret_cast<const std::int8_t*>(a.data());
    const auto* bi = reinterpret_cast<const std::int8_t*>(b.data());
    for (SimdLevel level : supported_simd_levels()) {
        ScopedSimdLevel scoped(level);
        for (std::size_t offset : {0u, 1u}) {
            for (std::size_t n : test_lengths()) {
                CAPTURE(simd_level_name(level), n, offset);
                REQUIRE(dot(ai + offset, bi + offset, n) == reference::int_dot(ai + offset, bi + offset, n));
                REQUIRE(dot(a.data() + offset, b.data() + offset, n) == reference::int_dot(a.data() + offset, b.data() + offset, n));
                REQUIRE(dot(a.data() + offset, bi + offset, n) == reference::int_dot(a.data() + offset, bi + offset, n));
            }
        }
    }
#if SPARSEDENSE_X86
    // both AVX-512 integer variants (plain vpmaddwd and VNNI vpdpbusd), whichever the dispatcher would pick
    if (simd_level_supported(SimdLevel::avx512)) {
        std::vector<const KernelTable*> tables = {&simd::detail::avx512_table};
        if (cpu_features().avx512vnni) tables.push_back(&simd::detail::avx512_vnni_table);
        for (const KernelTable* t : tables) {
            for (std::size_t n : test_lengths()) {
                CAPTURE(t->vnni, n);
                REQUIRE(t->dot_i8(ai + 1, bi, n) == reference::int_dot(ai + 1, bi, n));
                REQUIRE(t->dot_u8(a.data(), b.data() + 1, n) == reference::int_dot(a.data(), b.data() + 1, n));
                REQUIRE(t->dot_u8_i8(a.data() + 1, bi + 1, n) == reference::int_dot(a.data() + 1, bi + 1, n));
            }
        }
    }
#endif
    // extremes: -128 * -128 and 255 * 255 accumulate without overflow at n = 1024
    std::vector<std::int8_t> m(1024, -128);
    std::vector<std::uint8_t> u(1024, 255);
    for (SimdLevel level : supported_simd_levels()) {
        ScopedSimdLevel scoped(level);
        REQUIRE(dot(m.data(), m.data(), m.size()) == 1024 * 128 * 128);
        REQUIRE(dot(u.data(), u.data(), u.size()) == 1024 * 255 * 255);
        REQUIRE(dot(u.data(), m.data(), u.size()) == -1024 * 255 * 128);
    }
}

TEST_CASE("packed 4-bit codes . int8: every level and AVX-512 variant equals the nibble-by-nibble sum", "[simd][dense]") {
    std::mt19937 rng(11);
    std::vector<std::uint8_t> codes(600);
    std::vector<std::int8_t> q(1200);
    for (auto& c : codes) c = static_cast<std::uint8_t>(rng());
    for (auto& v : q) v = static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127);
    auto reference_u4 = [&](const std::uint8_t* c, const std::int8_t* w, std::size_t half) {
        std::int64_t s = 0;
        for (std::size_t i = 0; i < half; ++i) s += (c[i] % 16) * std::int64_t{w[i]} + (c[i] / 16) * std::int64_t{w[half + i]};
        return s;
    };
    std::vector<const KernelTable*> tables;
    for (SimdLevel level : supported_simd_levels()) tables.push_back(simd::detail::table_for(level));
#if SPARSEDENSE_X86
    if (simd_level_supported(SimdLevel::avx512)) tables.push_back(&simd::detail::avx512_table);  // without VNNI too
#endif
    for (const KernelTable* t : tables) {
        for (std::size_t half : {0u, 1u, 7u, 31u, 32u, 33u, 50u, 63u, 64u, 65u, 127u, 128u, 200u, 384u, 599u}) {
            for (std::size_t offset : {0u, 1u}) {
                CAPTURE(simd_level_name(t->level), t->vnni, half, offset);
                REQUIRE(t->dot_u4_i8(codes.data() + offset, q.data() + offset, half) == reference_u4(codes.data() + offset, q.data() + offset, half));
            }
        }
        // extremes: every nibble 15 against -127 and 127 (no i16 saturation in the pairwise sums)
        std::vector<std::uint8_t> full(256, 0xFF);
        std::vector<std::int8_t> low(512, -127), high(512, 127);
        REQUIRE(t->dot_u4_i8(full.data(), low.data(), 256) == -512 * 15 * 127);
        REQUIRE(t->dot_u4_i8(full.data(), high.data(), 256) == 512 * 15 * 127);
    }
}

TEST_CASE("span and view forms check their dimensions", "[simd][dense][validation]") {
    std::vector<float> a(8, 1.0f), b(9, 1.0f);
    REQUIRE_THROWS_WITH(dot(std::span<const float>(a), std::span<const float>(b)), Catch::Contains("lengths 8 and 9"));
    REQUIRE(dot(std::span<const float>(a), std::span<const float>(a)) == 8.0f);
    std::vector<float> rows(3 * 9, 1.0f), out(3);
    DenseMatrixView<const float> view(rows.data(), 3, 9);
    REQUIRE_THROWS_WITH(dot_many(std::span<const float>(a), view, std::span<float>(out)), Catch::Contains("dimension 8"));
    std::vector<float> short_out(2);
    REQUIRE_THROWS_WITH(dot_many(std::span<const float>(b), view, std::span<float>(short_out)), Catch::Contains("2 slots for 3 rows"));
}

TEST_CASE("levels: detection, forcing and reporting", "[simd][dispatch]") {
    const auto levels = supported_simd_levels();
    REQUIRE(levels.front() == SimdLevel::scalar);
    REQUIRE(levels.back() == detected_simd_level());
    REQUIRE(parse_simd_level("avx2") == SimdLevel::avx2);
    REQUIRE_THROWS_WITH(parse_simd_level("avx9"), Catch::Contains("unknown SIMD level"));
    {
        ScopedSimdLevel scoped(SimdLevel::scalar);
        REQUIRE(active_simd_level() == SimdLevel::scalar);
    }
    if (detected_simd_level() != SimdLevel::avx512) REQUIRE_THROWS_AS(set_simd_level(SimdLevel::avx512), Error);
    INFO("detected level: " << simd_level_name(detected_simd_level()));
    SUCCEED();
}
