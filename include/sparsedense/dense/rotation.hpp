// sparsedense/dense/rotation.hpp
//
// Orthogonal pre-transforms of dense vectors (FAISS calls them VectorTransforms): an index that holds a d x d
// rotation R with orthonormal rows stores and searches R x instead of x. A rotation preserves inner products and
// L2 distances, so scores are unchanged; it only changes how well a product quantizer's sub-spaces fit the data
// (OPQ, opq.hpp, learns such an R). This header applies and validates rotations with the library's SIMD kernels;
// learning one lives in opq.hpp.
#pragma once

#include <cmath>
#include <cstddef>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

/// x' = R x for every row: returns X R^T (register-blocked kernel).
[[nodiscard]] inline DenseMatrix<float> apply_rotation(const DenseMatrix<float>& r, DenseMatrixView<const float> x) {
    if (r.cols() != x.cols) raise(ErrorKind::dimension_mismatch, "rotation is ", r.rows(), "x", r.cols(), ", vectors have dimension ", x.cols);
    DenseMatrix<float> out(x.rows, r.rows());
    if (x.rows > 0)
        simd::dot_block(x.data, x.rows, x.stride, r.data(), r.rows(), r.cols(), r.cols(), out.data(), out.cols());
    return out;
}

/// out = R in (one vector).
inline void rotate_vector(const DenseMatrix<float>& r, const float* in, float* out) noexcept {
    const std::size_t d = r.cols();
    for (std::size_t i = 0; i < r.rows(); ++i) out[i] = simd::dot(in, r.row(i).data(), d);
}

/// Throws Error unless r is a d x d matrix with orthonormal rows (to 1e-3: R R^T = I); `owner` prefixes the message.
inline void validate_rotation(const DenseMatrix<float>& r, std::size_t d, const char* owner) {
    if (r.rows() != d || r.cols() != d)
        raise(ErrorKind::dimension_mismatch, owner, ": rotation is ", r.rows(), "x", r.cols(), ", expected ", d, "x", d);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = i; j < d; ++j) {
            const float v = simd::dot(r.row(i).data(), r.row(j).data(), d);
            const float want = i == j ? 1.0f : 0.0f;
            if (!(std::fabs(v - want) <= 1e-3f))
                raise(ErrorKind::invalid_argument, owner, ": rotation rows ", i, " and ", j, " have inner product ", v, ", expected ", want,
                      " (not orthonormal)");
        }
}

}  // namespace sparsedense
