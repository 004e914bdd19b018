// sparsedense/core/eigen_interop.hpp
//
// Eigen views of the library's dense matrices, for users (and OPQ) who do linear algebra with Eigen:
//   auto m = eigen_map(view);           // Eigen::Map of a DenseMatrixView<T> (row-major, outer stride = stride)
//   auto w = eigen_map(matrix.view());  // of a DenseMatrix<T>
// No copy: the map refers to the matrix's memory. Kept out of core/dense_matrix.hpp because Eigen/Core costs every
// translation unit that includes it about a second of compile time.
#pragma once

#include <type_traits>

#include <Eigen/Core>

#include "sparsedense/core/dense_matrix.hpp"

namespace sparsedense {

template <class T>
using EigenRowMajor = Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using EigenMapOf = Eigen::Map<std::conditional_t<std::is_const_v<T>, const EigenRowMajor<T>, EigenRowMajor<T>>, Eigen::Unaligned, Eigen::OuterStride<>>;

/// Eigen view of `view` (row-major, outer stride = view.stride).
template <class T>
[[nodiscard]] EigenMapOf<T> eigen_map(const DenseMatrixView<T>& view) {
    return EigenMapOf<T>(view.data, static_cast<Eigen::Index>(view.rows), static_cast<Eigen::Index>(view.cols),
                         Eigen::OuterStride<>(static_cast<Eigen::Index>(view.stride)));
}

}  // namespace sparsedense
