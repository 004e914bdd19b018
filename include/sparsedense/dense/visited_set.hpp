// sparsedense/dense/visited_set.hpp
//
// VisitedSet: "was node i seen during this search?" for graph walks, with no clear per query. Each slot holds the
// epoch (query number) that last visited it; starting a query bumps the epoch, so every slot becomes unvisited at
// once. Only when the 8-bit epoch wraps (every 255 queries) are the tags zeroed. This is hnswlib's VisitedList
// (visited_list_pool.h) as one per-thread object: a search costs O(nodes touched), not O(n). Tags are one byte
// (hnswlib: two) so that more of them stay in L2 (331 KB for glove-100's 331k nodes); the zeroing every 255 queries
// costs about n / 255 bytes written per query.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sparsedense::detail {

class VisitedSet {
public:
    /// Starts a new walk over `n` nodes: every node unvisited (grows the tags when n grew).
    void begin(std::size_t n) {
        if (tags_.size() < n) tags_.resize(n, 0);
        if (++epoch_ == 0) {  // wrapped: old tags could collide with the new epoch
            std::fill(tags_.begin(), tags_.end(), std::uint8_t{0});
            epoch_ = 1;
        }
    }
    [[nodiscard]] bool visited(std::uint32_t id) const noexcept { return tags_[id] == epoch_; }
    void mark(std::uint32_t id) noexcept { tags_[id] = epoch_; }
    /// Marks `id` and returns whether it was already visited.
    bool test_and_mark(std::uint32_t id) noexcept {
        const bool seen = tags_[id] == epoch_;
        tags_[id] = epoch_;
        return seen;
    }
    void prefetch(std::uint32_t id) const noexcept { __builtin_prefetch(tags_.data() + id); }

private:
    std::vector<std::uint8_t> tags_;
    std::uint8_t epoch_ = 0;
};

}  // namespace sparsedense::detail
