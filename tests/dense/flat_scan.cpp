// The flat scan's kernels (simd::stream_dot_rows / stream_l2_rows / dot_i16_i8_rows) and what FlatIndex builds on
// them: the out-of-cache f32 scan exact against brute force, int8 storage within its stated error bound.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::clustered_vectors;

namespace {

template <class T>
std::vector<T> encoded(const std::vector<float>& v) {
    std::vector<T> out;
    out.reserve(v.size());
    for (float x : v) out.push_back(T(x));
    return out;
}

template <class T>
void check_streamed_rows(const std::vector<float>& values, const float* q, std::size_t count, std::size_t d) {
    const auto rows = encoded<T>(values);
    std::vector<float> dots(count), l2s(count);
    simd::stream_dot_rows(q, rows.data(), count, d, dots.data());
    simd::stream_l2_rows(q, rows.data(), count, d, l2s.data());
    for (std::size_t r = 0; r < count; ++r) {
        CHECK(dots[r] == simd::dot(q, rows.data() + r * d, d));
        CHECK(l2s[r] == simd::l2_squared(q, rows.data() + r * d, d));
    }
}

}  // namespace

TEST_CASE("flat scan kernels: streamed rows equal per-row dot and l2 bit for bit at every SIMD level", "[dense][flat][kernels]") {
    for (auto level : simd::supported_simd_levels()) {
        simd::ScopedSimdLevel scoped(level);
        for (std::size_t d : {1u, 15u, 16u, 17u, 100u, 129u}) {
            const std::size_t count = 23;
            const auto values = clustered_vectors(count, d, 4, d);
            const auto q = clustered_vectors(1, d, 4, d + 1);
            check_streamed_rows<float>(values, q.data(), count, d);
            check_streamed_rows<float16>(values, q.data(), count, d);
            check_streamed_rows<bfloat16>(values, q.data(), count, d);
        }
    }
}

TEST_CASE("flat scan kernels: int16 query x int8 rows equal the integer sum at every SIMD level", "[dense][flat][kernels]") {
    std::mt19937 rng(7);
    for (auto level : simd::supported_simd_levels()) {
        simd::ScopedSimdLevel scoped(level);
        for (std::size_t d : {1u, 31u, 32u, 33u, 100u, 2048u, 2049u, 5000u}) {
            const std::size_t count = 5;
            for (const int qmax : {50, 32767}) {
                std::uniform_int_distribution<int> qd(-qmax, qmax), cd(-127, 127);
                std::vector<std::int16_t> q(d);
                std::vector<std::int8_t> rows(count * d);
                for (auto& x : q) x = static_cast<std::int16_t>(qd(rng));
                for (auto& x : rows) x = static_cast<std::int8_t>(cd(rng));
                std::vector<float> got(count);
                simd::dot_i16_i8_rows(q.data(), rows.data(), count, d, got.data());
                for (std::size_t r = 0; r < count; ++r) {
                    std::int64_t exact = 0, magnitude = 0;
                    for (std::size_t j = 0; j < d; ++j) {
                        exact += std::int64_t{q[j]} * rows[r * d + j];
                        magnitude += std::llabs(std::int64_t{q[j]} * rows[r * d + j]);
                    }
                    if (magnitude < (1 << 24)) {
                        CHECK(got[r] == static_cast<float>(exact));  // every partial sum is a float exactly
                    } else {
                        // int32 lane sums are exact; only their conversion and the f32 additions round
                        CHECK(std::fabs(static_cast<double>(got[r]) - static_cast<double>(exact)) <= 64.0 * std::ldexp(static_cast<double>(magnitude), -24));
                    }
                }
            }
        }
    }
}

