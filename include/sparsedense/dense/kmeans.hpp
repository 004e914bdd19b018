// sparsedense/dense/kmeans.hpp
//
// KMeans: Lloyd's algorithm for squared-L2 k-means, the building block of the IVF coarse quantizer and of every
// product-quantizer codebook (and usable by the sparse index's clustering).
//   * Initialisation: k-means++ (Arthur & Vassilvitskii, SODA 2007: each next seed drawn with probability
//     proportional to its squared distance to the nearest seed so far) over a bounded sub-sample, or k distinct
//     random points.
//   * Training on a sample: at most k * max_points_per_centroid points (seeded sample without replacement).
//   * Assignment step as a matrix product (for d <= 16, e.g. PQ sub-spaces, all k distances of a point are computed
//     at once from the transposed centroids instead): |x - c|^2 = |x|^2 - 2 x.c + |c|^2, with the x.c block computed
//     by the library's register-blocked, run-time dispatched simd::dot_block (AVX-512 on this CPU; Eigen's GEMM,
//     compiled for the build's baseline ISA since the library uses no -march flags, was slower here and cost every
//     including translation unit a GEMM instantiation, so it is gone).
//   * Update step in double precision in a fixed point order; empty clusters are repaired by splitting the most
//     populated cluster (its centroid is copied and both copies nudged apart by a relative epsilon).
//   * Fixed seed => identical centroids whatever the thread count (threads only split the assignment step, whose
//     per-point result does not depend on the split).
// objective_history() holds the sum of squared distances after each assignment step (non-increasing in exact
// arithmetic; tests check it decreases).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <vector>


#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/simd/dense_kernels.hpp"
#include "sparsedense/simd/pq_kernels.hpp"

namespace sparsedense {

enum class KMeansInit { plus_plus, random };

struct KMeansParams {
    std::size_t k = 256;                         ///< number of clusters
    std::size_t iterations = 20;                 ///< Lloyd iterations (assignment + update)
    KMeansInit init = KMeansInit::plus_plus;
    std::size_t max_points_per_centroid = 256;   ///< training sample = min(n, k * this); 0 = use every point
    std::size_t init_sample = 0;                 ///< points k-means++ draws from (0 = min(sample, max(16 k, 4096)))
    std::uint64_t seed = 1234;
    std::size_t threads = 0;                     ///< 0 = all hardware threads
    bool spherical = false;                      ///< renormalise centroids to unit length after each update
    ProgressCallback progress{};                 ///< one report per iteration (stage "kmeans"); empty = silent
};

class KMeans {
public:
    KMeans() = default;
    explicit KMeans(KMeansParams params) : params_(params) {
        if (params_.k == 0) raise(ErrorKind::invalid_argument, "k-means: k must be > 0");
    }

    [[nodiscard]] const KMeansParams& params() const noexcept { return params_; }
    [[nodiscard]] const DenseMatrix<float>& centroids() const noexcept { return centroids_; }
    [[nodiscard]] std::size_t k() const noexcept { return centroids_.rows(); }
    [[nodiscard]] std::size_t dimension() const noexcept { return centroids_.cols(); }
    /// Sum of squared distances of the training sample to its centroid, after each assignment step.
    [[nodiscard]] const std::vector<double>& objective_history() const noexcept { return objective_; }
    /// How many empty clusters were repaired in all.
    [[nodiscard]] std::size_t repaired_clusters() const noexcept { return repaired_; }

