// sparsedense/simd/dispatch.hpp
//
// Run-time kernel dispatch in the manner of SimSIMD: every level's kernels are compiled into the program (function
// target attributes, no -m flags), and a table of function pointers per level is chosen once from cpuid. Hot loops
// fetch the table once (`const KernelTable& k = kernels();`) and call through it; the free functions in
// dense_kernels.hpp / sparse_kernels.hpp do that per call. set_simd_level() switches the table at run time
// (tests and benchmarks use it to run every level); active_simd_level() reports the level in use.
//
// Compiled mode (like fmt's and spdlog's compiled libraries): with SPARSEDENSE_COMPILED_KERNELS defined, this header
// only declares the tables and every level's kernels are compiled once, in src/simd_kernels.cpp (the CMake target
// sparsedense::kernels, which defines the macro for its users). That saves each including translation unit a few
// seconds of compile; header-only (the macro undefined) stays the default. One program uses one mode throughout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/forward_record.hpp"
#include "sparsedense/simd/detail/pq_kernel_table.hpp"
#include "sparsedense/simd/detail/flat_scan_table.hpp"

namespace sparsedense::simd {

/// One level's kernels. Float kernels: a is the (f32) query, b the stored vector.
struct KernelTable {
    SimdLevel level;
    bool vnni;  ///< integer kernels use AVX-512 VNNI
    float (*dot_f32)(const float*, const float*, std::size_t) noexcept;
    float (*dot_f16)(const float*, const float16*, std::size_t) noexcept;
    float (*dot_bf16)(const float*, const bfloat16*, std::size_t) noexcept;
    float (*l2_f32)(const float*, const float*, std::size_t) noexcept;
    float (*l2_f16)(const float*, const float16*, std::size_t) noexcept;
    float (*l2_bf16)(const float*, const bfloat16*, std::size_t) noexcept;
    // one query against `count` rows of `dim` values, `stride` elements apart; out[count]
    void (*dot_many_f32)(const float*, const float*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    void (*dot_many_f16)(const float*, const float16*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    void (*dot_many_bf16)(const float*, const bfloat16*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    void (*l2_many_f32)(const float*, const float*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    void (*l2_many_f16)(const float*, const float16*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    void (*l2_many_bf16)(const float*, const bfloat16*, std::size_t, std::size_t, std::size_t, float*) noexcept;
    // queries (nq x dim, q_stride) against rows (nr x dim, r_stride) -> out (nq x nr, out_stride)
    void (*dot_block_f32)(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, std::size_t, float*,
                          std::size_t) noexcept;
    void (*l2_block_f32)(const float*, std::size_t, std::size_t, const float*, std::size_t, std::size_t, std::size_t, float*,
                         std::size_t) noexcept;
    std::int32_t (*dot_i8)(const std::int8_t*, const std::int8_t*, std::size_t) noexcept;
    std::int32_t (*dot_u8)(const std::uint8_t*, const std::uint8_t*, std::size_t) noexcept;
    std::int32_t (*dot_u8_i8)(const std::uint8_t*, const std::int8_t*, std::size_t) noexcept;
    /// packed 4-bit codes (code i in the low nibble of byte i, code half + i in the high one) . int8 q[2 * half]
    std::int32_t (*dot_u4_i8)(const std::uint8_t*, const std::int8_t*, std::size_t) noexcept;
    float (*sparse_dot_dense)(const std::uint32_t*, const float*, std::size_t, const float*) noexcept;
    const ForwardRecordKernels* forward_record;  ///< simd/forward_record.hpp
    PqKernels pq;  ///< product-quantization kernels (simd/pq_kernels.hpp)
    const FlatScanKernels* flat_scan;  ///< FlatIndex's streaming and int8 kernels (dense_kernels.hpp)
};

}  // namespace sparsedense::simd

#if defined(SPARSEDENSE_COMPILED_KERNELS) && !defined(SPARSEDENSE_KERNELS_IMPLEMENTATION)
namespace sparsedense::simd::detail {
/// The table of one level; defined once in src/simd_kernels.cpp (compiled mode).
const KernelTable* table_for(SimdLevel level) noexcept;
}  // namespace sparsedense::simd::detail
#else
#include "sparsedense/simd/detail/pq_scalar_kernels.hpp"
#include "sparsedense/simd/detail/scalar_kernels.hpp"
#include "sparsedense/simd/detail/sse_kernels.hpp"
#include "sparsedense/simd/detail/forward_record_kernels.hpp"
#if SPARSEDENSE_X86
#include "sparsedense/simd/detail/avx2_kernels.hpp"
#include "sparsedense/simd/detail/avx512_kernels.hpp"
#include "sparsedense/simd/detail/pq_avx2_kernels.hpp"
#include "sparsedense/simd/detail/pq_avx512_kernels.hpp"
#endif

namespace sparsedense::simd::detail {

#define SPARSEDENSE_PQ_KERNELS(argmin_ns, lut_ns, quantize_ns, scan_ns) \
    PqKernels { &argmin_ns::argmin, &lut_ns::lut_build, &quantize_ns::lut_quantize, &scan_ns::fast_scan }
#define SPARSEDENSE_PQ_SCALAR SPARSEDENSE_PQ_KERNELS(pq_scalar, pq_scalar, pq_scalar, pq_scalar)
#define SPARSEDENSE_PQ_AVX2 SPARSEDENSE_PQ_KERNELS(pq_scalar, pq_avx2, pq_scalar, pq_avx2)
#define SPARSEDENSE_PQ_AVX512 SPARSEDENSE_PQ_KERNELS(pq_avx512, pq_avx512, pq_avx512, pq_avx512)

#define SPARSEDENSE_FLOAT_KERNELS(ns)                                                                              \
    &ns::dot<float>, &ns::dot<float16>, &ns::dot<bfloat16>, &ns::l2_squared<float>, &ns::l2_squared<float16>,    \
        &ns::l2_squared<bfloat16>, &ns::many<false, float>, &ns::many<false, float16>, &ns::many<false, bfloat16>, \
        &ns::many<true, float>, &ns::many<true, float16>, &ns::many<true, bfloat16>, &ns::block<false>,           \
        &ns::block<true>

inline constexpr KernelTable scalar_table{SimdLevel::scalar, false, SPARSEDENSE_FLOAT_KERNELS(scalar),
                                          &scalar::int_dot<std::int8_t, std::int8_t>,
                                          &scalar::int_dot<std::uint8_t, std::uint8_t>,
                                          &scalar::int_dot<std::uint8_t, std::int8_t>, &scalar::dot_u4_i8, &scalar::sparse_dot_dense,
                                          &scalar::forward_record_kernels, SPARSEDENSE_PQ_SCALAR, &scalar::flat_scan_kernels};
#if defined(__SSE2__)
inline constexpr KernelTable sse_table{SimdLevel::sse,  false, SPARSEDENSE_FLOAT_KERNELS(sse), &sse::dot_i8,
                                       &sse::dot_u8,    &sse::dot_u8_i8, &scalar::dot_u4_i8, &scalar::sparse_dot_dense,
                                       &scalar::forward_record_kernels, SPARSEDENSE_PQ_SCALAR, &sse::flat_scan_kernels};
#endif
#if SPARSEDENSE_X86
inline constexpr KernelTable avx2_table{SimdLevel::avx2, false, SPARSEDENSE_FLOAT_KERNELS(avx2), &avx2::dot_i8,
                                        &avx2::dot_u8,   &avx2::dot_u8_i8, &avx2::dot_u4_i8, &avx2::sparse_dot_dense,
                                        &avx2::forward_record_kernels, SPARSEDENSE_PQ_AVX2, &avx2::flat_scan_kernels};
inline constexpr KernelTable avx512_table{SimdLevel::avx512, false, SPARSEDENSE_FLOAT_KERNELS(avx512), &avx512::dot_i8,
                                          &avx512::dot_u8,   &avx512::dot_u8_i8, &avx512::dot_u4_i8, &avx512::sparse_dot_dense,
                                          &avx512::forward_record_kernels, SPARSEDENSE_PQ_AVX512, &avx512::flat_scan_kernels};
inline constexpr KernelTable avx512_vnni_table{SimdLevel::avx512, true, SPARSEDENSE_FLOAT_KERNELS(avx512), &avx512::dot_i8_vnni,
                                               &avx512::dot_u8_vnni, &avx512::dot_u8_i8_vnni, &avx512::dot_u4_i8_vnni, &avx512::sparse_dot_dense,
                                               &avx512::forward_record_kernels, SPARSEDENSE_PQ_AVX512, &avx512::flat_scan_kernels};
#endif
#undef SPARSEDENSE_FLOAT_KERNELS
#undef SPARSEDENSE_PQ_SCALAR
#undef SPARSEDENSE_PQ_AVX2
#undef SPARSEDENSE_PQ_AVX512
#undef SPARSEDENSE_PQ_KERNELS

#if defined(SPARSEDENSE_KERNELS_IMPLEMENTATION)
const KernelTable* table_for(SimdLevel level) noexcept {  // the compiled library's one definition
#else
inline const KernelTable* table_for(SimdLevel level) noexcept {
#endif
    switch (level) {
#if SPARSEDENSE_X86
        case SimdLevel::avx512: return cpu_features().avx512vnni ? &avx512_vnni_table : &avx512_table;
        case SimdLevel::avx2: return &avx2_table;
#endif
#if defined(__SSE2__)
        case SimdLevel::sse: return &sse_table;
#endif
        default: return &scalar_table;
    }
}

}  // namespace sparsedense::simd::detail
#endif  // compiled or header-only kernels

namespace sparsedense::simd {
namespace detail {

inline std::atomic<const KernelTable*>& active_table_slot() {
    static std::atomic<const KernelTable*> slot{table_for(initial_simd_level())};
    return slot;
}

}  // namespace detail

/// The kernels of the level in use.
[[nodiscard]] inline const KernelTable& kernels() noexcept { return *detail::active_table_slot().load(std::memory_order_relaxed); }

/// The kernels of a given level (must be supported: see simd_level_supported()). Throws Error otherwise.
[[nodiscard]] inline const KernelTable& kernels_for(SimdLevel level) {
    if (!simd_level_supported(level))
        raise(ErrorKind::unsupported, "SIMD level ", simd_level_name(level), " is not supported by this CPU (best: ",
              simd_level_name(detected_simd_level()), ")");
    return *detail::table_for(level);
}

/// Level of the kernels in use.
[[nodiscard]] inline SimdLevel active_simd_level() noexcept { return kernels().level; }

/// Switches every subsequent kernel call to this level. Throws Error if the CPU lacks it. Returns the previous level.
inline SimdLevel set_simd_level(SimdLevel level) {
    const KernelTable& table = kernels_for(level);
    return detail::active_table_slot().exchange(&table)->level;
}

/// RAII: runs a scope at a given level, restoring the previous one afterwards (for tests and benchmarks).
class ScopedSimdLevel {
public:
    explicit ScopedSimdLevel(SimdLevel level) : previous_(set_simd_level(level)) {}
    ~ScopedSimdLevel() { set_simd_level(previous_); }
    ScopedSimdLevel(const ScopedSimdLevel&) = delete;
    ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

private:
    SimdLevel previous_;
};

/// Every level this CPU can run, lowest first.
[[nodiscard]] inline std::vector<SimdLevel> supported_simd_levels() {
    std::vector<SimdLevel> levels;
    for (int l = 0; l <= static_cast<int>(detected_simd_level()); ++l) {
#if !defined(__SSE2__)
        if (l == static_cast<int>(SimdLevel::sse)) continue;
#endif
        levels.push_back(static_cast<SimdLevel>(l));
    }
    return levels;
}

}  // namespace sparsedense::simd
