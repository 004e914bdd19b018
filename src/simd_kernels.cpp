// The compiled-kernels library (CMake target sparsedense::kernels): every SIMD level's kernels and the dispatch
// tables, compiled once here instead of in every translation unit that includes sparsedense/simd/dispatch.hpp.
// Built with SPARSEDENSE_COMPILED_KERNELS (as its users are) and SPARSEDENSE_KERNELS_IMPLEMENTATION (only here).
#include "sparsedense/simd/dispatch.hpp"

#if !defined(SPARSEDENSE_COMPILED_KERNELS) || !defined(SPARSEDENSE_KERNELS_IMPLEMENTATION)
#error "src/simd_kernels.cpp is built by the sparsedense::kernels target, with SPARSEDENSE_COMPILED_KERNELS and SPARSEDENSE_KERNELS_IMPLEMENTATION"
#endif
