// sparsedense/simd/detail/pq_kernel_table.hpp
//
// The product-quantization part of simd::KernelTable (dispatch.hpp): one function pointer per PQ kernel, filled per
// SIMD level from simd/detail/pq_{scalar,avx2,avx512}_kernels.hpp. The kernels themselves and their contracts are
// described in simd/pq_kernels.hpp; this header only declares the slots, so that compiled mode (dispatch.hpp with
// SPARSEDENSE_COMPILED_KERNELS) sees the table's layout without the kernel bodies.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sparsedense::simd {

struct PqKernels {
    /// arg[i], value[i] = argmin / min over c < k of norms[c] - 2 * dots[i * stride + c] (dots[...] when norms is null).
    void (*argmin)(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
                   float* value) noexcept;
    /// "Lower is better" LUT of every sub-space from the transposed codebooks (see pq_kernels.hpp).
    void (*lut_build)(const float* q, const float* transposed, const std::size_t* offsets, std::size_t m, std::size_t ksub,
                      const float* cnorm, bool l2, float* lut) noexcept;
    /// 16-entry-per-sub-space float LUT -> u8 (bias, scale out).
    void (*lut_quantize)(const float* lut, std::size_t m, std::uint8_t* out, float* bias, float* scale) noexcept;
    /// 4-bit fast-scan of packed blocks of 32 codes: u16 sums and a threshold mask per block.
    void (*fast_scan)(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut, std::uint16_t threshold,
                      std::uint16_t* out, std::uint32_t* masks) noexcept;
};

}  // namespace sparsedense::simd
