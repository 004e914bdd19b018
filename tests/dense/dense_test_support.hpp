// Helpers shared by the dense tests.
#pragma once

#include <cstddef>

#include "sparsedense/dense/ivf_pq_index.hpp"

namespace sparsedense::dense_test {

/// Small, fast IVF-PQ parameters for tests: few k-means iterations, f32 re-ranking vectors.
inline IvfPqIndexBuildParams small_params(std::size_t nlist, std::size_t m, std::size_t nbits) {
    IvfPqIndexBuildParams p;
    p.nlist = nlist;
    p.m = m;
    p.nbits = nbits;
    p.coarse_iterations = 8;
    p.pq_iterations = 8;
    p.pq_training_points = 3000;
    p.refine_encoding = VectorEncoding::f32;
    return p;
}

}  // namespace sparsedense::dense_test
