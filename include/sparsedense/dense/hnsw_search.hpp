// sparsedense/dense/hnsw_search.hpp
//
// The two walks of an HNSW graph (Malkov & Yashunin, TPAMI 2018, Algorithms 2 and 5), shared by construction and
// queries:
//   greedy_closest  on an upper layer, move to the closest neighbour until no neighbour is closer (ef = 1);
//   search_layer    best-first search keeping the ef closest nodes found: pop the closest unexpanded candidate,
//                   score its unvisited neighbours, stop when the closest candidate is farther than the ef-th result.
// Filters and deletions (hnswlib's isIdAllowed / isMarkedDeleted): a node the `accept` test rejects is still
// expanded and still routes the walk, but never enters the results; while results hold fewer than ef nodes the
// walk goes on (so it returns ef accepted nodes when the reachable graph has them).
// Speed: the visited set costs no clear per query (visited_set.hpp); the neighbours of an expanded node are first
// filtered by the visited tags with their rows prefetched, then scored, so their memory loads overlap; the next
// candidate's list block is prefetched while the current neighbours are scored (again when a scored neighbour
// becomes the closest candidate: bge-768 int8 3-6% at ef 30-80, same process A/B; no change on glove-100).
// Measured and not kept (same-process A/B, bge-768 and glove-100 int8): expanding the 2 or 3 closest candidates per
// step (more memory-level parallelism, a DiskANN-style beam) and keeping only ~16-32 prefetched lines in flight:
// recall per microsecond unchanged or worse.
// Without a filter or deletions (every node acceptable), the two heaps become one sorted array of at most ef nodes
// that is both the result set and the candidate queue (the "linear pool" of NGT and glass): a new node is placed by
// binary search and one short move, the next node to expand is the first unexpanded one, marked by a bit of its id.
// It expands the same nodes in the same order as the heaps, so it returns the same results.
// Construction reads lists other threads are writing: with Locked = true every list is copied under its node's
// lock (a striped lock pool, one lock held at a time, as hnswlib's link_list_locks_).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "sparsedense/dense/hnsw_graph.hpp"
#include "sparsedense/dense/visited_set.hpp"

namespace sparsedense::detail {

struct HnswCandidate {
    float dist;
    std::uint32_t id;
};
/// Heap orders: FartherFirst makes a max-heap on distance (top = worst kept result), CloserFirst a min-heap.
struct FartherFirst {
    bool operator()(const HnswCandidate& a, const HnswCandidate& b) const noexcept { return a.dist < b.dist || (a.dist == b.dist && a.id < b.id); }
};
struct CloserFirst {
    bool operator()(const HnswCandidate& a, const HnswCandidate& b) const noexcept { return a.dist > b.dist || (a.dist == b.dist && a.id > b.id); }
};

/// Striped per-node locks for concurrent construction (node i uses lock i mod 2^16).
class NodeLocks {
public:
    NodeLocks() : locks_(new std::mutex[kStripes]) {}
    [[nodiscard]] std::mutex& operator[](std::uint32_t id) const noexcept { return locks_[id & (kStripes - 1)]; }

private:
    static constexpr std::size_t kStripes = std::size_t{1} << 16;
    std::unique_ptr<std::mutex[]> locks_;
};

/// Per-thread state of a walk.
struct HnswWalk {
    VisitedSet visited;
    std::vector<HnswCandidate> candidates;  // min-heap (CloserFirst)
    std::vector<HnswCandidate> results;     // max-heap (FartherFirst), at most ef
    std::vector<std::uint32_t> links, fresh;
};

/// The neighbours of `id` on `level`: read in place, or copied under the node's lock while others write.
template <bool Locked>
inline std::span<const std::uint32_t> read_links(const HnswGraph& g, std::uint32_t id, std::size_t level, const NodeLocks* locks,
                                                 std::vector<std::uint32_t>& copy) {
    if constexpr (!Locked) {
        return g.neighbors(id, level);
    } else {
        std::lock_guard<std::mutex> lock((*locks)[id]);
        const auto n = g.neighbors(id, level);
        copy.assign(n.begin(), n.end());
        return copy;
    }
}

/// Greedy descent on one upper layer from `cur`: the closest node reachable by always moving closer.
template <bool Locked, class Dist>
HnswCandidate greedy_closest(const HnswGraph& g, const Dist& dist, HnswCandidate cur, std::size_t level, const NodeLocks* locks,
                             std::vector<std::uint32_t>& copy) {
    for (bool changed = true; changed;) {
        changed = false;
        const auto links = read_links<Locked>(g, cur.id, level, locks, copy);
        for (std::uint32_t v : links) dist.prefetch(v);
        for (std::uint32_t v : links) {
            const float d = dist(v);
            if (d < cur.dist) {
                cur = {d, v};
                changed = true;
            }
        }
    }
    return cur;
}

/// The unvisited neighbours of `c` on `level` into w.fresh (now marked visited), their rows prefetched.
template <bool Locked, class Dist>
void gather_fresh(const HnswGraph& g, const Dist& dist, std::uint32_t c, std::size_t level, const NodeLocks* locks, HnswWalk& w) {
    const auto links = read_links<Locked>(g, c, level, locks, w.links);
    w.fresh.clear();
    for (std::uint32_t v : links) {
        if (w.visited.test_and_mark(v)) continue;
        w.fresh.push_back(v);
        dist.prefetch(v);
    }
}

/// Ids carry this bit in the linear pool once expanded (graphs hold fewer than 2^31 nodes: HnswGraph::append_nodes).
inline constexpr std::uint32_t kExpandedBit = 0x80000000u;

/// (d, id) orders before c: closer, or as close with a smaller id (CloserFirst's order), ignoring c's expanded bit.
[[nodiscard]] inline bool closer_than(float d, std::uint32_t id, const HnswCandidate& c) noexcept {
    return d < c.dist || (d == c.dist && id < (c.id & ~kExpandedBit));
}

/// Places (d, v) in the sorted pool of at most ef nodes, dropping the farthest when full; returns its slot, or
/// pool.size() when it is not closer than the farthest of a full pool.
inline std::size_t pool_insert(std::vector<HnswCandidate>& pool, std::size_t ef, float d, std::uint32_t v) {
    if (pool.size() >= ef && !closer_than(d, v, pool.back())) return pool.size();
    std::size_t lo = 0, hi = pool.size();
    while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (closer_than(d, v, pool[mid])) hi = mid;
        else lo = mid + 1;
    }
    if (pool.size() >= ef) pool.pop_back();
    pool.insert(pool.begin() + static_cast<std::ptrdiff_t>(lo), HnswCandidate{d, v});
    return lo;
}

