// sparsedense/simd/detail/avx2_kernels.hpp
//
// AVX2 level (AVX2 + FMA + F16C), compiled in a function-level target region like the AVX-512 one. 8 float lanes;
// tails go through a zero-padded copy (no masked loads for 16-bit types on AVX2). Integer dots widen 16 bytes to
// 16 x i16 and use vpmaddwd.
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/detail/flat_scan_table.hpp"

SPARSEDENSE_AVX2_REGION_BEGIN

namespace sparsedense::simd::detail::avx2 {

struct V {
    using F = __m256;
    static constexpr std::size_t W = 8, BQ = 2, BR = 4, many_rows = 4;
    static inline F zero() noexcept { return _mm256_setzero_ps(); }
    static constexpr std::size_t panel_queries = 6, panel_vectors = 2;  // 12 accumulators of 16 registers
    static inline F set1(float x) noexcept { return _mm256_set1_ps(x); }
    static inline void store(float* p, F x) noexcept { _mm256_storeu_ps(p, x); }
    static inline F load(const float* p) noexcept { return _mm256_loadu_ps(p); }
    static inline F load(const float16* p) noexcept { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static inline F load(const bfloat16* p) noexcept {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
    }
    template <class T>
    static inline F load_partial(const T* p, std::size_t n) noexcept {
        alignas(32) T buffer[W] = {};
        std::memcpy(buffer, p, n * sizeof(T));
        return load(buffer);
    }
    // int16 query x int8 codes, 16 per step, pairwise products summed into 8 x int32 (flat_scan_body.inl)
    static inline __m256i zero_i() noexcept { return _mm256_setzero_si256(); }
    static inline __m256i madd_i8(const std::int16_t* q, const std::int8_t* c, __m256i acc) noexcept {
        const __m256i cw = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
        return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)), cw));
    }
    static inline __m256i madd_i8_partial(const std::int16_t* q, const std::int8_t* c, std::size_t n, __m256i acc) noexcept {
        alignas(32) std::int16_t qb[16] = {};
        alignas(16) std::int8_t cb[16] = {};
        std::memcpy(qb, q, n * 2);
        std::memcpy(cb, c, n);
        return madd_i8(qb, cb, acc);
    }
    static inline __m256i add_i(__m256i a, __m256i b) noexcept { return _mm256_add_epi32(a, b); }
    static inline F i_to_f(__m256i a) noexcept { return _mm256_cvtepi32_ps(a); }
    static inline F fmadd(F a, F b, F c) noexcept { return _mm256_fmadd_ps(a, b, c); }
    static inline F sub(F a, F b) noexcept { return _mm256_sub_ps(a, b); }
    static inline F add(F a, F b) noexcept { return _mm256_add_ps(a, b); }
    static inline float reduce(F a) noexcept {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
};

#include "sparsedense/simd/detail/kernel_body.inl"
#include "sparsedense/simd/detail/flat_scan_body.inl"

template <bool SignedA, bool SignedB>
inline std::int32_t int_dot(const void* a_ptr, const void* b_ptr, std::size_t n) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_ptr);
    const auto* b = static_cast<const std::uint8_t*>(b_ptr);
    auto widen = [](__m128i x, bool is_signed) { return is_signed ? _mm256_cvtepi8_epi16(x) : _mm256_cvtepu8_epi16(x); };
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)), SignedA),
                                                     widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)), SignedB)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 16)), SignedA),
                                                     widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 16)), SignedB)));
    }
    s0 = _mm256_add_epi32(s0, s1);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s0), _mm256_extracti128_si256(s0, 1));
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

/// Packed 4-bit codes . int8 (scalar_kernels.hpp has the layout): nibbles masked out, vpmaddubsw (u8 x i8 pairs,
/// at most 2 * 15 * 127 per i16 lane: no saturation), vpmaddwd into i32.
inline std::int32_t dot_u4_i8(const std::uint8_t* codes, const std::int8_t* q, std::size_t half) noexcept {
    const __m256i low4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 32 <= half; i += 32) {
        const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + i));
        const __m256i lo = _mm256_and_si256(c, low4), hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), low4);
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i))),
                                           _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + half + i))));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    std::int32_t total = _mm_cvtsi128_si32(s);
    for (; i < half; ++i) total += (codes[i] & 15) * std::int32_t{q[i]} + (codes[i] >> 4) * std::int32_t{q[half + i]};
    return total;
}

inline float sparse_dot_dense(const std::uint32_t* ids, const float* values, std::size_t n, const float* dense) noexcept {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i i0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i));
        const __m256i i1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i + 8));
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(values + i), _mm256_i32gather_ps(dense, i0, 4), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(values + i + 8), _mm256_i32gather_ps(dense, i1, 4), s1);
    }
    float total = V::reduce(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) total += values[i] * dense[ids[i]];
    return total;
}

}  // namespace sparsedense::simd::detail::avx2

SPARSEDENSE_TARGET_REGION_END