TEST_CASE("flat index: f32 scan from memory (sequential kernels) equals brute force", "[dense][flat]") {
    // 33,000 x 100 f32 = 13.2 MB: above simd::sequential_scan_bytes, so search() streams the rows
    const std::size_t n = 33000, d = 100, k = 10;
    const auto base = clustered_vectors(n, d, 40, 11);
    const auto queries = clustered_vectors(3, d, 40, 12);
    FlatIndex index(d, Metric::inner_product);
    index.add(base);
    REQUIRE(index.scan_hint() == simd::ScanHint::sequential);
    for (std::size_t qi = 0; qi < 3; ++qi) {
        const float* q = queries.data() + qi * d;
        std::vector<std::pair<double, std::uint32_t>> all(n);
        for (std::size_t i = 0; i < n; ++i) {
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += static_cast<double>(q[j]) * base[i * d + j];
            all[i] = {-s, static_cast<std::uint32_t>(i)};
        }
        std::partial_sort(all.begin(), all.begin() + k, all.end());
        const auto got = index.search({q, d}, k);
        REQUIRE(got.size() == k);
        for (std::size_t r = 0; r < k; ++r) {
            CHECK(got[r].id == all[r].second);
            CHECK(got[r].score == Approx(-all[r].first).epsilon(1e-5).margin(1e-5));
            CHECK(index.score({q, d}, got[r].id) == got[r].score);
        }
    }
}

TEST_CASE("flat index: int8 scores stay within the stated quantization bound of the exact dot", "[dense][flat]") {
    // bound per row (vector_store.hpp): |q.x - score| <= s_x / 2 * |q|_1 (int8 rows) + s_q / 2 * |dec x|_1 (int16
    // query) + f32 rounding, with s_x = max|x| / 127 (per vector) and s_q = max|q| / 32767
    const std::size_t n = 700, d = 96;
    const auto base = clustered_vectors(n, d, 10, 21);
    const auto queries = clustered_vectors(5, d, 10, 22);
    FlatIndex index(d, Metric::inner_product, VectorEncoding::int8_per_vector);
    index.add(base);
    for (std::size_t qi = 0; qi < 5; ++qi) {
        const float* q = queries.data() + qi * d;
        double q1 = 0, qmax = 0;
        for (std::size_t j = 0; j < d; ++j) q1 += std::fabs(q[j]), qmax = std::max<double>(qmax, std::fabs(q[j]));
        const auto scorer = index.prepare({q, d});
        for (std::uint32_t i = 0; i < n; ++i) {
            const float* x = base.data() + i * d;
            const auto dec = index.vector(i);
            double exact = 0, xmax = 0, dec1 = 0, mag = 0;
            for (std::size_t j = 0; j < d; ++j) {
                exact += static_cast<double>(q[j]) * x[j];
                xmax = std::max<double>(xmax, std::fabs(x[j]));
                dec1 += std::fabs(dec[j]);
                mag += std::fabs(static_cast<double>(q[j]) * x[j]);
            }
            const double bound = xmax / 127.0 / 2.0 * q1 + qmax / 32767.0 / 2.0 * dec1 + 1e-5 * mag + 1e-6;
            CHECK(std::fabs(scorer(i) - exact) <= bound);
        }
    }
}

TEST_CASE("flat scan kernels: packed panels against queries equal per-pair dot and l2 at every SIMD level", "[dense][flat][kernels]") {
    for (auto level : simd::supported_simd_levels()) {
        simd::ScopedSimdLevel scoped(level);
        for (std::size_t d : {1u, 7u, 100u}) {
            for (std::size_t count : {1u, 16u, 37u, 80u}) {
                const std::size_t nq = 14, padded = (count + 15) / 16 * 16;
                const auto rows = clustered_vectors(count, d, 3, count + d);
                const auto queries = clustered_vectors(nq, d, 3, count + d + 1);
                aligned_vector<float> panels(padded * d);
                simd::pack_panels(rows.data(), count, d, d, panels.data());
                std::vector<float> dots(nq * padded), l2s(nq * padded);
                simd::panel_dot(queries.data(), nq, d, panels.data(), padded, d, dots.data(), padded);
                simd::panel_l2(queries.data(), nq, d, panels.data(), padded, d, l2s.data(), padded);
                for (std::size_t i = 0; i < nq; ++i)
                    for (std::size_t r = 0; r < count; ++r) {
                        double dot = 0, l2 = 0, mag = 0;
                        for (std::size_t j = 0; j < d; ++j) {
                            const double a = queries[i * d + j], b = rows[r * d + j];
                            dot += a * b, l2 += (a - b) * (a - b), mag += std::fabs(a * b);
                        }
                        CHECK(std::fabs(dots[i * padded + r] - dot) <= 1e-5 * mag + 1e-6);
                        CHECK(std::fabs(l2s[i * padded + r] - l2) <= 1e-5 * l2 + 1e-6);
                    }
            }
        }
    }
}
