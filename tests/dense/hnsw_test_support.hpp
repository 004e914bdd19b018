// Helpers shared by the HNSW tests: clustered data, brute-force truth from FlatIndex, recall.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "support/test_support.hpp"

namespace sparsedense::hnsw_test {

struct Data {
    std::size_t n, d;
    std::vector<float> base, queries;
    [[nodiscard]] DenseMatrixView<const float> view() const { return {base.data(), n, d}; }
    [[nodiscard]] std::size_t query_count() const { return queries.size() / d; }
    [[nodiscard]] std::span<const float> query(std::size_t i) const { return {queries.data() + i * d, d}; }
};

/// n clustered vectors and `nq` held-out queries from the same clusters.
inline Data clustered(std::size_t n, std::size_t d, std::size_t nq, std::uint64_t seed = 5) {
    auto all = sparsedense::testing::clustered_vectors(n + nq, d, 40, seed, 0.4f);
    Data data{n, d, std::vector<float>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n * d)),
              std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(n * d), all.end())};
    return data;
}

/// Small fast build parameters.
inline HnswIndexBuildParams small_params(VectorEncoding storage = VectorEncoding::f32, std::size_t threads = 1) {
    return {.M = 12, .ef_construction = 80, .storage = storage, .keep_f32 = true, .threads = threads, .seed = 7};
}

/// Mean fraction of `truth`'s ids found in `got` (per query lists).
inline double recall(const std::vector<SearchResults<>>& got, const std::vector<SearchResults<>>& truth) {
    double total = 0.0;
    for (std::size_t q = 0; q < truth.size(); ++q) {
        std::size_t hit = 0;
        for (const auto& t : truth[q])
            hit += std::any_of(got[q].begin(), got[q].end(), [&](const auto& g) { return g.id == t.id; }) ? 1 : 0;
        total += truth[q].empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth[q].size());
    }
    return truth.empty() ? 1.0 : total / static_cast<double>(truth.size());
}

template <class Index, class Params>
std::vector<SearchResults<>> run(const Index& index, const Data& data, std::size_t k, const Params& p, const IdFilter& filter = {}) {
    std::vector<SearchResults<>> out;
    for (std::size_t q = 0; q < data.query_count(); ++q) out.push_back(index.search(data.query(q), k, p, filter));
    return out;
}

}  // namespace sparsedense::hnsw_test
