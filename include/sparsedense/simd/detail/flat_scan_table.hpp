// sparsedense/simd/detail/flat_scan_table.hpp
//
// The flat-scan part of simd::KernelTable (dispatch.hpp): the kernels of FlatIndex's out-of-cache single-query scan
// and of its int8 storage, filled per SIMD level (simd/detail/flat_scan_body.inl; scalar versions in
// scalar_kernels.hpp). The contracts are described in dense_kernels.hpp (stream_dot_rows, dot_i8_rows); this header
// only declares the slots, so that compiled mode sees the table's layout without the kernel bodies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparsedense/core/value_types.hpp"

namespace sparsedense::simd {

struct FlatScanKernels {
    // one query against `count` contiguous rows (stride = dim), read strictly in address order (no software
    // prefetch: measured slower): out[r] = dot (or squared L2) of q and row r
    void (*stream_dot_f32)(const float*, const float*, std::size_t, std::size_t, float*) noexcept;
    void (*stream_dot_f16)(const float*, const float16*, std::size_t, std::size_t, float*) noexcept;
    void (*stream_dot_bf16)(const float*, const bfloat16*, std::size_t, std::size_t, float*) noexcept;
    void (*stream_l2_f32)(const float*, const float*, std::size_t, std::size_t, float*) noexcept;
    void (*stream_l2_f16)(const float*, const float16*, std::size_t, std::size_t, float*) noexcept;
    void (*stream_l2_bf16)(const float*, const bfloat16*, std::size_t, std::size_t, float*) noexcept;
    // int16 query . int8 rows (contiguous): out[r] = float(sum_j q[j] * row_r[j]), exact in integers per 2,048 values
    void (*dot_i16_i8_rows)(const std::int16_t*, const std::int8_t*, std::size_t, std::size_t, float*) noexcept;
    // queries (nq x dim, q_stride) against nr rows packed in 16-row panels (simd::pack_panels; nr a multiple of 16)
    // -> out (nq x nr, out_stride): dot or squared L2, the GEMM-like batch kernel
    void (*panel_dot)(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, float*, std::size_t) noexcept;
    void (*panel_l2)(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, float*, std::size_t) noexcept;
    // out[i] = float(in[i]) for n half-precision values (F16C / shift in registers; the panel packing of f16/bf16 rows)
    void (*widen_f16)(const float16*, std::size_t, float*) noexcept;
    void (*widen_bf16)(const bfloat16*, std::size_t, float*) noexcept;
};

}  // namespace sparsedense::simd
