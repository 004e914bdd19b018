// sparsedense/simd/detail/pq_scalar_kernels.hpp
//
// Scalar definitions of the product-quantization kernels (the reference every SIMD level is tested against, and the
// kernels of the scalar and SSE levels) and the fast-scan block layout they share with the code packer.
//
// Fast-scan layout (André, Kermarrec & Le Scouarnec, VLDB 2015): one block holds the 4-bit codes of 32 vectors.
// Sub-quantizers are taken in pairs; pair g occupies 32 bytes, the first 16 for sub-quantizer 2g and the next 16 for
// 2g+1. In each 16-byte half, byte j holds the code of vector j in its low nibble and the code of vector j+16 in its
// high nibble. A block is 32 * ceil(M/2) bytes (the padding sub-quantizer has code 0 and a zero LUT). The quantized
// LUT is laid out the same way: 16 bytes per sub-quantizer, consecutive.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace sparsedense::simd::fast_scan_layout {

inline constexpr std::size_t kBlock = 32;  ///< vectors per block

[[nodiscard]] constexpr std::size_t pairs_for(std::size_t m) noexcept { return (m + 1) / 2; }
[[nodiscard]] constexpr std::size_t block_bytes(std::size_t m) noexcept { return pairs_for(m) * 32; }

/// Writes the 4-bit code of vector j (0..31) for sub-quantizer m into a block.
inline void set_code(std::uint8_t* block, std::size_t j, std::size_t m, std::uint8_t code) noexcept {
    std::uint8_t& byte = block[(m / 2) * 32 + (m % 2) * 16 + (j % 16)];
    if (j < 16) byte = static_cast<std::uint8_t>((byte & 0xF0) | (code & 0x0F));
    else byte = static_cast<std::uint8_t>((byte & 0x0F) | ((code & 0x0F) << 4));
}
[[nodiscard]] inline std::uint8_t get_code(const std::uint8_t* block, std::size_t j, std::size_t m) noexcept {
    const std::uint8_t byte = block[(m / 2) * 32 + (m % 2) * 16 + (j % 16)];
    return j < 16 ? (byte & 0x0F) : (byte >> 4);
}

}  // namespace sparsedense::simd::fast_scan_layout

namespace sparsedense::simd::detail::pq_scalar {

/// Ties break towards the smaller centroid index; the value is norms[c] - 2 * dot without fused multiply-add.
inline void argmin(const float* dots, std::size_t count, std::size_t k, std::size_t stride, const float* norms, std::uint32_t* arg,
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

/// offsets[m + 1] delimit the sub-spaces; t is d x ksub (transposed codebooks); cnorm is m x ksub (L2 only).
inline void lut_build(const float* q, const float* t, const std::size_t* offsets, std::size_t m, std::size_t ksub, const float* cnorm,
                      bool l2, float* lut) noexcept {
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

/// out = round_half_up((lut - min_s) * scale), scale = min(255 / max range, 65535 / sum of ranges); bias = sum of minima.
inline void lut_quantize(const float* lut, std::size_t m, std::uint8_t* out, float* bias, float* scale) noexcept {
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
    *bias = b;
    *scale = sc;
}

/// out[b*32 + j] = sum over sub-quantizers of lut[m*16 + code]; mask bit j of block b set when out <= threshold.
inline void fast_scan(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut, std::uint16_t threshold,
                      std::uint16_t* out, std::uint32_t* masks) noexcept {
    using namespace fast_scan_layout;
    const std::size_t bb = npairs * 32, msub = npairs * 2;
    for (std::size_t b = 0; b < nblocks; ++b) {
        const std::uint8_t* block = codes + b * bb;
        std::uint32_t mask = 0;
        for (std::size_t j = 0; j < kBlock; ++j) {
            std::uint32_t s = 0;
            for (std::size_t m = 0; m < msub; ++m) s += lut[m * 16 + get_code(block, j, m)];
            out[b * kBlock + j] = static_cast<std::uint16_t>(s);
            if (s <= threshold) mask |= 1u << j;
        }
        masks[b] = mask;
    }
}

}  // namespace sparsedense::simd::detail::pq_scalar
