// sparsedense/dense/detail/pq_lut_kernels.hpp
//
// Lookup-table construction for product quantization, the per-query fixed cost of every PQ scan. The codebook of
// each sub-space is kept transposed (dimension-major: for dimension j, the values of all ksub centroids side by
// side), so the table of one sub-space is an AXPY over its dimensions,
//     ip[c] = sum_{j in sub-space} q[j] * T[j][c],
// i.e. ksub/16 FMAs per dimension on AVX-512 (one zmm for 16 centroids) instead of a dot product per centroid.
// The output is a "lower is better" table: -ip for inner product, |q_s|^2 - 2 ip + |c|^2 for squared L2.
// quantize_u8() is the fast-scan LUT quantization (see ProductQuantizer::quantize_lut) written with SIMD
// min/max/round; every level returns identical bytes (round-half-up of the same float expression).
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/dispatch.hpp"

#if SPARSEDENSE_X86
#include <immintrin.h>
#endif

namespace sparsedense::detail::pq_lut {

/// Scalar definition. offsets[m + 1] delimit the sub-spaces; T is d x ksub; cnorm is m x ksub (L2 only).
inline void build_reference(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub,
                            const float* cnorm, bool l2, float* lut) noexcept {
    for (std::size_t s = 0; s < m; ++s) {
        float* out = lut + s * ksub;
        for (std::size_t c = 0; c < ksub; ++c) out[c] = 0.0f;
        float qn = 0.0f;
        for (std::size_t j = offsets[s]; j < offsets[s + 1]; ++j) {
            const float* row = t + j * ksub;
            for (std::size_t c = 0; c < ksub; ++c) out[c] += q[j] * row[c];
            qn += q[j] * q[j];
        }
        for (std::size_t c = 0; c < ksub; ++c) out[c] = l2 ? qn - 2.0f * out[c] + cnorm[s * ksub + c] : -out[c];
    }
}

/// Quantizes a 16-entry-per-sub-space float table to u8: out = round_half_up((lut - min_s) * scale), where
/// scale = min(255 / max range, 65535 / sum of ranges). Returns bias (sum of minima) and scale.
inline void quantize_reference(const float* lut, std::size_t m, std::uint8_t* out, float& bias, float& scale) noexcept {
    float max_range = 0.0f, sum_range = 0.0f, b = 0.0f;
    for (std::size_t s = 0; s < m; ++s) {
        const float* t = lut + s * 16;
        const float lo = *std::min_element(t, t + 16), hi = *std::max_element(t, t + 16);
        b += lo;
        max_range = std::max(max_range, hi - lo);
        sum_range += hi - lo;
    }
    float sc = max_range > 0.0f ? 255.0f / max_range : 1.0f;
    if (sum_range * sc > 65535.0f) sc = 65535.0f / sum_range;
    for (std::size_t s = 0; s < m; ++s) {
        const float* t = lut + s * 16;
        const float lo = *std::min_element(t, t + 16);
        for (std::size_t c = 0; c < 16; ++c) {
            const float v = std::min((t[c] - lo) * sc + 0.5f, 255.0f);
            out[s * 16 + c] = static_cast<std::uint8_t>(static_cast<int>(std::max(v, 0.0f)));
        }
    }
    bias = b;
    scale = sc;
}

}  // namespace sparsedense::detail::pq_lut

#if SPARSEDENSE_X86

SPARSEDENSE_AVX512_REGION_BEGIN

namespace sparsedense::detail::pq_lut::avx512 {

inline void build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                  bool l2, float* lut) noexcept {
    if (ksub % 16 != 0) return build_reference(q, t, offsets, m, ksub, cnorm, l2, lut);
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

inline void quantize(const float* lut, std::size_t m, std::uint8_t* out, float& bias, float& scale) noexcept {
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
    bias = b;
    scale = sc;
}

}  // namespace sparsedense::detail::pq_lut::avx512

SPARSEDENSE_TARGET_REGION_END

SPARSEDENSE_AVX2_REGION_BEGIN

namespace sparsedense::detail::pq_lut::avx2 {

inline void build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                  bool l2, float* lut) noexcept {
    if (ksub % 8 != 0) return build_reference(q, t, offsets, m, ksub, cnorm, l2, lut);
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

}  // namespace sparsedense::detail::pq_lut::avx2

SPARSEDENSE_TARGET_REGION_END

#endif  // SPARSEDENSE_X86

namespace sparsedense::detail::pq_lut {

inline void build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm, bool l2,
                  float* lut) noexcept {
#if SPARSEDENSE_X86
    switch (simd::active_simd_level()) {
        case simd::SimdLevel::avx512: return avx512::build(q, t, offsets, m, ksub, cnorm, l2, lut);
        case simd::SimdLevel::avx2: return avx2::build(q, t, offsets, m, ksub, cnorm, l2, lut);
        default: break;
    }
#endif
    build_reference(q, t, offsets, m, ksub, cnorm, l2, lut);
}

inline void quantize(const float* lut, std::size_t m, std::uint8_t* out, float& bias, float& scale) noexcept {
#if SPARSEDENSE_X86
    if (simd::active_simd_level() == simd::SimdLevel::avx512) return avx512::quantize(lut, m, out, bias, scale);
#endif
    quantize_reference(lut, m, out, bias, scale);
}

}  // namespace sparsedense::detail::pq_lut
