#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sparsedense/dense/kmeans.hpp"
#include "sparsedense/dense/product_quantizer.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::clustered_vectors;

TEST_CASE("k-means decreases its objective, is reproducible and thread-count independent", "[dense][kmeans]") {
    const std::size_t n = 3000;
    for (std::size_t d : {24u, 6u})  // 6: the small-dimension (transposed) assignment path
    for (KMeansInit init : {KMeansInit::plus_plus, KMeansInit::random}) {
        const auto data = clustered_vectors(n, d, 12, 11);
        const DenseMatrixView<const float> view(data.data(), n, d);
        KMeansParams p;
        p.k = 12;
        p.iterations = 10;
        p.init = init;
        p.seed = 99;
        p.threads = 1;
        KMeans a(p);
        a.train(view);
        const auto& h = a.objective_history();
        REQUIRE(h.size() == 11);
        for (std::size_t i = 1; i < h.size(); ++i) CHECK(h[i] <= h[i - 1] * (1 + 1e-5));
        CHECK(h.back() < h.front());
        p.threads = 3;
        KMeans b(p);
        b.train(view);
        REQUIRE(a.centroids().values().size() == b.centroids().values().size());
        CHECK(std::equal(a.centroids().values().begin(), a.centroids().values().end(), b.centroids().values().begin()));
        // every point is assigned to its true nearest centroid
        std::vector<float> dist;
        const auto assign = a.assign(view, &dist);
        for (std::size_t i = 0; i < n; i += 97) {
            float best = 1e30f;
            for (std::size_t c = 0; c < 12; ++c) {
                float s = 0;
                for (std::size_t j = 0; j < d; ++j) s += std::pow(data[i * d + j] - a.centroids()[c][j], 2.0f);
                best = std::min(best, s);
            }
            float mine = 0;
            for (std::size_t j = 0; j < d; ++j) mine += std::pow(data[i * d + j] - a.centroids()[assign[i]][j], 2.0f);
            CHECK(mine == Approx(best).epsilon(1e-3).margin(1e-4));
            CHECK(dist[i] == Approx(best).epsilon(1e-3).margin(1e-3));
        }
    }
}

TEST_CASE("k-means repairs empty clusters and rejects bad input", "[dense][kmeans][errors]") {
    // 40 points on 4 distinct locations, k = 8: some clusters must be repaired, none stays empty
    std::vector<float> data;
    for (int i = 0; i < 40; ++i)
        for (int j = 0; j < 3; ++j) data.push_back(static_cast<float>((i % 4) * 10 + j));
    KMeansParams p;
    p.k = 8;
    p.iterations = 5;
    p.init = KMeansInit::random;
    KMeans km(p);
    km.train(DenseMatrixView<const float>(data.data(), 40, 3));
    CHECK(km.k() == 8);
    CHECK(km.objective_history().back() < 1e-3 * km.objective_history().front() + 0.1);
    KMeans big(KMeansParams{.k = 50});
    CHECK_THROWS_AS(big.train(DenseMatrixView<const float>(data.data(), 40, 3)), Error);
    data[5] = std::nanf("");
    CHECK_THROWS_AS(km.train(DenseMatrixView<const float>(data.data(), 40, 3)), Error);
    CHECK_THROWS_AS(KMeans(KMeansParams{.k = 0}), Error);
}

namespace {
ProductQuantizer trained_pq(const std::vector<float>& data, std::size_t n, std::size_t d, std::size_t m, std::size_t nbits) {
    ProductQuantizer pq(d, m, nbits);
    ProductQuantizerParams p;
    p.m = m;
    p.nbits = nbits;
    p.iterations = 12;
    pq.train(DenseMatrixView<const float>(data.data(), n, d), p);
    return pq;
}
}  // namespace

TEST_CASE("PQ encodes to the nearest centroid, reconstruction error shrinks with more bits", "[dense][pq]") {
    const std::size_t n = 4000, d = 30;  // 30 = uneven split for m = 4 (7/8/7/8)
    const auto data = clustered_vectors(n, d, 40, 21);
    const DenseMatrixView<const float> view(data.data(), n, d);
    double err_prev = 1e30;
    for (auto [m, nbits] : {std::pair<std::size_t, std::size_t>{4, 4}, {4, 8}, {10, 8}}) {
        const auto pq = trained_pq(data, n, d, m, nbits);
        const auto codes = pq.encode(view, 2);
        double err = 0, energy = 0;
        std::vector<float> rec(d);
        for (std::size_t i = 0; i < n; ++i) {
            pq.decode(codes.data() + i * m, rec.data());
            for (std::size_t j = 0; j < d; ++j) {
                err += std::pow(rec[j] - data[i * d + j], 2.0);
                energy += std::pow(data[i * d + j], 2.0);
            }
            if (i % 200 == 0) {  // scalar reference: the chosen code is the nearest centroid in every sub-space
                for (std::size_t s = 0; s < m; ++s) {
                    float best = 1e30f;
                    for (std::size_t c = 0; c < pq.ksub(); ++c) {
                        float dd = 0;
                        for (std::size_t j = 0; j < pq.sub_dim(s); ++j) dd += std::pow(data[i * d + pq.sub_begin(s) + j] - pq.centroid(s, c)[j], 2.0f);
                        best = std::min(best, dd);
                    }
                    float mine = 0;
                    for (std::size_t j = 0; j < pq.sub_dim(s); ++j)
                        mine += std::pow(data[i * d + pq.sub_begin(s) + j] - pq.centroid(s, codes[i * m + s])[j], 2.0f);
                    CHECK(mine == Approx(best).epsilon(1e-4).margin(1e-5));
                }
            }
        }
        INFO("m=" << m << " nbits=" << nbits << " relative error " << err / energy);
        CHECK(err / energy < (nbits == 4 ? 0.3 : 0.2));
        CHECK(err < err_prev);
        err_prev = err;
    }
}