    /// Trains on the rows of `data` (needs at least k rows; all values finite).
    void train(DenseMatrixView<const float> data) {
        const std::size_t n = data.rows, d = data.cols, k = params_.k;
        if (d == 0) raise(ErrorKind::invalid_argument, "k-means: dimension must be > 0");
        if (n < k) raise(ErrorKind::invalid_argument, "k-means: ", n, " training points for k = ", k, " clusters");
        for (std::size_t i = 0; i < n; ++i) validate_finite(std::span<const float>(data.row(i)), static_cast<long long>(i), "k-means training data");
        std::mt19937_64 rng(params_.seed);

        // Sample (without replacement, seeded) into a contiguous matrix.
        std::size_t ns = n;
        if (params_.max_points_per_centroid > 0) ns = std::min(n, k * params_.max_points_per_centroid);
        DenseMatrix<float> sample(ns, d);
        {
            std::vector<std::uint32_t> order = sample_indices(n, ns, rng);
            for (std::size_t i = 0; i < ns; ++i) std::copy_n(data.row_data(order[i]), d, sample.row(i).data());
        }
        centroids_ = DenseMatrix<float>(k, d);
        if (params_.init == KMeansInit::plus_plus) init_plus_plus(sample, rng);
        else init_random(sample, rng);
        if (params_.spherical) normalize_centroids();

        objective_.clear();
        repaired_ = 0;
        std::vector<std::uint32_t> assignment(ns);
        std::vector<float> dist(ns);
        std::vector<double> sums(k * d);
        std::vector<std::size_t> counts(k);
        ProgressReporter progress(params_.progress, "kmeans", params_.iterations, params_.iterations);
        for (std::size_t it = 0; it < params_.iterations; ++it) {
            assign_into(sample.view(), assignment.data(), dist.data());
            double obj = 0.0;
            for (float v : dist) obj += v;
            objective_.push_back(obj);
            // update
            std::fill(sums.begin(), sums.end(), 0.0);
            std::fill(counts.begin(), counts.end(), 0);
            for (std::size_t i = 0; i < ns; ++i) {
                const std::uint32_t c = assignment[i];
                ++counts[c];
                const float* x = sample.row(i).data();
                double* s = sums.data() + c * d;
                for (std::size_t j = 0; j < d; ++j) s[j] += x[j];
            }
            for (std::size_t c = 0; c < k; ++c) {
                if (counts[c] == 0) continue;
                const double inv = 1.0 / static_cast<double>(counts[c]);
                float* cc = centroids_.row(c).data();
                for (std::size_t j = 0; j < d; ++j) cc[j] = static_cast<float>(sums[c * d + j] * inv);
            }
            repair_empty(counts);
            if (params_.spherical) normalize_centroids();
            progress.advance();
        }
        progress.finish();
        if (params_.iterations > 0) {  // final objective of the returned centroids
            assign_into(sample.view(), assignment.data(), dist.data());
            double obj = 0.0;
            for (float v : dist) obj += v;
            objective_.push_back(obj);
        }
    }

    /// Nearest centroid of every row (and optionally its squared distance).
    [[nodiscard]] std::vector<std::uint32_t> assign(DenseMatrixView<const float> data, std::vector<float>* distances = nullptr) const {
        if (centroids_.rows() == 0) raise(ErrorKind::invalid_argument, "k-means: assign() before train()");
        validate_dimension(dimension(), data.cols, "k-means input");
        std::vector<std::uint32_t> out(data.rows);
        std::vector<float> dist(data.rows);
        assign_into(data, out.data(), dist.data());
        if (distances) *distances = std::move(dist);
        return out;
    }

    /// Replaces the centroids (e.g. when loading a trained model).
    void set_centroids(DenseMatrix<float> centroids) {
        centroids_ = std::move(centroids);
        params_.k = centroids_.rows();
    }

private:
    static std::vector<std::uint32_t> sample_indices(std::size_t n, std::size_t count, std::mt19937_64& rng) {
        std::vector<std::uint32_t> idx(n);
        std::iota(idx.begin(), idx.end(), 0u);
        if (count < n) {
            for (std::size_t i = 0; i < count; ++i) {  // partial Fisher-Yates
                std::uniform_int_distribution<std::size_t> pick(i, n - 1);
                std::swap(idx[i], idx[pick(rng)]);
            }
            idx.resize(count);
            std::sort(idx.begin(), idx.end());  // sequential reads of the source
        }
        return idx;
    }

    void init_random(const DenseMatrix<float>& sample, std::mt19937_64& rng) {
        const auto idx = sample_indices(sample.rows(), params_.k, rng);
        for (std::size_t c = 0; c < params_.k; ++c) std::copy_n(sample.row(idx[c]).data(), sample.cols(), centroids_.row(c).data());
    }

    void init_plus_plus(const DenseMatrix<float>& sample, std::mt19937_64& rng) {
        const std::size_t d = sample.cols(), k = params_.k;
        std::size_t m = params_.init_sample ? params_.init_sample : std::max<std::size_t>(16 * k, 4096);
        m = std::clamp<std::size_t>(m, k, sample.rows());
        const auto idx = sample_indices(sample.rows(), m, rng);
        DenseMatrix<float> pts(m, d);
        for (std::size_t i = 0; i < m; ++i) std::copy_n(sample.row(idx[i]).data(), d, pts.row(i).data());
        std::vector<float> best(m, std::numeric_limits<float>::max()), dist(m);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        std::size_t chosen = std::uniform_int_distribution<std::size_t>(0, m - 1)(rng);
        const std::size_t threads = detail::resolve_threads(params_.threads, m / 4096 + 1);
        for (std::size_t c = 0; c < k; ++c) {
            std::copy_n(pts.row(chosen).data(), d, centroids_.row(c).data());
            if (c + 1 == k) break;
            const float* cc = centroids_.row(c).data();
            detail::parallel_for(m, threads, [&](std::size_t b, std::size_t e, std::size_t) {
                simd::l2_squared_many(cc, pts.row(b).data(), e - b, d, d, dist.data() + b);
                for (std::size_t i = b; i < e; ++i) best[i] = std::min(best[i], dist[i]);
            });
            double total = 0.0;
            for (float v : best) total += v;
            if (!(total > 0.0)) {  // every point coincides with a seed: fall back to any unused point
                chosen = (chosen + 1) % m;
                continue;
            }
            double r = unit(rng) * total;
            std::size_t i = 0;
            for (; i + 1 < m; ++i) {
                r -= best[i];
                if (r <= 0.0) break;
            }
            chosen = i;
        }
    }

