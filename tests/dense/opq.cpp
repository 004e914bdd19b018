// OPQ (dense/opq.hpp): train_opq and the Procrustes step. Kept in its own translation unit, and with nothing else in
// it: train_opq compiles Eigen's eigensolver, the most expensive code of the library to compile (the largest test
// TU under the sanitizers; the rotation tests that need no OPQ are in rotation.cpp).
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/dense/opq.hpp"
#include "dense/dense_test_support.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::dense_test::small_params;
using sparsedense::testing::clustered_vectors;

TEST_CASE("ivf-pq with OPQ keeps exact results under full re-ranking and lowers PQ error", "[dense][ivfpq][opq]") {
    const std::size_t d = 32;
    // correlated dimensions: a random mixing of clustered data, where a rotation helps PQ
    const auto raw = clustered_vectors(3000, d, 30, 101);
    std::vector<float> base(raw.size());
    for (std::size_t i = 0; i < 3000; ++i)
        for (std::size_t j = 0; j < d; ++j) base[i * d + j] = raw[i * d + j] + (j >= 16 ? raw[i * d + j - 16] * 0.9f : 0.0f);
    const DenseMatrixView<const float> view(base.data(), 3000, d);
    OpqParams op;
    op.m = 4;
    op.nbits = 4;
    op.iterations = 4;
    const auto r = train_opq(view, op);
    // orthonormal
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) CHECK(simd::dot(r.row(i).data(), r.row(j).data(), d) == Approx(i == j ? 1.0f : 0.0f).margin(1e-4));
    IvfPqIndex<> index(d, Metric::l2, small_params(8, 4, 4));
    op.iterations = 3;
    index.train(view, train_opq(view, op));
    index.add(view);
    FlatIndex flat(d, Metric::l2);
    flat.add(view);
    for (std::size_t i = 0; i < 3000; i += 301) {
        std::span<const float> q(base.data() + i * d, d);
        const auto got = index.search(q, 5, {.nprobe = 8, .refine_factor = 600});
        const auto want = flat.search(q, 5);
        for (std::size_t k = 0; k < 5; ++k) {
            CHECK(got[k].id == want[k].id);
            CHECK(got[k].score == Approx(want[k].score).epsilon(1e-4).margin(1e-3));
        }
    }
}

TEST_CASE("orthogonal Procrustes recovers a known rotation and stays orthogonal on rank-deficient input", "[dense][opq]") {
    const std::size_t d = 24, n = 200;
    const auto q0 = sparsedense::testing::random_rotation(d, 3);
    const auto a = clustered_vectors(n, d, 5, 4);
    Eigen::MatrixXd am(n, d), qm(d, d);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) am(i, j) = a[i * d + j];
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) qm(i, j) = q0[i][j];
    const Eigen::MatrixXd b = am * qm;  // B = A Q0 exactly: Procrustes of A^T B is Q0
    const Eigen::MatrixXd q = orthogonal_procrustes(am.transpose() * b);
    CHECK((q - qm).cwiseAbs().maxCoeff() < 1e-6);
    // rank-deficient: A uses only 10 of the 24 dimensions, so A^T B has rank 10
    Eigen::MatrixXd low = am;
    low.rightCols(d - 10).setZero();
    const Eigen::MatrixXd q_low = orthogonal_procrustes(low.transpose() * (low * qm));
    CHECK((q_low.transpose() * q_low - Eigen::MatrixXd::Identity(d, d)).cwiseAbs().maxCoeff() < 1e-9);
    // on the dimensions the data uses, it still maps A to B
    CHECK(((low * q_low) - (low * qm)).cwiseAbs().maxCoeff() < 1e-6 * (low * qm).cwiseAbs().maxCoeff());
    CHECK(orthogonal_procrustes(Eigen::MatrixXd::Zero(d, d)).isUnitary(1e-12));
}
