#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::clustered_vectors;

namespace {

// Brute force in double precision, sorted by the library's order (higher score first, smaller id on ties).
SearchResults<> brute_force(const std::vector<float>& base, const float* q, std::size_t d, Metric metric, std::size_t k) {
    const std::size_t n = base.size() / d;
    std::vector<double> qq(q, q + d);
    if (metric == Metric::cosine) {
        double s = 0;
        for (double v : qq) s += v * v;
        for (double& v : qq) v /= std::sqrt(s);
    }
    SearchResults<> all;
    for (std::size_t i = 0; i < n; ++i) {
        const float* x = base.data() + i * d;
        double dot = 0, l2 = 0, nx = 0;
        for (std::size_t j = 0; j < d; ++j) {
            dot += qq[j] * x[j];
            l2 += (qq[j] - x[j]) * (qq[j] - x[j]);
            nx += static_cast<double>(x[j]) * x[j];
        }
        double s = metric == Metric::l2 ? -l2 : metric == Metric::cosine ? dot / std::sqrt(nx) : dot;
        all.push_back({static_cast<std::uint32_t>(i), static_cast<float>(s)});
    }
    std::sort(all.begin(), all.end(), RanksBefore{});
    all.resize(std::min(k, all.size()));
    return all;
}

}  // namespace

TEST_CASE("flat index equals brute force for every metric and SIMD level", "[dense][flat]") {
    const std::size_t n = 1500, d = 37, k = 10;
    const auto base = clustered_vectors(n, d, 20, 1);
    const auto queries = clustered_vectors(20, d, 20, 2);
    for (auto level : simd::supported_simd_levels()) {
        simd::ScopedSimdLevel scoped(level);
        for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
            FlatIndex index(d, metric);
            index.add(base);
            REQUIRE(index.size() == n);
            for (std::size_t qi = 0; qi < 20; ++qi) {
                const float* q = queries.data() + qi * d;
                const auto got = index.search({q, d}, k);
                const auto want = brute_force(base, q, d, metric, k);
                REQUIRE(got.size() == k);
                for (std::size_t r = 0; r < k; ++r) {
                    CHECK(got[r].id == want[r].id);
                    CHECK(got[r].score == Approx(want[r].score).epsilon(1e-4).margin(1e-4));
                    // score() reproduces the search score exactly
                    CHECK(index.score({q, d}, got[r].id) == got[r].score);
                }
            }
        }
    }
}

TEST_CASE("flat batch search equals one-at-a-time search", "[dense][flat]") {
    const std::size_t n = 1003, d = 48, nq = 70;
    const auto base = clustered_vectors(n, d, 16, 3);
    const auto queries = clustered_vectors(nq, d, 16, 4);
    for (Metric metric : {Metric::inner_product, Metric::l2, Metric::cosine}) {
        for (VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector,
                                   VectorEncoding::int8_per_dimension, VectorEncoding::int4_per_dimension}) {
            FlatIndex index(d, metric, enc);
            index.add(base);
            for (std::size_t threads : {1u, 3u}) {
                const auto batch = index.search_batch(DenseMatrixView<const float>(queries.data(), nq, d), 7, {}, threads);
                REQUIRE(batch.size() == nq);
                for (std::size_t i = 0; i < nq; ++i) {
                    const auto single = index.search({queries.data() + i * d, d}, 7);
                    REQUIRE(batch[i].size() == single.size());
                    for (std::size_t r = 0; r < single.size(); ++r) {
                        CHECK(batch[i][r].id == single[r].id);
                        CHECK(batch[i][r].score == Approx(single[r].score).epsilon(1e-5).margin(1e-5));
                    }
                }
            }
        }
    }
}

TEST_CASE("flat index with reduced-precision storage stays close to f32", "[dense][flat]") {
    const std::size_t n = 2000, d = 64;
    const auto base = clustered_vectors(n, d, 30, 5);
    const auto queries = clustered_vectors(30, d, 30, 6);
    FlatIndex exact(d, Metric::inner_product);
    exact.add(base);
    for (VectorEncoding enc : {VectorEncoding::f16, VectorEncoding::bf16, VectorEncoding::int8_per_vector, VectorEncoding::int8_per_dimension}) {
        FlatIndex approx(d, Metric::inner_product, enc);
        approx.add(base);
        CHECK(approx.bytes_per_vector() < exact.bytes_per_vector());
        std::size_t hits = 0;
        for (std::size_t qi = 0; qi < 30; ++qi) {
            const auto a = exact.search({queries.data() + qi * d, d}, 10);
            const auto b = approx.search({queries.data() + qi * d, d}, 10);
            for (const auto& x : b)
                hits += std::count_if(a.begin(), a.end(), [&](const auto& y) { return y.id == x.id; });
            for (const auto& x : b) CHECK(x.score == Approx(exact.score({queries.data() + qi * d, d}, x.id)).epsilon(0.05).margin(0.05));
        }
        CHECK(hits >= 30 * 10 * 85 / 100);
    }
}

TEST_CASE("flat index rejects bad input and stays usable", "[dense][flat][errors]") {
    const std::size_t d = 8;
    auto base = clustered_vectors(50, d, 4, 7);
    FlatIndex index(d, Metric::l2);
    index.add(base);
    std::vector<float> q(base.begin(), base.begin() + d);
    CHECK_THROWS_AS(index.search(q, 0), Error);
    std::vector<float> short_q(d - 1, 0.0f);
    CHECK_THROWS_AS(index.search(short_q, 3), Error);
    CHECK_THROWS_AS(index.score(q, 50), Error);
    auto bad = clustered_vectors(3, d, 1, 8);
    bad[d + 2] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(index.add(bad), Error);
    CHECK_THROWS_AS(index.add(DenseMatrixView<const float>(base.data(), 2, d - 1)), Error);
    auto nan_q = q;
    nan_q[0] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(index.search(nan_q, 3), Error);
    REQUIRE(index.size() == 50);  // nothing half-added
    const auto r = index.search(q, 3);
    REQUIRE(r.size() == 3);
    CHECK(r[0].id == 0);
    CHECK(r[0].score == 0.0f);
    // k larger than the index returns everything; empty index returns nothing
    CHECK(index.search(q, 100).size() == 50);
    FlatIndex empty(d, Metric::inner_product);
    CHECK(empty.search(q, 5).empty());
}
