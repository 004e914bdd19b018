// sparsedense/simd/pq_kernels.hpp
//
// The product-quantization kernels of k-means, PQ encoding and IVF-PQ search (Jégou, Douze & Schmid, "Product
// quantization for nearest neighbor search", TPAMI 2011; 4-bit fast-scan: André, Kermarrec & Le Scouarnec, VLDB
// 2015), behind the library's one dispatch (simd::kernels().pq, dispatch.hpp): set_simd_level() / ScopedSimdLevel
// switch them with the float kernels. Per level: simd/detail/pq_{scalar,avx2,avx512}_kernels.hpp; the scalar
// versions are the definitions tests/simd/pq_kernels.cpp compares every level against.
//
//   argmin_centroid  for each row of k dot products x.c: the c minimising |c|^2 - 2 x.c (or the plain value when no
//                    norms are given) and that value. Every level evaluates the same float expression without fused
//                    multiply-add and breaks ties towards the smaller index: bit-identical results across levels.
//   pq_lut           the "lower is better" lookup table of a query for every sub-space, from codebooks kept
//                    transposed (dimension-major), i.e. an AXPY per dimension: -<q_s, c> for inner product,
//                    |q_s|^2 - 2 <q_s, c> + |c|^2 for squared L2. Levels differ by float rounding only (FMA order).
//   quantize_pq_lut  4-bit tables (16 entries per sub-space) to u8: round_half_up((lut - min_s) * scale), with
//                    scale = min(255 / max range, 65535 / sum of ranges) so u16 sums cannot overflow; bias = sum of
//                    minima. Identical bytes at every level.
//   fast_scan        sums of u8 LUT entries over 4-bit codes packed in blocks of 32 (fast_scan_layout), u16, exact
//                    integer arithmetic (identical at every level), plus per block a mask of the sums <= threshold.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sparsedense/simd/detail/pq_scalar_kernels.hpp"
#include "sparsedense/simd/dispatch.hpp"

namespace sparsedense::simd {

using FastScanFn = decltype(PqKernels::fast_scan);

inline void argmin_centroid(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms,
                            std::uint32_t* arg, float* value) noexcept {
    kernels().pq.argmin(dots, count, k, stride, norms, arg, value);
}

inline void pq_lut(const float* q, const float* transposed, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                   bool l2, float* lut) noexcept {
    kernels().pq.lut_build(q, transposed, offsets, m, ksub, cnorm, l2, lut);
}

inline void quantize_pq_lut(const float* lut, std::size_t m, std::uint8_t* out, float& bias, float& scale) noexcept {
    kernels().pq.lut_quantize(lut, m, out, &bias, &scale);
}

/// The fast-scan kernel of the level in use (fetch once per query, call per list).
[[nodiscard]] inline FastScanFn fast_scan_kernel() noexcept { return kernels().pq.fast_scan; }

}  // namespace sparsedense::simd
