// sparsedense/sparsedense.hpp -- the umbrella header: everything the library offers.
//
// sparsedense: first-stage retrieval in one header-only C++20 library -- learned-sparse inverted indexes (exact
// and Seismic-style clustered), dense ANN (flat, product quantization, IVF-PQ), hybrid fusion, and the run-time
// dispatched SIMD kernels under them. Include the per-concept headers instead to keep compile times down.
#pragma once

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/cpu_features.hpp"
#include "sparsedense/simd/dense_kernels.hpp"
#include "sparsedense/simd/dispatch.hpp"
#include "sparsedense/simd/sparse_kernels.hpp"
#include "sparsedense/version.hpp"
#include "sparsedense/io/atomic_file.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/memory_map.hpp"
#include "sparsedense/io/vecs_file.hpp"
