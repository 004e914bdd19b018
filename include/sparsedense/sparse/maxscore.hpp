// sparsedense/sparse/maxscore.hpp
//
// maxscore(cursors, buffers, rescore, slack, partials_exact, top, accept): exact top-k by MaxScore (Turtle & Flood,
// "Query evaluation: strategies and optimizations", IP&M 1995), in the windowed form Lucene popularized.
//
// Idea. Sort the query terms by their upper bound max_score(). Once the heap holds k documents, the longest prefix
// of that order whose summed bounds cannot reach the k-th score is "non-essential": a document that appears only
// in those lists can never enter the top-k, so their lists need not be scanned. The essential lists are read
// term-at-a-time into a 4,096-document window accumulator (sequential reads, no per-document merge); a document
// of the window becomes a candidate when its partial score plus the non-essential bound can still beat the k-th
// score, and is then scored exactly from the forward index. As the threshold rises, more terms become
// non-essential and their lists are never read again.
//
// Exactness. Bounds are over the true and the stored weights; a partial from stored weights is widened by the
// essential terms' score_error(), and every comparison by score_slack() (float rounding). Candidates are rescored
// from the f32 forward index, so the results are the exact f32 scores at every posting precision. While no term is
// non-essential and the postings are f32 (`partials_exact`), the window partials are the exact scores already.
// A filter (`accept`) is tested before a candidate is rescored or offered to the heap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/sparse/posting_cursor.hpp"
#include "sparsedense/sparse/term_at_a_time.hpp"

namespace sparsedense {

/// Documents per MaxScore window (the window accumulator holds this many slots).
inline constexpr std::size_t kMaxScoreWindow = 4096;

/// Scratch of a MaxScore query, reused across queries (reserve the query size once: no allocation after).
struct MaxScoreBuffers {
    std::vector<std::uint32_t>& by_bound;   // cursor indices by ascending max_score()
    std::vector<std::uint32_t>& essential;  // essential cursor indices, ascending (= ascending term id)
    std::vector<double>& prefix;            // prefix[i] = sum of the i + 1 smallest bounds
    ScoreAccumulator window;                // kMaxScoreWindow slots, all zero between queries
};

template <class Cursor, class Accept>
class MaxScoreQuery {
public:
    MaxScoreQuery(std::span<Cursor> cursors, MaxScoreBuffers buffers, ForwardScorer rescore, double slack, bool partials_exact,
                  std::size_t num_docs, TopKCollector<>& top, const Accept& accept)
        : c_(cursors), b_(buffers), rescore_(rescore), slack_(slack), partials_exact_(partials_exact), num_docs_(num_docs), top_(top),
          accept_(accept) {}

    void run() {
        if (c_.empty()) return;
        order_by_bound();
        rebuild_essential();
        while (non_essential_ < c_.size()) {
            const std::uint32_t start = window_start();
            if (start == kEndOfList) break;
            const std::uint64_t end = std::min<std::uint64_t>(num_docs_, std::uint64_t{start} + kMaxScoreWindow);
            accumulate(start, end);
            collect(start, end);
            raise_threshold();
        }
    }

private:
    void order_by_bound() {
        b_.by_bound.clear();
        for (std::uint32_t i = 0; i < c_.size(); ++i) b_.by_bound.push_back(i);
        std::sort(b_.by_bound.begin(), b_.by_bound.end(), [&](std::uint32_t a, std::uint32_t b) {
            const float ua = c_[a].max_score(), ub = c_[b].max_score();
            return ua < ub || (ua == ub && c_[a].term() < c_[b].term());
        });
        b_.prefix.clear();
        double running = 0.0;
        for (auto i : b_.by_bound) b_.prefix.push_back(running += c_[i].max_score());
    }

    /// Essential = every term past the non-essential prefix, read in ascending term order.
    void rebuild_essential() {
        b_.essential.assign(b_.by_bound.begin() + static_cast<std::ptrdiff_t>(non_essential_), b_.by_bound.end());
        std::sort(b_.essential.begin(), b_.essential.end());
        essential_error_ = 0.0;
        for (auto i : b_.essential) essential_error_ += c_[i].score_error();
        non_essential_bound_ = non_essential_ ? b_.prefix[non_essential_ - 1] : 0.0;
    }

    /// Moves terms into the non-essential prefix while their summed bounds stay below the k-th score.
    void raise_threshold() {
        if (!top_.full()) return;
        const double th = top_.threshold();
        const std::size_t before = non_essential_;
        while (non_essential_ < c_.size() && b_.prefix[non_essential_] + slack_ < th) ++non_essential_;
        if (non_essential_ != before) rebuild_essential();
    }

    [[nodiscard]] std::uint32_t window_start() const {
        std::uint32_t start = kEndOfList;
        for (auto i : b_.essential) start = std::min(start, c_[i].docid());
        return start;
    }

    /// Adds the essential lists' postings of documents start .. end-1 into the window.
    void accumulate(std::uint32_t start, std::uint64_t end) {
        float* acc = b_.window.scores;
        std::uint64_t* bits = b_.window.touched;
        for (auto i : b_.essential) {
            auto& c = c_[i];
            const auto w = c.weights();
            const float q = c.query_weight();
            const std::uint32_t* pd = c.doc_ids();
            std::uint64_t p = c.position();
            for (const std::uint64_t e = c.end(); p < e && pd[p] < end; ++p) {
                const std::uint32_t off = pd[p] - start;
                acc[off] += q * w(p);
                bits[off >> 6] |= std::uint64_t{1} << (off & 63);
            }
            c.set_position(p);
        }
    }

    /// Offers the window's documents: exact partials directly, others rescored when their bound can still win.
    void collect(std::uint32_t start, std::uint64_t end) {
        const bool partials_are_scores = partials_exact_ && non_essential_ == 0;
        const double bound_extra = non_essential_bound_ + essential_error_ + slack_;
        drain_accumulator(b_.window, start, static_cast<std::size_t>(end - start), [&](std::uint32_t d, float partial) {
            if constexpr (!Accept::accepts_all)
                if (!accept_(d)) return;
            if (partials_are_scores) {
                if (top_.would_enter(partial)) top_.push(d, partial);
            } else if (!top_.full() || static_cast<double>(partial) + bound_extra >= static_cast<double>(top_.threshold())) {
                const float score = rescore_(d);
                if (top_.would_enter(score)) top_.push(d, score);
            }
        });
    }

    std::span<Cursor> c_;
    MaxScoreBuffers b_;
    ForwardScorer rescore_;
    double slack_;
    bool partials_exact_;
    std::size_t num_docs_;
    TopKCollector<>& top_;
    const Accept& accept_;
    std::size_t non_essential_ = 0;
    double non_essential_bound_ = 0.0, essential_error_ = 0.0;
};

/// Exact top-k by windowed MaxScore over `cursors` (in ascending term order).
template <class Cursor, class Accept>
void maxscore(std::span<Cursor> cursors, MaxScoreBuffers buffers, ForwardScorer rescore, double slack, bool partials_exact,
              std::size_t num_docs, TopKCollector<>& top, const Accept& accept) {
    MaxScoreQuery<Cursor, Accept>(cursors, buffers, rescore, slack, partials_exact, num_docs, top, accept).run();
}

}  // namespace sparsedense
