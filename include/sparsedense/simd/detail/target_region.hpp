// sparsedense/simd/detail/target_region.hpp
//
// Begin / end a region of functions compiled for one instruction-set level, without any -m flag on the command line
// (the SimSIMD approach): GCC's `#pragma GCC target` or clang's `#pragma clang attribute`. Code in a region may only
// run after run-time detection says the CPU has that level (simd::detected_simd_level()), so each region enables
// exactly what that function checks: AVX-512 = F/BW/VL/DQ + AVX2/FMA/F16C; AVX2 = AVX2/FMA/F16C. Extensions that
// are optional at a level (AVX-512 VNNI) go on the individual functions that need them, never on a whole region.
// GCC 12 reports its own intrinsics (`__Y = __Y` placeholders) as uninitialized under target pragmas, and vector
// return types as an ABI change; both are silenced inside regions only.
#pragma once

#define SPARSEDENSE_PRAGMA(...) _Pragma(#__VA_ARGS__)

#define SPARSEDENSE_AVX512_FEATURES "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c,sse4.1,ssse3"
#define SPARSEDENSE_AVX2_FEATURES "avx2,fma,f16c,sse4.1,ssse3"

#if defined(__clang__)
#define SPARSEDENSE_TARGET_REGION_BEGIN(features) \
    SPARSEDENSE_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define SPARSEDENSE_TARGET_REGION_END SPARSEDENSE_PRAGMA(clang attribute pop)
#elif defined(__GNUC__)
#define SPARSEDENSE_TARGET_REGION_BEGIN(features)                     \
    SPARSEDENSE_PRAGMA(GCC push_options)                              \
    SPARSEDENSE_PRAGMA(GCC diagnostic push)                           \
    SPARSEDENSE_PRAGMA(GCC diagnostic ignored "-Wuninitialized")      \
    SPARSEDENSE_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized") \
    SPARSEDENSE_PRAGMA(GCC diagnostic ignored "-Wpsabi")              \
    SPARSEDENSE_PRAGMA(GCC target(features))
#define SPARSEDENSE_TARGET_REGION_END SPARSEDENSE_PRAGMA(GCC diagnostic pop) SPARSEDENSE_PRAGMA(GCC pop_options)
#else
#define SPARSEDENSE_TARGET_REGION_BEGIN(features)
#define SPARSEDENSE_TARGET_REGION_END
#endif

#define SPARSEDENSE_AVX512_REGION_BEGIN SPARSEDENSE_TARGET_REGION_BEGIN(SPARSEDENSE_AVX512_FEATURES)
#define SPARSEDENSE_AVX2_REGION_BEGIN SPARSEDENSE_TARGET_REGION_BEGIN(SPARSEDENSE_AVX2_FEATURES)
