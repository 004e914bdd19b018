// sparsedense/sparse/term_at_a_time.hpp
//
// term_at_a_time(cursors, accumulator, num_docs, top, accept): exhaustive term-at-a-time (TAAT) evaluation, the
// oldest way to run a ranked disjunctive query over inverted lists (Turtle & Flood, "Query evaluation: strategies
// and optimizations", IP&M 1995, call it the accumulator method). Each query list is read once, start to end, and
// every posting adds q * w into a float accumulator of its document; a bitset records the touched documents, so
// the final pass visits only those (ascending id) and offers each to the top-k heap. It reads every posting of
// every query term, but sequentially and without any per-document merge logic, which on learned-sparse collections
// of a few hundred thousand documents makes it the fastest exact method measured here (docs/sparse.md).
//
// Scores are sums of stored weights in query-term order (ascending term id): with f32 postings they equal
// brute_force_search bit for bit; with f16/u8 they are off by at most the index's score_error_bound(query).
// A filter (`accept`, one of core/id_filter.hpp's forms) is tested per touched document, before the heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/sparse/posting_cursor.hpp"

namespace sparsedense {

/// A float score and a "touched" bit per document (or per window slot); both all zero between queries.
struct ScoreAccumulator {
    float* scores;
    std::uint64_t* touched;
};

/// Offers every touched slot of acc[0 .. slots) to `top` as document first_doc + slot, in ascending order, and
/// zeroes the accumulator behind it. `offer(doc, partial)` decides what to do with the partial score.
template <class Offer>
inline void drain_accumulator(ScoreAccumulator acc, std::uint32_t first_doc, std::size_t slots, Offer&& offer) {
    const std::size_t words = (slots + 63) / 64;
    for (std::size_t wi = 0; wi < words; ++wi) {
        std::uint64_t word = acc.touched[wi];
        if (!word) continue;
        acc.touched[wi] = 0;
        while (word) {
            const std::uint32_t off = static_cast<std::uint32_t>(wi * 64 + static_cast<std::size_t>(__builtin_ctzll(word)));
            word &= word - 1;
            const float partial = acc.scores[off];
            acc.scores[off] = 0.0f;
            offer(first_doc + off, partial);
        }
    }
}

/// Exact top-k by exhaustive accumulation over every cursor's remaining postings.
template <class Cursor, class Accept>
void term_at_a_time(std::span<Cursor> cursors, ScoreAccumulator acc, std::size_t num_docs, TopKCollector<>& top, const Accept& accept) {
    float* scores = acc.scores;
    std::uint64_t* touched = acc.touched;
    for (const auto& c : cursors) {
        const auto w = c.weights();
        const float q = c.query_weight();
        const std::uint32_t* pd = c.doc_ids();
        for (std::uint64_t p = c.position(), e = c.end(); p < e; ++p) {
            const std::uint32_t d = pd[p];
            scores[d] += q * w(p);
            touched[d >> 6] |= std::uint64_t{1} << (d & 63);
        }
    }
    drain_accumulator(acc, 0, num_docs, [&](std::uint32_t d, float score) {
        if constexpr (!Accept::accepts_all)
            if (!accept(d)) return;
        if (top.would_enter(score)) top.push(d, score);
    });
}

}  // namespace sparsedense
