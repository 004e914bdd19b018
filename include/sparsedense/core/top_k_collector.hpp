// sparsedense/core/top_k_collector.hpp
//
// TopKCollector: keeps the k best (id, score) pairs seen so far in a bounded min-heap whose root is the current
// k-th best. threshold() is that root's score once the heap is full (the bar a new hit must clear), which is what
// dynamic pruning (MaxScore, WAND, Seismic's heap factor) reads; would_enter(score) is the cheap test before
// computing anything more. Ordering is ranks_before(): higher score first, ties by smaller id, so the final list
// equals std::partial_sort over the same hits. The heap's storage is reserved once: after the first query a
// reused collector (clear()) allocates nothing. As in PISA, an initial threshold can be given to drop hits below it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"

namespace sparsedense {

template <class Id = std::uint32_t, class Score = float>
class TopKCollector {
public:
    using result_type = SearchResult<Id, Score>;
    /// Hits reserved up front; a larger k (up to SIZE_MAX, "keep everything") grows the heap as hits arrive, and a
    /// reused collector keeps that capacity, so it still allocates nothing after the first query.
    static constexpr std::size_t kMaxReserve = 4096;

    explicit TopKCollector(std::size_t k, Score initial_threshold = std::numeric_limits<Score>::lowest())
        : k_(k), initial_threshold_(initial_threshold) {
        if (k == 0) raise(ErrorKind::invalid_argument, "top-k collector needs k > 0");
        heap_.reserve(std::min(k, kMaxReserve));
    }

    /// Empties the collector (keeps capacity). Optionally changes k.
    void clear() noexcept { heap_.clear(); }
    void reset(std::size_t k) {
        if (k == 0) raise(ErrorKind::invalid_argument, "top-k collector needs k > 0");
        k_ = k;
        heap_.clear();
        heap_.reserve(std::min(k, kMaxReserve));
    }

    [[nodiscard]] std::size_t k() const noexcept { return k_; }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    [[nodiscard]] bool full() const noexcept { return heap_.size() == k_; }
    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }

    /// Score a new hit must reach to be considered: the k-th best when full, else the initial threshold.
    [[nodiscard]] Score threshold() const noexcept { return full() ? heap_.front().score : initial_threshold_; }

    /// Could a hit with this score enter? (Conservative for ties: equal score may still enter on a smaller id.)
    [[nodiscard]] bool would_enter(Score score) const noexcept {
        return full() ? score >= heap_.front().score : score >= initial_threshold_;
    }

    /// Offers a hit; returns true when it was kept.
    bool push(Id id, Score score) {
        const result_type hit{id, score};
        if (!full()) {
            if (score < initial_threshold_) return false;
            heap_.push_back(hit);
            std::push_heap(heap_.begin(), heap_.end(), RanksBefore{});
            return true;
        }
        // heap_.front() is the worst kept hit (the heap is ordered by "ranks before" => max-heap of rank = worst at top).
        if (!ranks_before(hit, heap_.front())) return false;
        std::pop_heap(heap_.begin(), heap_.end(), RanksBefore{});
        heap_.back() = hit;
        std::push_heap(heap_.begin(), heap_.end(), RanksBefore{});
        return true;
    }

    /// The kept hits, unordered (heap order).
    [[nodiscard]] std::span<const result_type> unordered() const noexcept { return heap_; }

    /// Sorts the kept hits best-first in place and returns them; the collector must be clear()ed before reuse.
    std::span<const result_type> finalize() {
        std::sort_heap(heap_.begin(), heap_.end(), RanksBefore{});
        return heap_;
    }

    /// Best-first copy of the kept hits (leaves the collector intact).
    [[nodiscard]] std::vector<result_type> sorted() const {
        std::vector<result_type> out(heap_.begin(), heap_.end());
        std::sort(out.begin(), out.end(), RanksBefore{});
        return out;
    }

private:
    std::size_t k_;
    Score initial_threshold_;
    std::vector<result_type> heap_;
};

}  // namespace sparsedense
