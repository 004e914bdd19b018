// sparsedense/simd/detail/avx512_kernels.hpp
//
// AVX-512 level (F/BW/VL/DQ + FMA/F16C; VNNI variants for integer dot products). Compiled with a function-level
// target region, so the including program needs no -m flags; only called after cpuid says the CPU has it.
// Float kernels: 16 lanes, masked loads for tails (no scalar remainder loop); f16 widened with vcvtph2ps, bf16 by a
// 16-bit shift. Integer kernels: 32 bytes widened to 32 x i16, then vpmaddwd into i32; with VNNI, vpdpbusd on 64 bytes.
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/detail/flat_scan_table.hpp"

SPARSEDENSE_AVX512_REGION_BEGIN

namespace sparsedense::simd::detail::avx512 {

struct V {
    using F = __m512;
    static constexpr std::size_t W = 16, BQ = 4, BR = 4, many_rows = 8;
    static inline F zero() noexcept { return _mm512_setzero_ps(); }
    // panel kernel (flat_scan_body.inl): 12 queries x 2 registers of rows = 24 accumulators
    static constexpr std::size_t panel_queries = 12, panel_vectors = 2;
    static inline F set1(float x) noexcept { return _mm512_set1_ps(x); }
    static inline void store(float* p, F x) noexcept { _mm512_storeu_ps(p, x); }
    static inline F load(const float* p) noexcept { return _mm512_loadu_ps(p); }
    static inline F load(const float16* p) noexcept { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static inline F load(const bfloat16* p) noexcept {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
    }
    static inline __mmask16 mask(std::size_t n) noexcept { return static_cast<__mmask16>((1u << n) - 1u); }
    static inline F load_partial(const float* p, std::size_t n) noexcept { return _mm512_maskz_loadu_ps(mask(n), p); }
    static inline F load_partial(const float16* p, std::size_t n) noexcept { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p)); }
    static inline F load_partial(const bfloat16* p, std::size_t n) noexcept {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask(n), p)), 16));
    }
    // int16 query x int8 codes, 32 per step, pairwise products summed into 16 x int32 (flat_scan_body.inl)
    static inline __m512i zero_i() noexcept { return _mm512_setzero_si512(); }
    static inline __m512i madd_i8(const std::int16_t* q, const std::int8_t* c, __m512i acc) noexcept {
        const __m512i cw = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_loadu_si512(q), cw));
    }
    static inline __m512i madd_i8_partial(const std::int16_t* q, const std::int8_t* c, std::size_t n, __m512i acc) noexcept {
        const __mmask32 m = static_cast<__mmask32>((std::uint64_t{1} << n) - 1u);
        const __m512i cw = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, c));
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(m, q), cw));
    }
    static inline __m512i add_i(__m512i a, __m512i b) noexcept { return _mm512_add_epi32(a, b); }
    static inline F i_to_f(__m512i a) noexcept { return _mm512_cvtepi32_ps(a); }
    static inline F fmadd(F a, F b, F c) noexcept { return _mm512_fmadd_ps(a, b, c); }
    static inline F sub(F a, F b) noexcept { return _mm512_sub_ps(a, b); }
    static inline F add(F a, F b) noexcept { return _mm512_add_ps(a, b); }
    static inline float reduce(F a) noexcept { return _mm512_reduce_add_ps(a); }
};

#include "sparsedense/simd/detail/kernel_body.inl"
#include "sparsedense/simd/detail/flat_scan_body.inl"

// ---- integer dot products: widen 32 bytes to 32 x i16, multiply-add pairs into 16 x i32.
template <bool SignedA, bool SignedB>
inline std::int32_t int_dot(const void* a_ptr, const void* b_ptr, std::size_t n) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_ptr);
    const auto* b = static_cast<const std::uint8_t*>(b_ptr);
    auto widen = [](__m256i x, bool is_signed) { return is_signed ? _mm512_cvtepi8_epi16(x) : _mm512_cvtepu8_epi16(x); };
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i a0 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)), SignedA);
        const __m512i b0 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)), SignedB);
        const __m512i a1 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 32)), SignedA);
        const __m512i b1 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 32)), SignedB);
        s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(a0, b0));
        s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(a1, b1));
    }
    for (; i < n; i += 32) {
        const __mmask32 m = n - i >= 32 ? ~__mmask32(0) : static_cast<__mmask32>((1ull << (n - i)) - 1ull);
        const __m512i a0 = widen(_mm256_maskz_loadu_epi8(m, a + i), SignedA);
        const __m512i b0 = widen(_mm256_maskz_loadu_epi8(m, b + i), SignedB);
        s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(a0, b0));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
}

