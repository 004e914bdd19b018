// sparsedense/simd/detail/pq_avx512_kernels.hpp
//
// AVX-512 (F/BW/VL/DQ) product-quantization kernels, compiled in a function-level target region like
// avx512_kernels.hpp; selected through simd::KernelTable::pq (dispatch.hpp). Contracts: simd/pq_kernels.hpp.
//   argmin        16 centroids per compare, ties to the smaller index (identical to the scalar loop)
//   lut_build     the codebooks transposed: one FMA per dimension for 16 centroids
//   lut_quantize  identical bytes to the scalar reference (same float expression, truncation)
//   fast_scan     two sub-quantizer pairs per vpshufb (four 128-bit lanes), u16 accumulators: exact sums
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "sparsedense/simd/detail/pq_scalar_kernels.hpp"

SPARSEDENSE_AVX512_REGION_BEGIN

namespace sparsedense::simd::detail::pq_avx512 {

inline void argmin(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
                    float* value) noexcept {
    const __m512 two = _mm512_set1_ps(2.0f);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (std::size_t i = 0; i < count; ++i) {
        const float* row = dots + i * stride;
        __m512 vmin = _mm512_set1_ps(std::numeric_limits<float>::max());
        __m512i vidx = _mm512_setzero_si512();
        __m512i cidx = lane;
        const __m512i step = _mm512_set1_epi32(16);
        std::size_t c = 0;
        for (; c + 16 <= k; c += 16) {
            const __m512 v = norms ? _mm512_sub_ps(_mm512_loadu_ps(norms + c), _mm512_mul_ps(two, _mm512_loadu_ps(row + c))) : _mm512_loadu_ps(row + c);
            const __mmask16 lt = _mm512_cmp_ps_mask(v, vmin, _CMP_LT_OQ);
            vmin = _mm512_mask_mov_ps(vmin, lt, v);
            vidx = _mm512_mask_mov_epi32(vidx, lt, cidx);
            cidx = _mm512_add_epi32(cidx, step);
        }
        if (c < k) {
            const __mmask16 tail = static_cast<__mmask16>((1u << (k - c)) - 1u);
            const __m512 v = norms ? _mm512_sub_ps(_mm512_maskz_loadu_ps(tail, norms + c), _mm512_mul_ps(two, _mm512_maskz_loadu_ps(tail, row + c)))
                                   : _mm512_maskz_loadu_ps(tail, row + c);
            const __mmask16 lt = _mm512_mask_cmp_ps_mask(tail, v, vmin, _CMP_LT_OQ);
            vmin = _mm512_mask_mov_ps(vmin, lt, v);
            vidx = _mm512_mask_mov_epi32(vidx, lt, cidx);
        }
        const float best = _mm512_reduce_min_ps(vmin);
        const __mmask16 eq = _mm512_cmp_ps_mask(vmin, _mm512_set1_ps(best), _CMP_EQ_OQ);
        arg[i] = static_cast<std::uint32_t>(_mm512_mask_reduce_min_epu32(eq, vidx));
        value[i] = best;
    }
}

inline void lut_build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                  bool l2, float* lut) noexcept {
    if (ksub % 16 != 0) return pq_scalar::lut_build(q, t, offsets, m, ksub, cnorm, l2, lut);
    const std::size_t nv = ksub / 16;
    for (std::size_t s = 0; s < m; ++s) {
        float* out = lut + s * ksub;
        float qn = 0.0f;
        for (std::size_t v = 0; v < nv; ++v) {
            __m512 acc = _mm512_setzero_ps();
            for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(q[j]), _mm512_loadu_ps(t + j * ksub + v * 16), acc);
            if (l2) {
                if (v == 0)
                    for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j) qn += q[j] * q[j];
                acc = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(-2.0f), acc, _mm512_set1_ps(qn)), _mm512_loadu_ps(cnorm + s * ksub + v * 16));
            } else {
                acc = _mm512_sub_ps(_mm512_setzero_ps(), acc);
            }
            _mm512_storeu_ps(out + v * 16, acc);
        }
    }
}

inline void lut_quantize(const float* lut, std::size_t m, std::uint8_t* out, float* bias, float* scale) noexcept {
    float max_range = 0.0f, sum_range = 0.0f, b = 0.0f;
    for (std::size_t s = 0; s < m; ++s) {
        const __m512 v = _mm512_loadu_ps(lut + s * 16);
        const float lo = _mm512_reduce_min_ps(v), hi = _mm512_reduce_max_ps(v);
        b += lo;
        max_range = std::max(max_range, hi - lo);
        sum_range += hi - lo;
    }
    float sc = max_range > 0.0f ? 255.0f / max_range : 1.0f;
    if (sum_range * sc > 65535.0f) sc = 65535.0f / sum_range;
    const __m512 vs = _mm512_set1_ps(sc), half = _mm512_set1_ps(0.5f), top = _mm512_set1_ps(255.0f), zero = _mm512_setzero_ps();
    for (std::size_t s = 0; s < m; ++s) {
        const __m512 v = _mm512_loadu_ps(lut + s * 16);
        const __m512 lo = _mm512_set1_ps(_mm512_reduce_min_ps(v));
        // same float operations as the reference: ((t - lo) * sc) + 0.5, clamped, truncated
        __m512 x = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v, lo), vs), half);
        x = _mm512_max_ps(_mm512_min_ps(x, top), zero);
        const __m512i i = _mm512_cvttps_epi32(x);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + s * 16), _mm512_cvtepi32_epi8(i));
    }
    *bias = b;
    *scale = sc;
}

