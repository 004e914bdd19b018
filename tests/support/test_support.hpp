// Helpers shared by the tests: seeded data generators and access to ../shared/data (skipping cleanly when absent).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "support/skip.hpp"

namespace sparsedense::testing {

/// Path of a file under the shared data folder, or "" when the folder is not there.
inline std::string shared_data_path(const std::string& relative) {
    const std::filesystem::path p = std::filesystem::path(SPARSEDENSE_SHARED_DATA_DIR) / relative;
    return std::filesystem::exists(p) ? p.string() : std::string();
}

/// Skips the current test case with a message when a shared data file is missing; otherwise returns its path.
#define SPARSEDENSE_REQUIRE_SHARED_DATA(var, relative)                                                   \
    const std::string var = ::sparsedense::testing::shared_data_path(relative);                         \
    if (var.empty()) SPARSEDENSE_SKIP("shared data file '" << relative << "' not found beside the project (../shared)")

/// n x d floats drawn around `clusters` Gaussian centres (clustered data: uniform data makes quantizers look broken).
inline std::vector<float> clustered_vectors(std::size_t n, std::size_t d, std::size_t clusters, std::uint64_t seed,
                                            float spread = 0.15f) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> centres(clusters * d);
    for (auto& c : centres) c = normal(rng);
    std::vector<float> out(n * d);
    std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = pick(rng);
        for (std::size_t j = 0; j < d; ++j) out[i * d + j] = centres[c * d + j] + spread * normal(rng);
    }
    return out;
}

/// A random d x d matrix with orthonormal rows (Gram-Schmidt in double on Gaussian rows), seeded.
inline DenseMatrix<float> random_rotation(std::size_t d, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<std::vector<double>> rows(d, std::vector<double>(d));
    for (std::size_t i = 0; i < d; ++i) {
        for (auto& x : rows[i]) x = normal(rng);
        for (int pass = 0; pass < 2; ++pass)  // twice: classical Gram-Schmidt loses orthogonality once
            for (std::size_t j = 0; j < i; ++j) {
                double dot = 0;
                for (std::size_t c = 0; c < d; ++c) dot += rows[i][c] * rows[j][c];
                for (std::size_t c = 0; c < d; ++c) rows[i][c] -= dot * rows[j][c];
            }
        double norm = 0;
        for (const double x : rows[i]) norm += x * x;
        for (auto& x : rows[i]) x /= std::sqrt(norm);
    }
    DenseMatrix<float> r(d, d);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t c = 0; c < d; ++c) r[i][c] = static_cast<float>(rows[i][c]);
    return r;
}

/// Uniform floats in [lo, hi).
inline std::vector<float> uniform_vector(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> out(n);
    for (auto& x : out) x = u(rng);
    return out;
}

/// Random sparse rows: each row has about `nnz` distinct sorted term ids below `dim` (skewed towards small ids
/// when `zipf` is true), positive weights.
inline CsrMatrix<float> random_sparse_rows(std::size_t rows, std::size_t dim, std::size_t nnz, std::uint64_t seed, bool zipf = true) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> weight(0.01f, 2.0f);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    CsrMatrix<float> m(dim);
    std::vector<std::uint32_t> ids;
    std::vector<float> values;
    for (std::size_t r = 0; r < rows; ++r) {
        ids.clear();
        for (std::size_t k = 0; k < nnz; ++k) {
            const double u = unit(rng);
            const auto id = zipf ? static_cast<std::uint32_t>(std::pow(static_cast<double>(dim), u) - 1.0)
                                 : static_cast<std::uint32_t>(u * static_cast<double>(dim));
            ids.push_back(std::min<std::uint32_t>(id, static_cast<std::uint32_t>(dim - 1)));
        }
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        values.resize(ids.size());
        for (auto& v : values) v = weight(rng);
        m.push_back({ids, values});
    }
    return m;
}

}  // namespace sparsedense::testing
