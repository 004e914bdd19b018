// Random id filters for the filtered-search tests: a bitset accepting about `fraction` of ids 0..n-1 (at least
// one), and the reference answer "the unfiltered full ranking, keeping accepted ids, cut to k".
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/search_result.hpp"

namespace sparsedense::testing {

/// Selectivities every filtered-search test covers: 100%, 10%, 1%, 0.1%.
inline const std::vector<double>& filter_selectivities() {
    static const std::vector<double> s{1.0, 0.1, 0.01, 0.001};
    return s;
}

inline IdBitset random_id_bitset(std::size_t n, double fraction, std::uint64_t seed) {
    IdBitset bits(n);
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution take(fraction);
    for (std::size_t i = 0; i < n; ++i)
        if (take(rng)) bits.set(i);
    if (bits.count() == 0 && n > 0) bits.set(rng() % n);
    return bits;
}

/// The best k of `ranking` (a full, best-first ranking) that the filter accepts.
template <class Id>
SearchResults<Id> filtered_top_k(const SearchResults<Id>& ranking, const IdFilter& filter, std::size_t k) {
    SearchResults<Id> out;
    for (const auto& hit : ranking) {
        if (out.size() == k) break;
        if (filter.accepts(hit.id)) out.push_back(hit);
    }
    return out;
}

}  // namespace sparsedense::testing
