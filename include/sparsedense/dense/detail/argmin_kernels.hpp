// sparsedense/dense/detail/argmin_kernels.hpp
//
// The selection half of a k-means assignment step (and of PQ encoding): for each row of k dot products x.c, the
// centroid minimising |c|^2 - 2 x.c and that value. Every level evaluates the same float expression
// (norm - 2 * dot, no fused multiply-add; or the plain value when no norms are given) and breaks ties towards the smaller centroid index, so results are
// bit-identical across levels and equal to the scalar loop.
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>

#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/dispatch.hpp"

#if SPARSEDENSE_X86
#include <immintrin.h>
#endif

namespace sparsedense::detail::argmin {

inline void nearest_reference(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
                              float* value) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
        const float* row = dots + i * stride;
        float best = std::numeric_limits<float>::max();
        std::uint32_t a = 0;
        for (std::size_t c = 0; c < k; ++c) {
            const float v = norms ? norms[c] - 2.0f * row[c] : row[c];
            if (v < best) {
                best = v;
                a = static_cast<std::uint32_t>(c);
            }
        }
        arg[i] = a;
        value[i] = best;
    }
}

}  // namespace sparsedense::detail::argmin

#if SPARSEDENSE_X86

SPARSEDENSE_AVX512_REGION_BEGIN

namespace sparsedense::detail::argmin::avx512 {

inline void nearest(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
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

}  // namespace sparsedense::detail::argmin::avx512

SPARSEDENSE_TARGET_REGION_END

#endif  // SPARSEDENSE_X86

namespace sparsedense::detail::argmin {

/// arg[i], value[i] = argmin / min over c < k of norms[c] - 2 * dots[i * stride + c] (of dots[...] itself when norms
/// is null).
inline void nearest(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
                    float* value) noexcept {
#if SPARSEDENSE_X86
    if (simd::active_simd_level() == simd::SimdLevel::avx512) return avx512::nearest(dots, count, k, stride, norms, arg, value);
#endif
    nearest_reference(dots, count, k, stride, norms, arg, value);
}

}  // namespace sparsedense::detail::argmin