    void normalize_centroids() {
        for (std::size_t c = 0; c < centroids_.rows(); ++c) {
            auto row = centroids_.row(c);
            double s = 0.0;
            for (float v : row) s += static_cast<double>(v) * v;
            if (s > 0.0)
                for (float& v : row) v = static_cast<float>(v / std::sqrt(s));
        }
    }

    void repair_empty(std::vector<std::size_t>& counts) {
        const std::size_t k = counts.size(), d = centroids_.cols();
        constexpr float eps = 1.0f / 1024.0f;
        for (std::size_t c = 0; c < k; ++c) {
            if (counts[c] != 0) continue;
            const std::size_t big = static_cast<std::size_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
            if (counts[big] < 2) break;
            float* dst = centroids_.row(c).data();
            float* src = centroids_.row(big).data();
            for (std::size_t j = 0; j < d; ++j) {
                const float v = src[j];
                const float delta = (j % 2 == 0 ? eps : -eps) * (std::fabs(v) + 1e-6f);
                dst[j] = v + delta;
                src[j] = v - delta;
            }
            counts[c] = counts[big] / 2;
            counts[big] -= counts[c];
            ++repaired_;
        }
    }

    /// Nearest centroid by |x|^2 - 2 x.c + |c|^2, rows split in blocks over threads.
    void assign_into(DenseMatrixView<const float> data, std::uint32_t* out, float* out_dist) const {
        const std::size_t n = data.rows, d = data.cols, k = centroids_.rows();
        if (n == 0) return;
        std::vector<float> cnorm(k);
        for (std::size_t c = 0; c < k; ++c) cnorm[c] = simd::dot(centroids_.row(c).data(), centroids_.row(c).data(), d);
        constexpr std::size_t kBlock = 256;
        const std::size_t blocks = (n + kBlock - 1) / kBlock;
        if (d <= kSmallDimension) {
            // Few dimensions (PQ sub-spaces): a dot product per pair wastes most of a SIMD register and its
            // horizontal sum, so compute all k distances of a point at once from the transposed centroids
            // (d x k: one AXPY of k floats per dimension, as for PQ lookup tables).
            std::vector<float> t(d * k);
            for (std::size_t c = 0; c < k; ++c)
                for (std::size_t j = 0; j < d; ++j) t[j * k + c] = centroids_[c][j];
            const std::size_t offsets[2] = {0, d};
            detail::parallel_for(blocks, params_.threads, [&](std::size_t b0, std::size_t b1, std::size_t) {
                std::vector<float> dist(kBlock * k);
                for (std::size_t b = b0; b < b1; ++b) {
                    const std::size_t first = b * kBlock, cnt = std::min(kBlock, n - first);
                    for (std::size_t i = 0; i < cnt; ++i)
                        simd::pq_lut(data.row_data(first + i), t.data(), offsets, 1, k, cnorm.data(), true, dist.data() + i * k);
                    simd::argmin_centroid(dist.data(), cnt, k, k, nullptr, out + first, out_dist + first);
                    for (std::size_t i = 0; i < cnt; ++i) out_dist[first + i] = std::max(0.0f, out_dist[first + i]);
                }
            });
            return;
        }
        auto work = [&](std::size_t b0, std::size_t b1, std::size_t) {
            std::vector<float> dots(kBlock * k);
            for (std::size_t b = b0; b < b1; ++b) {
                const std::size_t first = b * kBlock, cnt = std::min(kBlock, n - first);
                simd::dot_block(data.row_data(first), cnt, data.stride, centroids_.data(), k, d, d, dots.data(), k);
                simd::argmin_centroid(dots.data(), cnt, k, k, cnorm.data(), out + first, out_dist + first);
                for (std::size_t i = 0; i < cnt; ++i) {
                    const float xn = simd::dot(data.row_data(first + i), data.row_data(first + i), d);
                    out_dist[first + i] = std::max(0.0f, xn + out_dist[first + i]);
                }
            }
        };
        detail::parallel_for(blocks, params_.threads, work);
    }

    static constexpr std::size_t kSmallDimension = 16;

    KMeansParams params_;
    DenseMatrix<float> centroids_;
    std::vector<double> objective_;
    std::size_t repaired_ = 0;
};

}  // namespace sparsedense
