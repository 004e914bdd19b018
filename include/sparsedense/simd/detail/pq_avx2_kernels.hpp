// sparsedense/simd/detail/pq_avx2_kernels.hpp
//
// AVX2 (+ FMA) product-quantization kernels, compiled in a function-level target region like avx2_kernels.hpp;
// selected through simd::KernelTable::pq (dispatch.hpp). Contracts: simd/pq_kernels.hpp. The argmin and LUT
// quantization of this level are the scalar ones (they were not faster with 8 lanes).
//   lut_build  the codebooks transposed: one FMA per dimension for 8 centroids
//   fast_scan  one sub-quantizer pair per vpshufb (two 128-bit lanes), u16 accumulators: exact sums
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "sparsedense/simd/detail/pq_scalar_kernels.hpp"

SPARSEDENSE_AVX2_REGION_BEGIN

namespace sparsedense::simd::detail::pq_avx2 {


inline void lut_build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                  bool l2, float* lut) noexcept {
    if (ksub % 8 != 0) return pq_scalar::lut_build(q, t, offsets, m, ksub, cnorm, l2, lut);
    const std::size_t nv = ksub / 8;
    for (std::size_t s = 0; s < m; ++s) {
        float* out = lut + s * ksub;
        float qn = 0.0f;
        if (l2)
            for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j) qn += q[j] * q[j];
        for (std::size_t v = 0; v < nv; ++v) {
            __m256 acc = _mm256_setzero_ps();
            for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(q[j]), _mm256_loadu_ps(t + j * ksub + v * 8), acc);
            if (l2) acc = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(-2.0f), acc, _mm256_set1_ps(qn)), _mm256_loadu_ps(cnorm + s * ksub + v * 8));
            else acc = _mm256_sub_ps(_mm256_setzero_ps(), acc);
            _mm256_storeu_ps(out + v * 8, acc);
        }
    }
}


inline void fast_scan(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut,
                 std::uint16_t threshold, std::uint16_t* out, std::uint32_t* masks) noexcept {
    const std::size_t bb = npairs * 32;
    const __m256i low4 = _mm256_set1_epi8(0x0F), low8 = _mm256_set1_epi16(0x00FF);
    const __m128i thr = _mm_set1_epi16(static_cast<short>(threshold));
    for (std::size_t b = 0; b < nblocks; ++b) {
        const std::uint8_t* block = codes + b * bb;
        if (b + 2 < nblocks) _mm_prefetch(reinterpret_cast<const char*>(block + 2 * bb), _MM_HINT_T0);
        __m256i le = _mm256_setzero_si256(), lo = _mm256_setzero_si256(), he = _mm256_setzero_si256(), ho = _mm256_setzero_si256();
        for (std::size_t p = 0; p < npairs; ++p) {
            const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + p * 32));
            const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + p * 32));
            const __m256i rl = _mm256_shuffle_epi8(t, _mm256_and_si256(c, low4));
            const __m256i rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), low4));
            le = _mm256_add_epi16(le, _mm256_and_si256(rl, low8));
            lo = _mm256_add_epi16(lo, _mm256_srli_epi16(rl, 8));
            he = _mm256_add_epi16(he, _mm256_and_si256(rh, low8));
            ho = _mm256_add_epi16(ho, _mm256_srli_epi16(rh, 8));
        }
        auto sum = [](__m256i v) { return _mm_add_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); };
        const __m128i sle = sum(le), slo = sum(lo), she = sum(he), sho = sum(ho);
        const __m128i v0 = _mm_unpacklo_epi16(sle, slo), v1 = _mm_unpackhi_epi16(sle, slo);
        const __m128i v2 = _mm_unpacklo_epi16(she, sho), v3 = _mm_unpackhi_epi16(she, sho);
        std::uint16_t* o = out + b * fast_scan_layout::kBlock;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v0);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 8), v1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16), v2);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 24), v3);
        auto le_thr = [thr](__m128i v) { return _mm_cmpeq_epi16(_mm_max_epu16(v, thr), thr); };
        const std::uint32_t m01 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(le_thr(v0), le_thr(v1))));
        const std::uint32_t m23 = static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(le_thr(v2), le_thr(v3))));
        masks[b] = m01 | (m23 << 16);
    }
}

}  // namespace sparsedense::simd::detail::pq_avx2

SPARSEDENSE_TARGET_REGION_END
