// sparsedense/sparse/document_at_a_time.hpp
//
// document_at_a_time(cursors, top, accept): exhaustive document-at-a-time (DAAT) evaluation (Turtle & Flood, IP&M
// 1995). All query lists are merged by document id: the smallest current document is scored completely, from every
// cursor positioned on it, and offered to the top-k heap before the merge moves on. It needs no accumulator (memory
// is one cursor per term), at the cost of a min-search over the cursors per document; it is the baseline the
// dynamic-pruning DAAT methods (maxscore.hpp, block_max_wand.hpp) improve on.
//
// Scores are sums of stored weights in cursor order (ascending term id when the cursors are in query order): with
// f32 postings they equal brute_force_search bit for bit; with f16/u8 they are within score_error_bound(query).
// A filter (`accept`) is tested before a document is scored: a rejected document's cursors just move past it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/sparse/posting_cursor.hpp"

namespace sparsedense {

/// Exact top-k by merging every cursor's list one document at a time. `cursors` in ascending term order.
template <class Cursor, class Accept>
void document_at_a_time(std::span<Cursor> cursors, TopKCollector<>& top, const Accept& accept) {
    while (true) {
        std::uint32_t d = kEndOfList;
        for (const auto& c : cursors) d = std::min(d, c.docid());
        if (d == kEndOfList) break;
        if constexpr (!Accept::accepts_all) {
            if (!accept(d)) {
                for (auto& c : cursors)
                    if (c.docid() == d) c.next();
                continue;
            }
        }
        float score = 0.0f;
        for (auto& c : cursors)
            if (c.docid() == d) {
                score += c.score();
                c.next();
            }
        if (top.would_enter(score)) top.push(d, score);
    }
}

}  // namespace sparsedense
