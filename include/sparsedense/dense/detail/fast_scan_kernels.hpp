// sparsedense/dense/detail/fast_scan_kernels.hpp
//
// 4-bit PQ "fast-scan" kernels (André, Kermarrec & Le Scouarnec, "Cache locality is not enough: high-performance
// nearest neighbor search with product quantization fast scan", VLDB 2015; the same idea drives FAISS's
// PQFastScan and ScaNN). Each sub-quantizer has 16 centroids, so its lookup table (LUT) of distances, quantized
// to u8, fits in one 16-byte register lane, and a byte shuffle (pshufb / vpshufb) looks up 16 or 32 codes at once.
//
// Layout of one block of 32 vectors (written by pack_fast_scan_block): sub-quantizers are taken in pairs; pair g
// occupies 32 bytes, the first 16 for sub-quantizer 2g and the next 16 for 2g+1. In each 16-byte half, byte j
// holds the code of vector j in its low nibble and the code of vector j+16 in its high nibble. A block is
// 32 * ceil(M/2) bytes = M/2 bytes per vector (M rounded up to even; the padding sub-quantizer has code 0 and a
// zero LUT). The quantized LUT is laid out the same way: 16 bytes per sub-quantizer, consecutive.
//
// Kernel: AVX2 loads one pair (32 bytes = two 128-bit lanes, one per sub-quantizer) and the matching 32 LUT bytes;
// AVX-512BW loads two pairs (four lanes). Low and high nibbles index the LUT with vpshufb, giving the u8
// contributions of vectors 0-15 and 16-31. These are added into u16 accumulators: the even bytes (vectors 0, 2,
// ...) by masking with 0x00ff, the odd bytes by a 16-bit shift right by 8, so four accumulators cover 32 vectors.
// At the end the lanes (different sub-quantizers, same vectors) are summed and even/odd are interleaved back.
// The caller guarantees sum_m max(lut_m) <= 65535 (see quantize_lut), so u16 sums are exact.
//
// Every level computes bit-identical u16 sums (integer arithmetic); scan_reference() is the scalar definition.
// Level choice follows simd::active_simd_level(), so simd::ScopedSimdLevel also switches these kernels.
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <cstddef>
#include <cstdint>

#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/dispatch.hpp"

#if SPARSEDENSE_X86
#include <immintrin.h>
#endif

namespace sparsedense::detail::fast_scan {

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

/// Scalar definition: out[b*32 + j] = sum over sub-quantizers of lut[m*16 + code]; mask bit j of block b set
/// when out <= threshold.
inline void scan_reference(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut,
                           std::uint16_t threshold, std::uint16_t* out, std::uint32_t* masks) noexcept {
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

}  // namespace sparsedense::detail::fast_scan

#if SPARSEDENSE_X86

SPARSEDENSE_AVX512_REGION_BEGIN

namespace sparsedense::detail::fast_scan::avx512 {

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

inline void scan(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut,
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
        masks[b] = finish(sle, slo, she, sho, thr, out + b * kBlock);
    }
}

}  // namespace sparsedense::detail::fast_scan::avx512

SPARSEDENSE_TARGET_REGION_END

SPARSEDENSE_AVX2_REGION_BEGIN

namespace sparsedense::detail::fast_scan::avx2 {

inline void scan(const std::uint8_t* codes, std::size_t nblocks, std::size_t npairs, const std::uint8_t* lut,
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
        std::uint16_t* o = out + b * kBlock;
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

}  // namespace sparsedense::detail::fast_scan::avx2

SPARSEDENSE_TARGET_REGION_END

#endif  // SPARSEDENSE_X86

namespace sparsedense::detail::fast_scan {

using ScanFn = void (*)(const std::uint8_t*, std::size_t, std::size_t, const std::uint8_t*, std::uint16_t, std::uint16_t*,
                        std::uint32_t*) noexcept;

/// Kernel for the SIMD level in use (simd::active_simd_level(); below AVX2 the scalar reference).
[[nodiscard]] inline ScanFn scan_kernel() noexcept {
#if SPARSEDENSE_X86
    switch (simd::active_simd_level()) {
        case simd::SimdLevel::avx512: return &avx512::scan;
        case simd::SimdLevel::avx2: return &avx2::scan;
        default: break;
    }
#endif
    return &scan_reference;
}

}  // namespace sparsedense::detail::fast_scan
