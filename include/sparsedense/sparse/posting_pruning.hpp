// sparsedense/sparse/posting_pruning.hpp
//
// Static pruning of posting lists, the first build step of the clustered index (Seismic, Bruch et al., SIGIR 2024,
// section 4.1). Learned-sparse vectors concentrate their mass on few terms, so keeping only the largest postings of
// each list loses little of any inner product that matters:
//   fixed_size         each list keeps its `lambda` largest postings;
//   global_threshold   the lambda x dimension largest postings of the whole collection are kept (one global weight
//                      threshold), each list capped at lambda x max_fraction postings.
// Ties break by smaller document id. The kept postings of a list come back in increasing document order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/sparse/clustered_index_params.hpp"
#include "sparsedense/sparse/detail/transpose.hpp"

namespace sparsedense::detail {

/// Kept postings: per term, the document ids in increasing order.
using PrunedLists = std::vector<std::vector<std::uint32_t>>;

/// The weight of the budget-th largest posting (-inf when the budget keeps everything).
inline float global_pruning_threshold(const std::vector<float>& weights, std::uint64_t budget) {
    if (budget >= weights.size()) return -std::numeric_limits<float>::infinity();
    std::vector<float> copy(weights);
    std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(budget - 1), copy.end(), std::greater<float>());
    return copy[budget - 1];
}

/// Positions (within the list [b, b + ...)) of the postings at or above `tau`, at most `cap` of them (the heaviest).
inline void keep_heaviest(const PostingLists& lists, std::uint64_t b, std::uint64_t e, float tau, std::size_t cap, std::vector<std::uint32_t>& idx) {
    idx.clear();
    for (std::uint64_t p = b; p < e; ++p)
        if (lists.weights[p] >= tau) idx.push_back(static_cast<std::uint32_t>(p - b));
    if (idx.size() <= cap) return;
    auto heavier = [&](std::uint32_t x, std::uint32_t y) {
        const float wx = lists.weights[b + x], wy = lists.weights[b + y];
        return wx > wy || (wx == wy && x < y);
    };
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(cap), idx.end(), heavier);
    idx.resize(cap);
    std::sort(idx.begin(), idx.end());
}

/// The pruned posting lists of `docs` (validated by the caller) over `dim` terms; lists are pruned in parallel.
inline PrunedLists prune_postings(CsrMatrixView<float> docs, std::size_t dim, const ClusteredInvertedIndexBuildParams& params, std::size_t threads) {
    const PostingLists lists = transpose_csr(docs, dim, threads);
    float tau = -std::numeric_limits<float>::infinity();
    std::size_t cap = params.lambda;
    if (params.pruning == PruningStrategy::global_threshold) {
        cap = static_cast<std::size_t>(std::ceil(static_cast<double>(params.lambda) * params.max_fraction));
        tau = global_pruning_threshold(lists.weights, static_cast<std::uint64_t>(params.lambda) * dim);
    }
    PrunedLists kept(dim);
    parallel_for(dim, threads, 256, [&](std::size_t tb, std::size_t te, std::size_t) {
        std::vector<std::uint32_t> idx;
        for (std::size_t t = tb; t < te; ++t) {
            const std::uint64_t b = lists.offsets[t];
            keep_heaviest(lists, b, lists.offsets[t + 1], tau, cap, idx);
            auto& out = kept[t];
            out.resize(idx.size());
            for (std::size_t i = 0; i < idx.size(); ++i) out[i] = lists.docs[b + idx[i]];
        }
    });
    return kept;
}

}  // namespace sparsedense::detail