inline std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t n) noexcept { return int_dot<true, true>(a, b, n); }
inline std::int32_t dot_u8(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept { return int_dot<false, false>(a, b, n); }
inline std::int32_t dot_u8_i8(const std::uint8_t* a, const std::int8_t* b, std::size_t n) noexcept { return int_dot<false, true>(a, b, n); }
// ---- VNNI: vpdpbusd multiplies 64 unsigned bytes by 64 signed bytes and adds groups of four into 16 x i32.
// u8 . i8 is the instruction itself. The other sign combinations are rewritten onto it with a 128 bias:
//   i8 . i8:  a . b = (a + 128) . b - 128 * sum(b)      (a + 128 = a ^ 0x80 as unsigned)
//   u8 . u8:  a . b = a . (b - 128) + 128 * sum(a)      (b - 128 = b ^ 0x80 as signed)
// The sums come from one more vpdpbusd against a vector of ones. Exact in i32 for n <= 33,025 (as documented).
// VNNI is optional at the AVX-512 level, so only these functions are compiled for it (the dispatcher picks them
// when cpuid reports AVX512_VNNI).
template <int Mode>  // 0: u8.i8, 1: i8.i8, 2: u8.u8
__attribute__((target(SPARSEDENSE_AVX512_FEATURES ",avx512vnni"))) inline std::int32_t vnni_dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i ones_u8 = _mm512_set1_epi8(1);
    __m512i acc = _mm512_setzero_si512(), bias = _mm512_setzero_si512();
    for (std::size_t i = 0; i < n; i += 64) {
        const __mmask64 m = n - i >= 64 ? ~__mmask64(0) : ((__mmask64(1) << (n - i)) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(m, a + i);
        __m512i y = _mm512_maskz_loadu_epi8(m, b + i);
        if constexpr (Mode == 1) {
            x = _mm512_maskz_xor_epi32(0xffff, x, _mm512_maskz_mov_epi8(m, flip));  // a + 128 on live lanes, 0 elsewhere
            bias = _mm512_dpbusd_epi32(bias, ones_u8, y);                              // sum(b)
        } else if constexpr (Mode == 2) {
            bias = _mm512_dpbusd_epi32(bias, x, ones_u8);                              // sum(a)
            y = _mm512_xor_si512(y, _mm512_maskz_mov_epi8(m, flip));                   // b - 128 on live lanes, 0 elsewhere
        }
        acc = _mm512_dpbusd_epi32(acc, x, y);
    }
    std::int32_t total = _mm512_reduce_add_epi32(acc);
    if constexpr (Mode == 1) total -= 128 * _mm512_reduce_add_epi32(bias);
    if constexpr (Mode == 2) total += 128 * _mm512_reduce_add_epi32(bias);
    return total;
}
__attribute__((target(SPARSEDENSE_AVX512_FEATURES ",avx512vnni"))) inline std::int32_t dot_i8_vnni(const std::int8_t* a, const std::int8_t* b, std::size_t n) noexcept {
    return vnni_dot<1>(reinterpret_cast<const std::uint8_t*>(a), reinterpret_cast<const std::uint8_t*>(b), n);
}
__attribute__((target(SPARSEDENSE_AVX512_FEATURES ",avx512vnni"))) inline std::int32_t dot_u8_vnni(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept { return vnni_dot<2>(a, b, n); }
__attribute__((target(SPARSEDENSE_AVX512_FEATURES ",avx512vnni"))) inline std::int32_t dot_u8_i8_vnni(const std::uint8_t* a, const std::int8_t* b, std::size_t n) noexcept {
    return vnni_dot<0>(a, reinterpret_cast<const std::uint8_t*>(b), n);
}

// ---- packed 4-bit codes . int8 (layout in scalar_kernels.hpp): 64 code bytes give 128 nibbles, masked into two
// u8 vectors; without VNNI they are widened to i16 for vpmaddwd, with VNNI each half is one vpdpbusd.
inline std::int32_t dot_u4_i8(const std::uint8_t* codes, const std::int8_t* q, std::size_t half) noexcept {
    const __m512i low4 = _mm512_set1_epi8(15), ones = _mm512_set1_epi16(1);
    __m512i acc = _mm512_setzero_si512();
    for (std::size_t i = 0; i < half; i += 64) {
        const __mmask64 m = half - i >= 64 ? ~__mmask64(0) : ((__mmask64(1) << (half - i)) - 1);
        const __m512i c = _mm512_maskz_loadu_epi8(m, codes + i);
        const __m512i lo = _mm512_and_si512(c, low4), hi = _mm512_and_si512(_mm512_srli_epi16(c, 4), low4);
        const __m512i p = _mm512_add_epi16(_mm512_maddubs_epi16(lo, _mm512_maskz_loadu_epi8(m, q + i)),
                                           _mm512_maddubs_epi16(hi, _mm512_maskz_loadu_epi8(m, q + half + i)));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(p, ones));
    }
    return _mm512_reduce_add_epi32(acc);
}
__attribute__((target(SPARSEDENSE_AVX512_FEATURES ",avx512vnni"))) inline std::int32_t dot_u4_i8_vnni(const std::uint8_t* codes, const std::int8_t* q,
                                                                                                       std::size_t half) noexcept {
    const __m512i low4 = _mm512_set1_epi8(15);
    __m512i acc = _mm512_setzero_si512();
    for (std::size_t i = 0; i < half; i += 64) {
        const __mmask64 m = half - i >= 64 ? ~__mmask64(0) : ((__mmask64(1) << (half - i)) - 1);
        const __m512i c = _mm512_maskz_loadu_epi8(m, codes + i);
        acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(c, low4), _mm512_maskz_loadu_epi8(m, q + i));
        acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(_mm512_srli_epi16(c, 4), low4), _mm512_maskz_loadu_epi8(m, q + half + i));
    }
    return _mm512_reduce_add_epi32(acc);
}

// ---- sparse . dense: gather 16 dense values per step.
inline float sparse_dot_dense(const std::uint32_t* ids, const float* values, std::size_t n, const float* dense) noexcept {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512i i0 = _mm512_loadu_si512(ids + i);
        const __m512i i1 = _mm512_loadu_si512(ids + i + 16);
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(values + i), _mm512_i32gather_ps(i0, dense, 4), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(values + i + 16), _mm512_i32gather_ps(i1, dense, 4), s1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1u);
        const __m512i idx = _mm512_maskz_loadu_epi32(m, ids + i);
        const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, dense, 4);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, values + i), g, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

}  // namespace sparsedense::simd::detail::avx512

SPARSEDENSE_TARGET_REGION_END
