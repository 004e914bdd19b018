// sparsedense/sparse/block_max_wand.hpp
//
// block_max_wand(cursors, order, rescore, slack, top, accept): exact top-k by Block-Max WAND (Ding & Suel, "Faster
// top-k document retrieval using block-max indexes", SIGIR 2011), which refines WAND (Broder et al., CIKM 2003).
//
// Idea. Keep the cursors sorted by their current document. Walking that order and summing the terms' list-wide
// bounds max_score(), the first cursor at which the sum can reach the k-th score gives the pivot document: no
// document before it can enter the heap (WAND). Before evaluating the pivot, each cursor up to it moves its block
// pointer (a "shallow" move, reading no posting) to the block holding the pivot, and the sum of those blocks'
// max scores is a much tighter bound (the block-max check). If it passes and every cursor up to the pivot sits on
// it, the pivot is scored; if it passes but some cursors lag, they jump to the pivot; if it fails, no document
// before the end of the shallowest of those blocks can win, so the cursors skip there in one jump.
//
// Exactness. Bounds are over the true and the stored weights and every comparison is widened by score_slack();
// pivots are scored from the f32 forward index, so the results are the exact f32 scores at every posting
// precision. A filter (`accept`) is tested before a pivot is scored; a rejected pivot's cursors move past it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/sparse/posting_cursor.hpp"

namespace sparsedense {

template <class Cursor, class Accept>
class BlockMaxWandQuery {
public:
    BlockMaxWandQuery(std::span<Cursor> cursors, std::vector<Cursor*>& order, ForwardScorer rescore, double slack, TopKCollector<>& top,
                      const Accept& accept)
        : order_(order), rescore_(rescore), slack_(slack), top_(top), accept_(accept) {
        order_.clear();
        for (auto& c : cursors) order_.push_back(&c);
        std::sort(order_.begin(), order_.end(), by_doc);
    }

    void run() {
        const std::size_t m = order_.size();
        while (true) {
            sort_by_doc();
            const double th = top_.full() ? static_cast<double>(top_.threshold()) : -std::numeric_limits<double>::infinity();
            std::size_t p = find_pivot(th);
            if (p == m) break;
            const std::uint32_t pivot = order_[p]->docid();
            while (p + 1 < m && order_[p + 1]->docid() == pivot) ++p;
            if (block_bound(p, pivot) + slack_ >= th) {
                if (order_[0]->docid() == pivot) evaluate(p, pivot);
                else
                    for (std::size_t i = 0; i < p; ++i)
                        if (order_[i]->docid() < pivot) order_[i]->next_geq(pivot);
            } else {
                skip_blocks(p, pivot);
            }
        }
    }

private:
    static bool by_doc(const Cursor* a, const Cursor* b) noexcept { return a->docid() < b->docid(); }

    /// Insertion sort: few cursors change position per step. (Shifting, not swapping: the compiler turns a swap of
    /// neighbours into overlapping 16-byte loads and stores that stall store forwarding, twice slower here.)
    void sort_by_doc() {
        Cursor** o = order_.data();
        for (std::size_t i = 1; i < order_.size(); ++i) {
            Cursor* const c = o[i];
            const std::uint32_t d = c->docid();
            std::size_t j = i;
            for (; j > 0 && o[j - 1]->docid() > d; --j) o[j] = o[j - 1];
            o[j] = c;
        }
    }

    /// First position whose prefix of list bounds can reach `th`, or order_.size() when none can (done).
    [[nodiscard]] std::size_t find_pivot(double th) const {
        double bound = 0.0;
        for (std::size_t i = 0; i < order_.size(); ++i) {
            if (order_[i]->docid() == kEndOfList) break;
            bound += order_[i]->max_score();
            if (bound + slack_ >= th) return i;
        }
        return order_.size();
    }

    /// Sum of the block-max scores of cursors 0..p at the pivot's blocks (moving their block pointers there).
    double block_bound(std::size_t p, std::uint32_t pivot) {
        double bound = 0.0;
        for (std::size_t i = 0; i <= p; ++i) {
            order_[i]->block_max_geq(pivot);
            bound += order_[i]->block_max_score();
        }
        return bound;
    }

    /// Every cursor 0..p sits on the pivot: score it exactly (if the filter accepts it) and move past it.
    void evaluate(std::size_t p, std::uint32_t pivot) {
        bool wanted = true;
        if constexpr (!Accept::accepts_all) wanted = accept_(pivot);
        if (wanted) {
            const float score = rescore_(pivot);
            if (top_.would_enter(score)) top_.push(pivot, score);
        }
        for (std::size_t i = 0; i <= p; ++i) order_[i]->next();
    }

    /// The block-max check failed: move cursors 0..p to the first document past the shallowest of their blocks.
    void skip_blocks(std::size_t p, std::uint32_t pivot) {
        std::uint64_t next = p + 1 < order_.size() ? order_[p + 1]->docid() : kEndOfList;
        for (std::size_t i = 0; i <= p; ++i)
            if (order_[i]->in_blocks()) next = std::min<std::uint64_t>(next, std::uint64_t{order_[i]->block_last_docid()} + 1);
        if (next <= pivot) next = std::uint64_t{pivot} + 1;  // cannot happen; guards progress
        for (std::size_t i = 0; i <= p; ++i) {
            if (next >= kEndOfList) order_[i]->exhaust();
            else if (order_[i]->docid() < next) order_[i]->next_geq(static_cast<std::uint32_t>(next));
        }
    }

    std::vector<Cursor*>& order_;
    ForwardScorer rescore_;
    double slack_;
    TopKCollector<>& top_;
    const Accept& accept_;
};

/// Exact top-k by Block-Max WAND over `cursors`; `order` is scratch (reserve the query size: no allocation).
template <class Cursor, class Accept>
void block_max_wand(std::span<Cursor> cursors, std::vector<Cursor*>& order, ForwardScorer rescore, double slack, TopKCollector<>& top,
                    const Accept& accept) {
    if (cursors.empty()) return;
    BlockMaxWandQuery<Cursor, Accept>(cursors, order, rescore, slack, top, accept).run();
}

}  // namespace sparsedense
