// sparsedense/dense/opq.hpp
//
// OPQ: an orthogonal rotation R (applied by rotation.hpp) learned so that product quantization of R x loses less (Ge, He, Ke & Sun,
// "Optimized Product Quantization for Approximate Nearest Neighbor Search", CVPR 2013, the non-parametric
// alternating method). Starting from R = I it alternates (a) train a PQ on the rotated sample X R^T and
// reconstruct it as Y, and (b) solve the orthogonal Procrustes problem min_R |X R^T - Y|_F, whose solution comes
// from the SVD of X^T Y = U S V^T: R^T = U V^T (Eigen's JacobiSVD / BDCSVD). A rotation preserves inner products
// and L2 distances, so an index applies it to vectors and queries alike and scores are unchanged.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SVD>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "sparsedense/dense/rotation.hpp"

namespace sparsedense {

struct OpqParams {
    std::size_t m = 16;
    std::size_t nbits = 8;
    std::size_t iterations = 10;           ///< alternations of PQ training and Procrustes
    std::size_t pq_iterations = 4;         ///< k-means iterations of each intermediate PQ
    std::size_t max_training_points = 20000;
    std::uint64_t seed = 77;
    std::size_t threads = 0;
};

/// Learns an OPQ rotation (d x d, orthonormal rows) for a PQ with params.m sub-quantizers; pass it to
/// IvfPqIndex::train(data, rotation). A function template only so that Eigen's SVD (about 40 s of compile time and
/// 1.3 GB of compiler memory) is compiled in the translation units that train OPQ, not in every one that includes
/// this header.
template <class Deferred = void>
[[nodiscard]] DenseMatrix<float> train_opq(DenseMatrixView<const float> data, const OpqParams& params) {
    const std::size_t d = data.cols;
    const std::size_t n = std::min(data.rows, params.max_training_points ? params.max_training_points : data.rows);
    if (n < (std::size_t{1} << params.nbits)) raise(ErrorKind::invalid_argument, "opq: ", n, " training points are too few");
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Mat x(n, d);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = data.row_data(i * data.rows / n)[j];
    DenseMatrix<float> r(d, d, 0.0f);
    for (std::size_t i = 0; i < d; ++i) r[i][i] = 1.0f;
    DenseMatrix<float> xr(n, d), y(n, d);
    ProductQuantizerParams pp;
    pp.m = params.m;
    pp.nbits = params.nbits;
    pp.iterations = params.pq_iterations;
    pp.max_training_points = 0;
    pp.threads = params.threads;
    for (std::size_t it = 0; it < params.iterations; ++it) {
        xr.eigen().noalias() = x * r.eigen().transpose();
        ProductQuantizer pq(d, params.m, params.nbits);
        pp.seed = params.seed + it;
        pq.train(xr.view(), pp);
        const auto codes = pq.encode(xr.view(), params.threads);
        for (std::size_t i = 0; i < n; ++i) pq.decode(codes.data() + i * params.m, y.row(i).data());
        const Mat xty = x.transpose() * y.eigen();
        Eigen::BDCSVD<Mat> svd(xty, Eigen::ComputeFullU | Eigen::ComputeFullV);
        const Mat rt = svd.matrixU() * svd.matrixV().transpose();  // R^T
        r.eigen() = rt.transpose();
    }
    return r;
}

}  // namespace sparsedense
