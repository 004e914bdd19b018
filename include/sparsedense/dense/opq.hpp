// sparsedense/dense/opq.hpp
//
// OPQ: an orthogonal rotation R (applied by rotation.hpp) learned so that product quantization of R x loses less (Ge, He, Ke & Sun,
// "Optimized Product Quantization for Approximate Nearest Neighbor Search", CVPR 2013, the non-parametric
// alternating method). Starting from R = I it alternates (a) train a PQ on the rotated sample X R^T and
// reconstruct it as Y, and (b) solve the orthogonal Procrustes problem min_R |X R^T - Y|_F, whose solution comes
// from the SVD of X^T Y = U S V^T: R^T = U V^T. The SVD comes from the eigendecomposition of M^T M = V S^2 V^T
// (Eigen's SelfAdjointEigenSolver, in double): it compiles in about 8 s and 0.5 GB where Eigen's BDCSVD takes
// 40 s and 1.3-2.8 GB per translation unit, and solves d = 768 in about a second where JacobiSVD takes 50 s.
// A rotation preserves inner products and L2 distances, so an index applies it to vectors and queries alike and
// scores are unchanged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "sparsedense/dense/rotation.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

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

/// Orthogonal Procrustes: the orthogonal Q maximizing trace(Q^T M) (= argmin |A Q - B|_F for M = A^T B), i.e.
/// Q = U V^T for M = U S V^T. U's columns are M v_i / s_i for the non-negligible singular values, re-orthonormalized
/// (modified Gram-Schmidt, largest s_i first); directions with s_i ~ 0 do not change the objective and are completed
/// to an orthonormal basis. A template only to compile Eigen's solver where it is used (see train_opq).
template <class Deferred = void>
[[nodiscard]] Eigen::MatrixXd orthogonal_procrustes(const Eigen::MatrixXd& m) {
    const Eigen::Index d = m.cols();
    // products written as MatrixXd * MatrixXd, one GEMM instantiation (a transposed operand is another)
    const Eigen::MatrixXd mt = m.transpose();
    const Eigen::MatrixXd mtm = mt * m;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(mtm);
    if (eigen.info() != Eigen::Success) raise(ErrorKind::invalid_data, "opq: the eigendecomposition did not converge (NaN in the data?)");
    const Eigen::MatrixXd& v = eigen.eigenvectors();  // eigenvalues ascending
    const double top = std::sqrt(std::max(eigen.eigenvalues()(d - 1), 0.0));
    Eigen::MatrixXd u = Eigen::MatrixXd::Zero(d, d);
    auto orthonormalize_against = [&](Eigen::VectorXd x, Eigen::Index filled_from) -> bool {  // u's columns filled_from..d-1
        for (int pass = 0; pass < 2; ++pass)
            for (Eigen::Index j = filled_from; j < d; ++j) x -= u.col(j).dot(x) * u.col(j);
        const double norm = x.norm();
        if (!(norm > 1e-6)) return false;
        u.col(filled_from - 1) = x / norm;
        return true;
    };
    Eigen::Index next = d;  // columns next..d-1 of u are done
    for (Eigen::Index i = d - 1; i >= 0; --i) {
        const double s = std::sqrt(std::max(eigen.eigenvalues()(i), 0.0));
        if (!(s > top * 1e-7) || !orthonormalize_against(m * v.col(i) / s, next)) break;
        --next;
    }
    // complete with unit vectors for the null directions (any completion is optimal)
    for (Eigen::Index e = 0; next > 0 && e < d; ++e)
        if (orthonormalize_against(Eigen::VectorXd::Unit(d, e), next)) --next;
    const Eigen::MatrixXd vt = v.transpose();
    return u * vt;
}

/// Learns an OPQ rotation (d x d, orthonormal rows) for a PQ with params.m sub-quantizers; pass it to
/// IvfPqIndex::train(data, rotation). A function template only so that Eigen's eigensolver is compiled in the
/// translation units that train OPQ, not in every one that includes this header.
template <class Deferred = void>
[[nodiscard]] DenseMatrix<float> train_opq(DenseMatrixView<const float> data, const OpqParams& params) {
    const std::size_t d = data.cols;
    const std::size_t n = std::min(data.rows, params.max_training_points ? params.max_training_points : data.rows);
    if (n < (std::size_t{1} << params.nbits)) raise(ErrorKind::invalid_argument, "opq: ", n, " training points are too few");
    // The float products go through the library's register-blocked kernel (simd::dot_block), not Eigen's GEMM:
    // only the d x d double algebra of orthogonal_procrustes instantiates Eigen (2 float GEMM instantiations cost
    // a test TU 0.4 GB of compiler memory under the sanitizers).
    DenseMatrix<float> x(n, d), xt(d, n), yt(d, n), xty(d, d);  // the sample, X^T, Y^T, X^T Y
    for (std::size_t i = 0; i < n; ++i) {
        const float* src = data.row_data(i * data.rows / n);
        std::copy(src, src + d, x.row(i).data());
        for (std::size_t j = 0; j < d; ++j) xt[j][i] = src[j];
    }
    DenseMatrix<float> r(d, d, 0.0f);
    for (std::size_t i = 0; i < d; ++i) r[i][i] = 1.0f;
    std::vector<float> yrow(d);
    ProductQuantizerParams pp;
    pp.m = params.m;
    pp.nbits = params.nbits;
    pp.iterations = params.pq_iterations;
    pp.max_training_points = 0;
    pp.threads = params.threads;
    Eigen::MatrixXd m(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(d));
    for (std::size_t it = 0; it < params.iterations; ++it) {
        const DenseMatrix<float> xr = apply_rotation(r, x.view());  // X R^T
        ProductQuantizer pq(d, params.m, params.nbits);
        pp.seed = params.seed + it;
        pq.train(xr.view(), pp);
        const auto codes = pq.encode(xr.view(), params.threads);
        for (std::size_t i = 0; i < n; ++i) {
            pq.decode(codes.data() + i * params.m, yrow.data());
            for (std::size_t j = 0; j < d; ++j) yt[j][i] = yrow[j];
        }
        simd::dot_block(xt.data(), d, n, yt.data(), d, n, n, xty.data(), d);  // (X^T Y)[a][b] = <X^T row a, Y^T row b>
        for (std::size_t a = 0; a < d; ++a)
            for (std::size_t b = 0; b < d; ++b) m(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) = xty[a][b];
        const Eigen::MatrixXd rt = orthogonal_procrustes(m);  // R^T
        for (std::size_t i = 0; i < d; ++i)
            for (std::size_t j = 0; j < d; ++j) r[i][j] = static_cast<float>(rt(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)));
    }
    return r;
}

}  // namespace sparsedense
