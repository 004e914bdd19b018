// sparsedense/simd/detail/sse_kernels.hpp
//
// SSE level: the x86-64 baseline (SSE2), written with xsimd's batch<float, sse2>, which needs no extra compiler
// flags. f16/bf16 are widened through a small buffer (SSE2 has no half-precision conversion); integer dots use
// SSE2 unpack + pmaddwd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/detail/flat_scan_table.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xsimd/xsimd.hpp>

namespace sparsedense::simd::detail::sse {

struct V {
    using F = xsimd::batch<float, xsimd::sse2>;
    static constexpr std::size_t W = 4, BQ = 2, BR = 2, many_rows = 4;
    static inline F zero() noexcept { return F(0.0f); }
    static constexpr std::size_t panel_queries = 3, panel_vectors = 4;  // 12 accumulators of 16 registers
    static inline F set1(float x) noexcept { return F(x); }
    static inline void store(float* p, F x) noexcept { x.store_unaligned(p); }
    static inline F load(const float* p) noexcept { return F::load_unaligned(p); }
    template <class T>
    static inline F load(const T* p) noexcept {
        alignas(16) float buffer[W];
        for (std::size_t i = 0; i < W; ++i) buffer[i] = p[i].to_float();
        return F::load_aligned(buffer);
    }
    template <class T>
    static inline F load_partial(const T* p, std::size_t n) noexcept {
        alignas(16) float buffer[W] = {};
        for (std::size_t i = 0; i < n; ++i) buffer[i] = to_float(p[i]);
        return F::load_aligned(buffer);
    }
    static inline F fmadd(F a, F b, F c) noexcept { return a * b + c; }
    static inline F sub(F a, F b) noexcept { return a - b; }
    static inline F add(F a, F b) noexcept { return a + b; }
    static inline float reduce(F a) noexcept { return xsimd::hadd(a); }
};

#include "sparsedense/simd/detail/kernel_body.inl"
#include "sparsedense/simd/detail/flat_scan_body.inl"

template <bool SignedA, bool SignedB>
inline std::int32_t int_dot(const void* a_ptr, const void* b_ptr, std::size_t n) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_ptr);
    const auto* b = static_cast<const std::uint8_t*>(b_ptr);
    const __m128i zero = _mm_setzero_si128();
    // widen the low / high 8 bytes of x to 8 x i16
    auto lo = [&](__m128i x, bool is_signed) { return is_signed ? _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8) : _mm_unpacklo_epi8(x, zero); };
    auto hi = [&](__m128i x, bool is_signed) { return is_signed ? _mm_srai_epi16(_mm_unpackhi_epi8(x, x), 8) : _mm_unpackhi_epi8(x, zero); };
    __m128i s = _mm_setzero_si128();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
        const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        s = _mm_add_epi32(s, _mm_madd_epi16(lo(x, SignedA), lo(y, SignedB)));
        s = _mm_add_epi32(s, _mm_madd_epi16(hi(x, SignedA), hi(y, SignedB)));
    }
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    std::int32_t total = _mm_cvtsi128_si32(s);
    for (; i < n; ++i) {
        const std::int32_t x = SignedA ? static_cast<std::int32_t>(static_cast<std::int8_t>(a[i])) : a[i];
        const std::int32_t y = SignedB ? static_cast<std::int32_t>(static_cast<std::int8_t>(b[i])) : b[i];
        total += x * y;
    }
    return total;
}

inline std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t n) noexcept { return int_dot<true, true>(a, b, n); }
inline std::int32_t dot_u8(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept { return int_dot<false, false>(a, b, n); }
inline std::int32_t dot_u8_i8(const std::uint8_t* a, const std::int8_t* b, std::size_t n) noexcept { return int_dot<false, true>(a, b, n); }

}  // namespace sparsedense::simd::detail::sse
#endif
