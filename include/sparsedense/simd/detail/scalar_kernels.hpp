// sparsedense/simd/detail/scalar_kernels.hpp
//
// Plain C++ reference for every kernel: one accumulator, element order, no SIMD. It is both the `scalar` dispatch
// level and the oracle the tests compare each SIMD level against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/detail/flat_scan_table.hpp"

namespace sparsedense::simd::detail::scalar {

template <class T>
inline float dot(const float* a, const T* b, std::size_t n) noexcept {
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) s += a[i] * to_float(b[i]);
    return s;
}

template <class T>
inline float l2_squared(const float* a, const T* b, std::size_t n) noexcept {
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
        const float d = a[i] - to_float(b[i]);
        s += d * d;
    }
    return s;
}

template <bool L2, class T>
inline void many(const float* q, const T* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) out[r] = L2 ? l2_squared(q, rows + r * stride, dim) : dot(q, rows + r * stride, dim);
}

template <bool L2>
inline void block(const float* queries, std::size_t nq, std::size_t q_stride, const float* rows, std::size_t nr,
                  std::size_t r_stride, std::size_t dim, float* out, std::size_t out_stride) noexcept {
    for (std::size_t i = 0; i < nq; ++i)
        for (std::size_t j = 0; j < nr; ++j)
            out[i * out_stride + j] = L2 ? l2_squared(queries + i * q_stride, rows + j * r_stride, dim)
                                         : dot(queries + i * q_stride, rows + j * r_stride, dim);
}

template <class A, class B>
inline std::int32_t int_dot(const A* a, const B* b, std::size_t n) noexcept {
    std::int32_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<std::int32_t>(a[i]) * static_cast<std::int32_t>(b[i]);
    return s;
}

/// Packed 4-bit codes . int8: byte i holds code i (low nibble) and code half + i (high nibble); q has 2 * half values.
inline std::int32_t dot_u4_i8(const std::uint8_t* codes, const std::int8_t* q, std::size_t half) noexcept {
    std::int32_t s = 0;
    for (std::size_t i = 0; i < half; ++i) s += (codes[i] & 15) * std::int32_t{q[i]} + (codes[i] >> 4) * std::int32_t{q[half + i]};
    return s;
}

inline float sparse_dot_dense(const std::uint32_t* ids, const float* values, std::size_t n, const float* dense) noexcept {
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) s += values[i] * dense[ids[i]];
    return s;
}

// ---- flat scan (flat_scan_table.hpp): the reference definitions, row after row
template <class T>
inline void stream_dot(const float* q, const T* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) out[r] = dot(q, rows + r * dim, dim);
}
template <class T>
inline void stream_l2(const float* q, const T* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) out[r] = l2_squared(q, rows + r * dim, dim);
}
inline void i16_i8_rows(const std::int16_t* q, const std::int8_t* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        std::int64_t s = 0;
        for (std::size_t i = 0; i < dim; ++i) s += static_cast<std::int32_t>(q[i]) * rows[r * dim + i];
        out[r] = static_cast<float>(s);
    }
}
template <bool L2>
inline void panel_block(const float* queries, std::size_t nq, std::size_t q_stride, const float* panels, std::size_t nr,
                        std::size_t dim, float* out, std::size_t out_stride) noexcept {
    for (std::size_t i = 0; i < nq; ++i)
        for (std::size_t r = 0; r < nr; ++r) {
            const float* x = panels + (r / 16) * 16 * dim + r % 16;
            float s = 0.0f;
            for (std::size_t j = 0; j < dim; ++j) {
                const float d = queries[i * q_stride + j] - x[j * 16];
                s += L2 ? d * d : queries[i * q_stride + j] * x[j * 16];
            }
            out[i * out_stride + r] = s;
        }
}
template <class T>
inline void widen(const T* in, std::size_t n, float* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = to_float(in[i]);
}
inline constexpr FlatScanKernels flat_scan_kernels{&stream_dot<float>, &stream_dot<float16>, &stream_dot<bfloat16>,
                                                   &stream_l2<float>,  &stream_l2<float16>,  &stream_l2<bfloat16>,
                                                   &i16_i8_rows, &panel_block<false>, &panel_block<true>,
                                                   &widen<float16>, &widen<bfloat16>};

}  // namespace sparsedense::simd::detail::scalar
