// Helpers for the sparse tests: result comparison with tie/tolerance awareness, a small CSR reader.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/sparse/brute_force.hpp"

namespace sparse_test {

using namespace sparsedense;

/// The query errors every sparse index must reject with sparsedense::Error: unsorted ids, a NaN weight, a term id at
/// `dimension`, and k = 0. `search(query, k)` runs one search.
template <class Search>
void require_bad_queries_rejected(Search&& search, std::uint32_t dimension) {
    const std::uint32_t good_ids[] = {1, 5, 9};
    const float good_values[] = {0.5f, 1.0f, 2.0f};
    const std::uint32_t unsorted[] = {5, 1, 9};
    REQUIRE_THROWS_AS(search({unsorted, good_values}, 5), Error);
    const float nan_values[] = {0.5f, std::nanf(""), 2.0f};
    REQUIRE_THROWS_AS(search({good_ids, nan_values}, 5), Error);
    const std::uint32_t too_big[] = {1, 5, dimension};
    REQUIRE_THROWS_AS(search({too_big, good_values}, 5), Error);
    REQUIRE_THROWS_AS(search({good_ids, good_values}, 0), Error);
}

/// Same length, same ids in the same order, scores within `tol` (absolute, relative to max(1, |score|)).
inline void require_same_results(const SearchResults<>& got, const SearchResults<>& expected, double tol) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("rank " << i << ": got (" << got[i].id << ", " << got[i].score << ") expected (" << expected[i].id << ", "
                     << expected[i].score << ")");
        REQUIRE(got[i].id == expected[i].id);
        REQUIRE(std::fabs(static_cast<double>(got[i].score) - expected[i].score) <= tol * std::max(1.0, std::fabs(static_cast<double>(expected[i].score))));
    }
}

/// Approximate scores: each returned score within `bound` of the doc's exact score, and each returned doc's exact
/// score at least the exact k-th score minus 2 * bound (a doc can only displace one within the error).
inline void require_within_bound(const SearchResults<>& got, const SearchResults<>& expected, CsrMatrixView<float> docs,
                                 SparseVectorView<float> query, double bound) {
    REQUIRE(got.size() == expected.size());
    if (expected.empty()) return;
    const double kth = expected.back().score;
    for (std::size_t i = 0; i < got.size(); ++i) {
        bool overlap = false;
        const double exact = sparse_merge_dot(query, docs.row(got[i].id), overlap);
        INFO("rank " << i << " doc " << got[i].id << " stored score " << got[i].score << " exact " << exact << " bound " << bound);
        REQUIRE(overlap);
        REQUIRE(std::fabs(got[i].score - exact) <= bound * 1.0001 + 1e-6);
        REQUIRE(exact >= kth - 2.0 * bound - 1e-6);
        if (i > 0) REQUIRE(!ranks_before(got[i], got[i - 1]));
    }
}

/// BigANN sparse CSR reader (test-local; the library's reader lives in io/).
inline CsrMatrix<float> read_csr(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::int64_t header[3];
    in.read(reinterpret_cast<char*>(header), sizeof(header));
    CsrMatrix<float> m(static_cast<std::size_t>(header[1]));
    std::vector<std::int64_t> indptr(static_cast<std::size_t>(header[0] + 1));
    in.read(reinterpret_cast<char*>(indptr.data()), static_cast<std::streamsize>(indptr.size() * 8));
    m.indptr.assign(indptr.begin(), indptr.end());
    m.indices.resize(static_cast<std::size_t>(header[2]));
    m.values.resize(static_cast<std::size_t>(header[2]));
    in.read(reinterpret_cast<char*>(m.indices.data()), static_cast<std::streamsize>(m.indices.size() * 4));
    in.read(reinterpret_cast<char*>(m.values.data()), static_cast<std::streamsize>(m.values.size() * 4));
    REQUIRE(in.good());
    return m;
}

}  // namespace sparse_test
