// Rotations (dense/rotation.hpp) given to IvfPqIndex::train: shape and orthonormality checks, and a failed retrain
// leaving the index as it was. Apart from opq.cpp so that this TU does not compile Eigen's eigensolver.
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "dense/dense_test_support.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::dense_test::small_params;
using sparsedense::testing::clustered_vectors;

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