/// search_layer for a walk that accepts every node: w.results ends sorted closest first (at most ef nodes).
template <bool Locked, class Dist>
void search_layer_pool(const HnswGraph& g, const Dist& dist, HnswCandidate entry, std::size_t level, std::size_t ef, HnswWalk& w,
                       const NodeLocks* locks) {
    auto& pool = w.results;
    w.visited.begin(g.size());
    pool.clear();
    w.visited.mark(entry.id);
    pool.push_back(entry);
    std::size_t next = 0;  // the first unexpanded slot
    while (next < pool.size()) {
        const std::uint32_t c = pool[next].id;
        pool[next].id |= kExpandedBit;
        while (next < pool.size() && (pool[next].id & kExpandedBit)) ++next;
        gather_fresh<Locked>(g, dist, c, level, locks, w);
        if constexpr (!Locked) {
            if (level == 0 && next < pool.size()) g.prefetch_level0(pool[next].id);
        }
        for (std::uint32_t v : w.fresh) {
            const std::size_t slot = pool_insert(pool, ef, dist(v), v);
            if (slot > next) continue;
            next = slot;  // v is the next node to expand: fetch its block while the others are scored
            if constexpr (!Locked) {
                if (level == 0) g.prefetch_level0(v);
            }
        }
    }
    for (HnswCandidate& c : pool) c.id &= ~kExpandedBit;
}

/// Best-first search of one layer from `entry`; w.results ends as a max-heap of at most ef accepted nodes
/// (sorted closest first when `complete`: search_layer_pool).
/// `accept(id)` decides which nodes may be results; `complete` is true when it accepts every node (then the walk
/// is search_layer_pool's; otherwise it goes on while fewer than ef nodes are accepted).
template <bool Locked, class Dist, class Accept>
void search_layer(const HnswGraph& g, const Dist& dist, HnswCandidate entry, std::size_t level, std::size_t ef, const Accept& accept,
                  bool complete, HnswWalk& w, const NodeLocks* locks = nullptr) {
    if (complete) {
        search_layer_pool<Locked>(g, dist, entry, level, ef, w, locks);
        return;
    }
    w.visited.begin(g.size());
    w.candidates.clear();
    w.results.clear();
    w.visited.mark(entry.id);
    w.candidates.push_back(entry);
    if (accept(entry.id)) w.results.push_back(entry);
    float bound = w.results.empty() ? std::numeric_limits<float>::max() : entry.dist;
    while (!w.candidates.empty()) {
        const HnswCandidate c = w.candidates.front();
        if (c.dist > bound && w.results.size() >= ef) break;
        std::pop_heap(w.candidates.begin(), w.candidates.end(), CloserFirst{});
        w.candidates.pop_back();
        gather_fresh<Locked>(g, dist, c.id, level, locks, w);
        if constexpr (!Locked) {
            if (!w.candidates.empty() && level == 0) g.prefetch_level0(w.candidates.front().id);
        }
        for (std::uint32_t v : w.fresh) {
            const float d = dist(v);
            if (w.results.size() >= ef && d >= bound) continue;
            w.candidates.push_back({d, v});
            std::push_heap(w.candidates.begin(), w.candidates.end(), CloserFirst{});
            if constexpr (!Locked) {  // v is the next node to expand: fetch its block while the others are scored
                if (level == 0 && w.candidates.front().id == v) g.prefetch_level0(v);
            }
            if (!accept(v)) continue;
            w.results.push_back({d, v});
            std::push_heap(w.results.begin(), w.results.end(), FartherFirst{});
            if (w.results.size() > ef) {
                std::pop_heap(w.results.begin(), w.results.end(), FartherFirst{});
                w.results.pop_back();
            }
            if (w.results.size() >= ef) bound = w.results.front().dist;
        }
    }
}

}  // namespace sparsedense::detail
