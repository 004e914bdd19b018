// OPQ (dense/opq.hpp) and rotations (dense/rotation.hpp). Kept in its own translation unit: train_opq compiles
// Eigen's eigensolver, the most expensive code of the library to compile.
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

TEST_CASE("ivf-pq rejects a rotation of the wrong shape or that is not orthonormal, and stays usable", "[dense][ivfpq][opq]") {
    const std::size_t d = 16;
    const auto base = clustered_vectors(600, d, 8, 5);
    const DenseMatrixView<const float> view(base.data(), 600, d);
    IvfPqIndex<> index(d, Metric::l2, small_params(4, 4, 4));
    CHECK_THROWS_AS(index.train(view, DenseMatrix<float>(d, d + 1, 0.0f)), Error);
    DenseMatrix<float> skew(d, d, 0.0f);
    for (std::size_t i = 0; i < d; ++i) skew[i][i] = 1.0f;
    skew[3][5] = 0.5f;
    try {
        index.train(view, skew);
        FAIL("a non-orthonormal rotation was accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::invalid_argument);
        CHECK_THAT(e.what(), Catch::Contains("rows 3 and 3"));
    }
    index.train(view, sparsedense::testing::random_rotation(d, 9));
    index.add(view);
    CHECK(index.size() == 600);
    CHECK(index.search(view.row(7), 1, {.nprobe = 4, .refine_factor = 50})[0].id == 7);
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

TEST_CASE("ivf-pq: a retrain with bad data or a bad rotation leaves the trained index as it was", "[dense][ivfpq][errors]") {
    const std::size_t d = 16, n = 800;
    const auto base = clustered_vectors(n, d, 8, 21);
    const DenseMatrixView<const float> view(base.data(), n, d);
    IvfPqIndex<> index(d, Metric::l2, small_params(8, 4, 4));
    index.train(view, sparsedense::testing::random_rotation(d, 5));
    const auto as_vector = [](auto span) { return std::vector<float>(span.begin(), span.end()); };
    const std::vector<float> rotation_before = as_vector(index.rotation().values());
    const std::vector<float> codebooks_before = as_vector(index.pq().codebooks());
    auto bad = base;
    bad[17 * d + 3] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(index.train(DenseMatrixView<const float>(bad.data(), n, d)), Error);                     // NaN, no rotation
    CHECK_THROWS_AS(index.train(view, DenseMatrix<float>(d, d, 0.0f)), Error);                               // not orthonormal
    CHECK(as_vector(index.rotation().values()) == rotation_before);
    CHECK(as_vector(index.pq().codebooks()) == codebooks_before);
    index.add(view);
    FlatIndex flat(d, Metric::l2);
    flat.add(view);
    for (std::size_t i = 0; i < n; i += 97) {  // still consistent: full probing and re-ranking is exact
        const auto got = index.search(view.row(i), 3, {.nprobe = 8, .refine_factor = 400});
        const auto want = flat.search(view.row(i), 3);
        REQUIRE(got.size() == 3);
        for (std::size_t k = 0; k < 3; ++k) {
            CHECK(got[k].id == want[k].id);
            CHECK(got[k].score == Approx(want[k].score).epsilon(1e-4).margin(1e-3));
        }
    }
}