/// Emits 32 u16 sums from even/odd accumulators of the low (vectors 0-15) and high (16-31) nibbles, each an xmm
/// of 8 u16 (vectors 0,2,..,14 / 1,3,..,15), and their threshold mask.
inline std::uint32_t finish(__m128i lo_even, __m128i lo_odd, __m128i hi_even, __m128i hi_odd, __m128i thr, std::uint16_t* out) noexcept {
    const __m128i v0 = _mm_unpacklo_epi16(lo_even, lo_odd), v1 = _mm_unpackhi_epi16(lo_even, lo_odd);
    const __m128i v2 = _mm_unpacklo_epi16(hi_even, hi_odd), v3 = _mm_unpackhi_epi16(hi_even, hi_odd);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), v1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), v2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 24), v3);
    auto le = [thr](__m128i v) { return _mm_cmpeq_epi16(_mm_max_epu16(v, thr), thr); };
    const std::uint32_t m01 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(le(v0), le(v1))));
    const std::uint32_t m23 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(le(v2), le(v3))));
    return m01 | (m23 << 16);
}

inline __m128i sum_lanes(__m512i v) noexcept {
    const __m256i h = _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_add_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
inline __m128i sum_lanes(__m256i v) noexcept { return _mm_add_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); }

inline void fast_scan(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut,
                 std::uint16_t threshold, std::uint16_t* out, std::uint32_t* masks) noexcept {
    const std::size_t bb = npairs * 32, nquads = npairs / 2;
    const __m512i low4 = _mm512_set1_epi8(0x0F), low8 = _mm512_set1_epi16(0x00FF);
    const __m128i thr = _mm_set1_epi16(static_cast<short>(threshold));
    for (std::size_t b = 0; b < nblocks; ++b) {
        const std::uint8_t* block = codes + b * bb;
        if (b + 2 < nblocks) {
            _mm_prefetch(reinterpret_cast<const char*>(block + 2 * bb), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(block + 2 * bb + 64), _MM_HINT_T0);
        }
        __m512i le = _mm512_setzero_si512(), lo = _mm512_setzero_si512(), he = _mm512_setzero_si512(), ho = _mm512_setzero_si512();
        for (std::size_t q = 0; q < nquads; ++q) {
            const __m512i c = _mm512_loadu_si512(block + q * 64);
            const __m512i t = _mm512_loadu_si512(lut + q * 64);
            const __m512i rl = _mm512_shuffle_epi8(t, _mm512_and_si512(c, low4));
            const __m512i rh = _mm512_shuffle_epi8(t, _mm512_and_si512(_mm512_srli_epi16(c, 4), low4));
            le = _mm512_add_epi16(le, _mm512_and_si512(rl, low8));
            lo = _mm512_add_epi16(lo, _mm512_srli_epi16(rl, 8));
            he = _mm512_add_epi16(he, _mm512_and_si512(rh, low8));
            ho = _mm512_add_epi16(ho, _mm512_srli_epi16(rh, 8));
        }
        __m128i sle = sum_lanes(le), slo = sum_lanes(lo), she = sum_lanes(he), sho = sum_lanes(ho);
        if (npairs % 2) {  // last pair with 256-bit registers
            const __m256i l4 = _mm256_set1_epi8(0x0F), l8 = _mm256_set1_epi16(0x00FF);
            const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + nquads * 64));
            const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + nquads * 64));
            const __m256i rl = _mm256_shuffle_epi8(t, _mm256_and_si256(c, l4));
            const __m256i rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), l4));
            sle = _mm_add_epi16(sle, sum_lanes(_mm256_and_si256(rl, l8)));
            slo = _mm_add_epi16(slo, sum_lanes(_mm256_srli_epi16(rl, 8)));
            she = _mm_add_epi16(she, sum_lanes(_mm256_and_si256(rh, l8)));
            sho = _mm_add_epi16(sho, sum_lanes(_mm256_srli_epi16(rh, 8)));
        }
        masks[b] = finish(sle, slo, she, sho, thr, out + b * fast_scan_layout::kBlock);
    }
}

}  // namespace sparsedense::simd::detail::pq_avx512

SPARSEDENSE_TARGET_REGION_END