TEST_CASE("PQ ADC equals a scalar reference distance to the reconstruction (8 and 4 bits, every SIMD level)", "[dense][pq]") {
    const std::size_t n = 2000, d = 32, m = 8;
    for (std::size_t nbits : {8u, 4u}) {
    const auto data = clustered_vectors(n, d, 20, 31);
    const auto queries = clustered_vectors(10, d, 20, 32);
    const auto pq = trained_pq(data, n, d, m, nbits);
    const auto codes = pq.encode(DenseMatrixView<const float>(data.data(), n, d));
    std::vector<float> lut(m * 256), rec(d);
    for (auto level : simd::supported_simd_levels())
    for (bool l2 : {true, false}) {
        simd::ScopedSimdLevel scoped(level);
        for (std::size_t qi = 0; qi < 10; ++qi) {
            const float* q = queries.data() + qi * d;
            pq.compute_lut(q, l2, lut.data());
            for (std::size_t i = 0; i < n; i += 13) {
                pq.decode(codes.data() + i * m, rec.data());
                double ref = 0;
                for (std::size_t j = 0; j < d; ++j) ref += l2 ? std::pow(q[j] - rec[j], 2.0) : -double(q[j]) * rec[j];
                CHECK(pq.adc(lut.data(), codes.data() + i * m) == Approx(ref).epsilon(1e-4).margin(1e-4));
            }
        }
    }
    }
}

TEST_CASE("fast-scan sums equal the quantized-LUT reference at every SIMD level", "[dense][pq][fastscan]") {
    const std::size_t d = 48;
    const auto data = clustered_vectors(3000, d, 30, 41);
    const auto queries = clustered_vectors(5, d, 30, 42);
    for (std::size_t m : {1u, 2u, 3u, 4u, 5u, 12u, 24u, 48u}) {
        const auto pq = trained_pq(data, 3000, d, m, 4);
        const std::size_t n = 100;  // 4 blocks, the last one partial
        const auto codes = pq.encode(DenseMatrixView<const float>(data.data(), n, d));
        const auto packed = pq.pack_fast_scan(codes, n);
        const std::size_t nb = (n + 31) / 32;
        for (std::size_t qi = 0; qi < 5; ++qi) {
            std::vector<float> lut(m * 16);
            pq.compute_lut(queries.data() + qi * d, qi % 2 == 0, lut.data());
            QuantizedLut qlut;
            pq.quantize_lut(lut.data(), qlut);
            // reference: sum of the quantized entries of each (unpacked) code; and the de-quantized value tracks ADC
            std::vector<std::uint16_t> want(nb * 32, 0);
            for (std::size_t i = 0; i < nb * 32; ++i) {
                std::uint32_t s = 0;
                for (std::size_t sub = 0; sub < m; ++sub) s += qlut.table[sub * 16 + (i < n ? codes[i * m + sub] : 0)];
                want[i] = static_cast<std::uint16_t>(s);
                if (i < n) {
                    const float approx = qlut.bias + static_cast<float>(s) / qlut.scale;
                    const float exact = pq.adc(lut.data(), codes.data() + i * m);
                    CHECK(std::fabs(approx - exact) <= 0.5f * static_cast<float>(m) / qlut.scale * 1.001f + 1e-5f);
                }
            }
            const std::uint16_t thr = want[7];
            for (auto level : simd::supported_simd_levels()) {
                simd::ScopedSimdLevel scoped(level);
                std::vector<std::uint16_t> got(nb * 32);
                std::vector<std::uint32_t> masks(nb);
                pq.fast_scan(packed.data(), nb, qlut, thr, got.data(), masks.data());
                INFO("m=" << m << " level=" << simd::simd_level_name(level));
                CHECK(got == want);
                for (std::size_t i = 0; i < nb * 32; ++i) CHECK(((masks[i / 32] >> (i % 32)) & 1u) == (want[i] <= thr ? 1u : 0u));
            }
        }
    }
}

TEST_CASE("PQ rejects bad parameters", "[dense][pq][errors]") {
    CHECK_THROWS_AS(ProductQuantizer(16, 0, 8), Error);
    CHECK_THROWS_AS(ProductQuantizer(16, 17, 8), Error);
    CHECK_THROWS_AS(ProductQuantizer(16, 4, 6), Error);
    ProductQuantizer pq(16, 4, 8);
    std::vector<float> few(16 * 10, 1.0f);
    CHECK_THROWS_AS(pq.train(DenseMatrixView<const float>(few.data(), 10, 16)), Error);
    CHECK_THROWS_AS(pq.encode(DenseMatrixView<const float>(few.data(), 10, 16)), Error);  // not trained
}
