// sparsedense/simd/cpu_features.hpp
//
// Which instruction set the kernels run with. SimdLevel orders the levels the library has kernels for:
// scalar (plain C++ reference) < sse (SSE2, the x86-64 baseline) < avx2 (AVX2 + FMA + F16C) < avx512
// (F/BW/VL/DQ, plus VNNI for integer dot products when present). detected_simd_level() asks cpuid (and xgetbv,
// so an OS that does not save the wide registers is respected). The level in use starts as the detected one,
// can be lowered for testing with the environment variable SPARSEDENSE_SIMD_LEVEL=scalar|sse|avx2|avx512 or the
// CMake option SPARSEDENSE_FORCE_SIMD_LEVEL, and changed at run time with set_simd_level() (see dispatch.hpp).
// No -march flag is needed: the wide kernels are compiled with function-level target attributes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sparsedense/core/error.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define SPARSEDENSE_X86 1
#include <cpuid.h>
#else
#define SPARSEDENSE_X86 0
#endif

namespace sparsedense::simd {

enum class SimdLevel : int { scalar = 0, sse = 1, avx2 = 2, avx512 = 3 };

inline const char* simd_level_name(SimdLevel level) noexcept {
    switch (level) {
        case SimdLevel::scalar: return "scalar";
        case SimdLevel::sse: return "sse";
        case SimdLevel::avx2: return "avx2";
        case SimdLevel::avx512: return "avx512";
    }
    return "unknown";
}

/// Parses "scalar", "sse", "avx2", "avx512" (as printed by simd_level_name). Throws Error otherwise.
inline SimdLevel parse_simd_level(std::string_view name) {
    if (name == "scalar") return SimdLevel::scalar;
    if (name == "sse") return SimdLevel::sse;
    if (name == "avx2") return SimdLevel::avx2;
    if (name == "avx512") return SimdLevel::avx512;
    raise(ErrorKind::invalid_argument, "unknown SIMD level '", name, "' (expected scalar, sse, avx2 or avx512)");
}

/// CPU features the kernels care about.
struct CpuFeatures {
    bool sse2 = false, avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
    bool avx512vnni = false, avx512bf16 = false, avx512vbmi = false;
};

inline CpuFeatures detect_cpu_features() noexcept {
    CpuFeatures f;
#if SPARSEDENSE_X86
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    f.sse2 = (d >> 26) & 1;
    const bool osxsave = (c >> 27) & 1;
    const bool avx = (c >> 28) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    std::uint64_t xcr0 = 0;
    if (osxsave) {
        unsigned lo = 0, hi = 0;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = (static_cast<std::uint64_t>(hi) << 32) | lo;
    }
    const bool os_ymm = (xcr0 & 0x6) == 0x6;
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (!(avx && os_ymm)) { f.fma = f.f16c = false; return f; }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.avx2 = (b >> 5) & 1;
        if (os_zmm) {
            f.avx512f = (b >> 16) & 1;
            f.avx512dq = (b >> 17) & 1;
            f.avx512bw = (b >> 30) & 1;
            f.avx512vl = (b >> 31) & 1;
            f.avx512vbmi = (c >> 1) & 1;
            f.avx512vnni = (c >> 11) & 1;
            unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
            if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512bf16 = (a1 >> 5) & 1;
        }
    }
#endif
    return f;
}

inline const CpuFeatures& cpu_features() noexcept {
    static const CpuFeatures features = detect_cpu_features();
    return features;
}

/// Best level this CPU (and OS) supports.
inline SimdLevel detected_simd_level() noexcept {
    const CpuFeatures& f = cpu_features();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c) return SimdLevel::avx512;
    if (f.avx2 && f.fma && f.f16c) return SimdLevel::avx2;
    if (f.sse2) return SimdLevel::sse;
    return SimdLevel::scalar;
}

/// True when kernels of this level can run here.
inline bool simd_level_supported(SimdLevel level) noexcept {
    return static_cast<int>(level) <= static_cast<int>(detected_simd_level());
}

/// The level chosen at start-up: the detected one, lowered by SPARSEDENSE_FORCE_SIMD_LEVEL (compile time) or the
/// SPARSEDENSE_SIMD_LEVEL environment variable. A request above what the CPU has is lowered to the detected level.
inline SimdLevel initial_simd_level() {
    SimdLevel level = detected_simd_level();
    auto lower_to = [&](SimdLevel wanted) {
        if (static_cast<int>(wanted) < static_cast<int>(level)) level = wanted;
    };
#ifdef SPARSEDENSE_FORCE_SIMD_LEVEL
    lower_to(parse_simd_level(SPARSEDENSE_FORCE_SIMD_LEVEL));
#endif
    if (const char* env = std::getenv("SPARSEDENSE_SIMD_LEVEL"); env && *env) lower_to(parse_simd_level(env));
    return level;
}

}  // namespace sparsedense::simd
