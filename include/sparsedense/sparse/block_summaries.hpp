// sparsedense/sparse/block_summaries.hpp
//
// Block summaries, the third build step of the clustered index (Seismic, Bruch et al., SIGIR 2024, section 4.3),
// and their scoring at search time. A block's summary is the coordinate-wise maximum of its documents, so its inner
// product with a (non-negative) query bounds every document of the block from above; to keep it small it is
//   * quantized to 8 bits: code = round(value / step), step = largest value / 255, one step per block;
//   * trimmed to the largest coordinates holding `alpha` of its L1 mass ("energy-preserving" summaries; found with a
//     256-bucket mass histogram over the codes, linear time, no sort), and to at most summary_max_terms of them.
// The trimmed summary is no longer a strict upper bound, which is where the index trades recall for speed.
// Stored block after block with ascending component ids, so scoring all blocks of a list is one sequential read
// against the dense query (summary_dot).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"

namespace sparsedense::detail {

/// One list's summaries: block b's entries are [entry_bounds[b], entry_bounds[b + 1]) (local), scaled by steps[b].
struct ListSummaries {
    std::vector<float> steps;
    std::vector<std::uint64_t> entry_bounds;
    std::vector<std::uint32_t> entry_comp;  // component ids, ascending within a block
    std::vector<std::uint8_t> entry_code;

    void clear(std::size_t blocks) {
        entry_bounds.assign(1, 0);
        entry_comp.clear();
        entry_code.clear();
        steps.assign(blocks, 0.0f);
    }
};

/// Per-worker summary scratch: a dimension-sized accumulator of the block's coordinate-wise maximum.
struct SummaryScratch {
    std::vector<float> dense;
    std::vector<std::uint32_t> touched;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> summary;  // one block's (component, code)

    void ensure(std::size_t dimension) {
        if (dense.size() < dimension) dense.assign(dimension, 0.0f);
    }
};

/// Smallest code c such that the coordinates with code >= c hold `alpha` of the mass (from a 256-bucket histogram).
inline int alpha_mass_min_code(const SummaryScratch& s, float step, double mass, double alpha) {
    double hist[256] = {};
    for (std::uint32_t term : s.touched) {
        const int code = static_cast<int>(std::min(255.0f, std::nearbyint(s.dense[term] / step)));
        hist[code] += s.dense[term];
    }
    int min_code = 255;
    for (double acc = hist[255]; min_code > 1 && acc < alpha * mass;) acc += hist[--min_code];
    return min_code;
}

/// Summarizes the documents `block[0, n)` into `out` (appends one block; its step goes to out.steps[b]).
inline void summarize_block(CsrMatrixView<float> docs, const std::uint32_t* block, std::size_t n, std::size_t b, double alpha,
                            std::size_t max_terms, SummaryScratch& s, ListSummaries& out) {
    s.touched.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const auto row = docs.row(block[i]);
        for (std::size_t j = 0; j < row.size(); ++j) {
            const float v = row.values[j];
            if (v <= 0.0f) continue;
            float& slot = s.dense[row.ids[j]];
            if (slot == 0.0f) s.touched.push_back(row.ids[j]);
            slot = std::max(slot, v);
        }
    }
    float vmax = 0.0f;
    double mass = 0.0;
    for (std::uint32_t term : s.touched) {
        vmax = std::max(vmax, s.dense[term]);
        mass += s.dense[term];
    }
    const float step = vmax > 0.0f ? vmax / 255.0f : 1.0f;
    out.steps[b] = step;
    const int min_code = alpha_mass_min_code(s, step, mass, alpha);
    s.summary.clear();
    for (std::uint32_t term : s.touched) {
        const float code = std::min(255.0f, std::nearbyint(s.dense[term] / step));
        s.dense[term] = 0.0f;
        if (code < static_cast<float>(min_code) || code <= 0.0f) continue;
        s.summary.emplace_back(term, static_cast<std::uint8_t>(code));
    }
    if (max_terms > 0 && s.summary.size() > max_terms) {
        std::nth_element(s.summary.begin(), s.summary.begin() + static_cast<std::ptrdiff_t>(max_terms), s.summary.end(),
                         [](const auto& x, const auto& y) { return x.second > y.second || (x.second == y.second && x.first < y.first); });
        s.summary.resize(max_terms);
    }
    std::sort(s.summary.begin(), s.summary.end());  // ascending ids: the query lookups walk forward
    for (const auto& [term, code] : s.summary) {
        out.entry_comp.push_back(term);
        out.entry_code.push_back(code);
    }
    out.entry_bounds.push_back(out.entry_comp.size());
}

/// Inner product of the dense query with one block summary (component ids ascending, u8 codes); two accumulators.
template <class Id>
inline float summary_dot(const Id* ids, const std::uint8_t* codes, std::size_t n, const float* qdense) noexcept {
    float s0 = 0.0f, s1 = 0.0f;
    std::size_t e = 0;
    for (; e + 2 <= n; e += 2) {
        s0 += qdense[ids[e]] * static_cast<float>(codes[e]);
        s1 += qdense[ids[e + 1]] * static_cast<float>(codes[e + 1]);
    }
    if (e < n) s0 += qdense[ids[e]] * static_cast<float>(codes[e]);
    return s0 + s1;
}

}  // namespace sparsedense::detail
