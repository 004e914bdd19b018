// sparsedense/simd/detail/forward_record_kernels.hpp
//
// Every level's forward-record scorers (the kernel family of simd/forward_record.hpp), one section per ISA, each in
// its own target region like the other kernels of simd/detail: the serial reference (scalar and sse levels), the
// unrolled F16C loop (avx2) and the 16-lane kernel (avx512). dispatch.hpp puts each level's table into its
// KernelTable. Tests: tests/simd/forward_record_kernels.cpp compares every level with a double-precision sum.
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/forward_record.hpp"

#if SPARSEDENSE_X86
#include <immintrin.h>
#endif

// ---- serial reference: ascending term order, one product at a time
namespace sparsedense::simd::detail::scalar {

template <class Id, class Value>
inline float score_forward_record(const std::uint32_t* rec, std::size_t n, const float* qd) noexcept {
    const auto r = forward_record_view<Id, Value>(rec, n);
    if constexpr (std::is_same_v<Value, std::uint8_t>) {
        float qs = 0.0f, s = 0.0f;
        for (std::size_t i = 0; i < n; ++i) {
            const float q = qd[r.ids[i]];
            qs += q;
            s += q * static_cast<float>(r.values[i]);
        }
        return r.offset * qs + r.step * s;
    } else {
        float s = 0.0f;
        for (std::size_t i = 0; i < n; ++i) s += qd[r.ids[i]] * to_float(r.values[i]);
        return s;
    }
}

inline constexpr ForwardRecordKernels forward_record_kernels{{
    &score_forward_record<std::uint16_t, float>, &score_forward_record<std::uint16_t, float16>,
    &score_forward_record<std::uint16_t, std::uint8_t>, &score_forward_record<std::uint32_t, float>,
    &score_forward_record<std::uint32_t, float16>, &score_forward_record<std::uint32_t, std::uint8_t>}};

}  // namespace sparsedense::simd::detail::scalar

#if SPARSEDENSE_X86
// ---- avx2: one term at a time with four independent accumulators and hardware f16 conversion (F16C); the portable
// scalar kernel converts f16 in software and is 3x slower per document. On Zen 4 it is also 15-25% faster per document
// than the AVX-512 kernel was with a full gather per step (measured in isolation); the AVX-512 level keeps its lane
// layout (its sums are unchanged) and now loads full steps' query values without the gather (below).
SPARSEDENSE_AVX2_REGION_BEGIN
namespace sparsedense::simd::detail::avx2 {

template <class Id, class Value>
inline float score_forward_record(const std::uint32_t* rec, std::size_t n, const float* qd) noexcept {
    const auto r = forward_record_view<Id, Value>(rec, n);
    auto value = [&](std::size_t i) -> float {
        if constexpr (std::is_same_v<Value, float16>) return _cvtsh_ss(r.values[i].bits);
        else return static_cast<float>(r.values[i]);
    };
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += qd[r.ids[i]] * value(i);
        s1 += qd[r.ids[i + 1]] * value(i + 1);
        s2 += qd[r.ids[i + 2]] * value(i + 2);
        s3 += qd[r.ids[i + 3]] * value(i + 3);
    }
    for (; i < n; ++i) s0 += qd[r.ids[i]] * value(i);
    const float s = (s0 + s1) + (s2 + s3);
    if constexpr (std::is_same_v<Value, std::uint8_t>) {
        float q0 = 0.0f, q1 = 0.0f;
        std::size_t j = 0;
        for (; j + 2 <= n; j += 2) {
            q0 += qd[r.ids[j]];
            q1 += qd[r.ids[j + 1]];
        }
        if (j < n) q0 += qd[r.ids[j]];
        return r.offset * (q0 + q1) + r.step * s;
    } else {
        return s;
    }
}

inline constexpr ForwardRecordKernels forward_record_kernels{{
    &score_forward_record<std::uint16_t, float>, &score_forward_record<std::uint16_t, float16>,
    &score_forward_record<std::uint16_t, std::uint8_t>, &score_forward_record<std::uint32_t, float>,
    &score_forward_record<std::uint32_t, float16>, &score_forward_record<std::uint32_t, std::uint8_t>}};

}  // namespace sparsedense::simd::detail::avx2
SPARSEDENSE_TARGET_REGION_END

// ---- avx512: 16 terms per step, masked tail (ids widened to 32 bits for its gather).
SPARSEDENSE_AVX512_REGION_BEGIN
namespace sparsedense::simd::detail::avx512 {

// The query values of 16 terms (masked lanes 0): 16 scalar loads assembled into a register for a full step, which
// on Zen 4 costs about half of the microcoded gather (same lanes, so the same sums); the gather for the tail.
template <class Id>
inline __m512 query_lanes(const Id* ids, std::size_t left, __mmask16 m, __m512i idx, const float* qd) noexcept {
    if (left < 16) return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, qd, 4);
    auto quad = [&](int j) { return _mm_setr_ps(qd[ids[j]], qd[ids[j + 1]], qd[ids[j + 2]], qd[ids[j + 3]]); };
    const __m256 lo = _mm256_set_m128(quad(4), quad(0)), hi = _mm256_set_m128(quad(12), quad(8));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}

template <class Id, class Value>
inline float score_forward_record(const std::uint32_t* rec, std::size_t n, const float* qd) noexcept {
    const auto r = forward_record_view<Id, Value>(rec, n);
    __m512 acc = _mm512_setzero_ps(), qsum = _mm512_setzero_ps();
    for (std::size_t i = 0; i < n; i += 16) {
        const std::size_t left = n - i;
        const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
        __m512i idx;
        if constexpr (sizeof(Id) == 2) idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r.ids + i));
        else idx = _mm512_maskz_loadu_epi32(m, r.ids + i);
        const __m512 q = query_lanes(r.ids + i, left, m, idx, qd);
        __m512 v;
        if constexpr (std::is_same_v<Value, float>) v = _mm512_maskz_loadu_ps(m, r.values + i);
        else if constexpr (std::is_same_v<Value, float16>) v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, r.values + i));
        else {
            v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, r.values + i)));
            qsum = _mm512_add_ps(qsum, q);
        }
        acc = _mm512_fmadd_ps(q, v, acc);
    }
    if constexpr (std::is_same_v<Value, std::uint8_t>) return r.offset * _mm512_reduce_add_ps(qsum) + r.step * _mm512_reduce_add_ps(acc);
    else return _mm512_reduce_add_ps(acc);
}

inline constexpr ForwardRecordKernels forward_record_kernels{{
    &score_forward_record<std::uint16_t, float>, &score_forward_record<std::uint16_t, float16>,
    &score_forward_record<std::uint16_t, std::uint8_t>, &score_forward_record<std::uint32_t, float>,
    &score_forward_record<std::uint32_t, float16>, &score_forward_record<std::uint32_t, std::uint8_t>}};

}  // namespace sparsedense::simd::detail::avx512
SPARSEDENSE_TARGET_REGION_END
#endif  // SPARSEDENSE_X86
