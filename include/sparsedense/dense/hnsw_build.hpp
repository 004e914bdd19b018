// sparsedense/dense/hnsw_build.hpp
//
// HnswInserter: insertion into an HNSW graph (Malkov & Yashunin, TPAMI 2018, Algorithm 1) with the paper's
// neighbour-selection heuristic (Algorithm 4), and the repair of a reused (formerly deleted) slot as hnswlib's
// replace-deleted update does (updatePoint + repairConnectionsForUpdate).
//
//   insert(id)     descend greedily from the entry point to the node's level, then on each layer down to 0 search
//                  with ef_construction, keep M diverse neighbours (a candidate is dropped when it is closer to an
//                  already kept neighbour than to the new node: the heuristic keeps edges in every direction and
//                  across clusters) and link both ways; a neighbour whose list is full re-selects its list with the
//                  same heuristic. Node levels are drawn before insertion (the caller's seeded generator), so one
//                  thread inserting in id order builds the same graph every time.
//   reconnect(id)  a slot whose vector was replaced: a former neighbour linking to it keeps the link when the new
//                  vector is still among its neighbours' distances, else swaps it for its closest 2-hop node
//                  (hnswlib re-selects those lists wholesale, which lowered recall here; see reselect_neighbourhood),
//                  then the node gets fresh links (up to the layer's full degree) from a search excluding itself.
// Threads: insert<true> may run on many threads at once; lists are read and written under a striped per-node lock
// (one held at a time), the entry point under one mutex (held through the insertion of a node that raises the top
// level, as hnswlib does). Distances come from the stored payload (PayloadDistance), deleted nodes route but are
// never chosen as neighbours.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "sparsedense/dense/hnsw_graph.hpp"
#include "sparsedense/dense/hnsw_search.hpp"
#include "sparsedense/dense/payload_distance.hpp"
#include "sparsedense/dense/vector_store.hpp"

namespace sparsedense::detail {

/// One construction thread's scratch.
struct HnswBuildScratch {
    HnswWalk walk;
    PayloadDistance query, other;
    std::vector<PayloadDistance> kept;  // prepared distances from the neighbours kept so far (heuristic)
    std::vector<HnswCandidate> sorted, selected, pool;
    std::vector<std::uint32_t> ids, chosen, one_hop, copy;
};

class HnswInserter {
public:
    HnswInserter(HnswGraph& graph, const VectorStore& store, bool l2, std::size_t ef_construction, std::span<const std::uint64_t> deleted)
        : g_(graph), store_(store), l2_(l2), efc_(ef_construction), deleted_(deleted),
          none_deleted_(std::all_of(deleted.begin(), deleted.end(), [](std::uint64_t w) { return w == 0; })) {}

    /// Links node `id` (already appended to the graph with its level, its vector stored) into the graph; `q` is its
    /// vector (normalised for cosine).
    template <bool Locked>
    void insert(std::uint32_t id, const float* q, HnswBuildScratch& s) {
        const std::size_t level = g_.level(id);
        std::unique_lock<std::mutex> top(entry_mutex_);
        const std::uint32_t ep = g_.entry();
        const std::size_t max_level = g_.max_level();
        if (ep == HnswGraph::kNoNode) {
            g_.set_entry(id, level);
            return;
        }
        if (level <= max_level) top.unlock();
        s.query.prepare(store_, q, l2_);
        HnswCandidate cur{s.query(ep), ep};
        for (std::size_t l = max_level; l > level; --l) cur = greedy_closest<Locked>(g_, s.query, cur, l, &locks_, s.copy);
        auto accept = [&](std::uint32_t v) { return !deleted(v); };
        for (std::size_t l = std::min(level, max_level) + 1; l-- > 0;) {
            search_layer<Locked>(g_, s.query, cur, l, efc_, accept, none_deleted_, s.walk, &locks_);
            if (!s.walk.results.empty()) cur = connect<Locked>(id, l, false, s);
        }
        if (level > max_level) g_.set_entry(id, level);
    }

    /// Repairs the graph around slot `id`, whose stored vector was just replaced by `q` (single thread).
    void reconnect(std::uint32_t id, const float* q, HnswBuildScratch& s) {
        const std::size_t level = g_.level(id);
        for (std::size_t l = 0; l <= level; ++l) reselect_neighbourhood(id, l, s);
        const std::uint32_t ep = g_.entry();
        const std::size_t max_level = g_.max_level();
        s.query.prepare(store_, q, l2_);
        HnswCandidate cur{s.query(ep), ep};
        for (std::size_t l = max_level; l > level; --l) cur = greedy_closest<false>(g_, s.query, cur, l, nullptr, s.copy);
        auto accept = [&](std::uint32_t v) { return v != id && !deleted(v); };
        for (std::size_t l = std::min(level, max_level) + 1; l-- > 0;) {
            search_layer<false>(g_, s.query, cur, l, efc_, accept, false, s.walk);
            if (!s.walk.results.empty()) cur = connect<false>(id, l, true, s);
        }
    }

private:
    [[nodiscard]] bool deleted(std::uint32_t id) const noexcept {
        const std::size_t w = id >> 6;
        return w < deleted_.size() && ((deleted_[w] >> (id & 63)) & 1u);
    }

    /// The heuristic (Algorithm 4): from candidates sorted closest first, keep at most m, dropping a candidate that
    /// is closer to a kept neighbour than to the base node. Result in s.selected.
    void select_neighbors(const std::vector<HnswCandidate>& sorted, std::size_t m, HnswBuildScratch& s) {
        s.selected.clear();
        if (sorted.size() <= m) {
            s.selected.assign(sorted.begin(), sorted.end());
            return;
        }
        if (s.kept.size() < m) s.kept.resize(std::max<std::size_t>(m, g_.max_degree(0)));
        for (const HnswCandidate& e : sorted) {
            if (s.selected.size() >= m) break;
            bool good = true;
            for (std::size_t i = 0; i < s.selected.size() && good; ++i) good = !(s.kept[i](e.id) < e.dist);
            if (!good) continue;
            s.kept[s.selected.size()].prepare_row(store_, e.id, l2_);
            s.selected.push_back(e);
        }
    }

    /// Links `id` on `level` to the best of the walk's results (both ways); returns the closest as the next entry.
    template <bool Locked>
    HnswCandidate connect(std::uint32_t id, std::size_t level, bool update, HnswBuildScratch& s) {
        s.sorted.assign(s.walk.results.begin(), s.walk.results.end());
        std::sort(s.sorted.begin(), s.sorted.end(), FartherFirst{});
        const HnswCandidate closest = s.sorted.front();
        // a new node takes M links (its list grows to 2M on layer 0 by later back-links); a repaired slot gets no
        // later insertions, so it takes the full degree at once (with M it kept half the out-degree of its peers:
        // bge-768 recall -0.024 at ef = 10 after 10% re-added)
        select_neighbors(s.sorted, update ? g_.max_degree(level) : g_.m(), s);
        s.ids.clear();
        for (const auto& c : s.selected) s.ids.push_back(c.id);
        {
            std::unique_lock<std::mutex> lock;
            if constexpr (Locked) lock = std::unique_lock<std::mutex>(locks_[id]);
            g_.set_neighbors(id, level, s.ids);
        }
        s.chosen.assign(s.ids.begin(), s.ids.end());  // s.ids is reused below
        for (std::uint32_t n : s.chosen) add_link<Locked>(n, id, level, update, s);
        return closest;
    }

    /// Adds `id` to the list of `n` on `level`; a full list re-selects among its members and `id`.
    template <bool Locked>
    void add_link(std::uint32_t n, std::uint32_t id, std::size_t level, bool update, HnswBuildScratch& s) {
        std::unique_lock<std::mutex> lock;
        if constexpr (Locked) lock = std::unique_lock<std::mutex>(locks_[n]);
        std::uint32_t* b = g_.mutable_block(n, level);
        const std::uint32_t count = b[0];
        if (update && std::find(b + 1, b + 1 + count, id) != b + 1 + count) return;
        if (count < g_.max_degree(level)) {
            b[1 + count] = id;
            b[0] = count + 1;
            return;
        }
        s.other.prepare_row(store_, n, l2_);
        s.pool.clear();
        s.pool.push_back({s.other(id), id});
        for (std::uint32_t j = 1; j <= count; ++j) s.pool.push_back({s.other(b[j]), b[j]});
        std::sort(s.pool.begin(), s.pool.end(), FartherFirst{});
        select_neighbors(s.pool, g_.max_degree(level), s);
        b[0] = static_cast<std::uint32_t>(s.selected.size());
        for (std::size_t j = 0; j < s.selected.size(); ++j) b[1 + j] = s.selected[j].id;
    }

    /// The neighbours' side of a replaced slot. hnswlib's updatePoint re-selects the list of every neighbour of `id`
    /// among the 1- and 2-hop neighbourhood; measured here, that prunes lists (the heuristic over a dense local set
    /// keeps fewer links) and cost 0.024 recall at ef = 10 on bge-768 after 10% re-added. Instead a neighbour `o` that
    /// links to `id` keeps its list when the new vector is no farther than o's farthest neighbour, and otherwise
    /// swaps `id` for the closest live 2-hop node it does not link to yet: degrees stay as built.
    void reselect_neighbourhood(std::uint32_t id, std::size_t level, HnswBuildScratch& s) {
        const auto own = g_.neighbors(id, level);
        s.one_hop.assign(own.begin(), own.end());
        if (s.one_hop.empty()) return;
        s.ids.clear();
        for (std::uint32_t o : s.one_hop) {
            s.ids.push_back(o);
            for (std::uint32_t t : g_.neighbors(o, level)) s.ids.push_back(t);
        }
        std::sort(s.ids.begin(), s.ids.end());
        s.ids.erase(std::unique(s.ids.begin(), s.ids.end()), s.ids.end());
        for (std::uint32_t o : s.one_hop) {
            std::uint32_t* b = g_.mutable_block(o, level);
            std::uint32_t* end = b + 1 + b[0];
            std::uint32_t* at = std::find(b + 1, end, id);
            if (at == end) continue;
            s.other.prepare_row(store_, o, l2_);
            float worst = 0.0f;
            bool first = true;
            for (std::uint32_t* x = b + 1; x != end; ++x) {
                if (*x == id) continue;
                const float d = s.other(*x);
                worst = first ? d : std::max(worst, d);
                first = false;
            }
            if (first || s.other(id) <= worst) continue;
            HnswCandidate best{0.0f, HnswGraph::kNoNode};
            for (std::uint32_t c : s.ids) {
                if (c == o || c == id || deleted(c) || std::find(b + 1, end, c) != end) continue;
                const float d = s.other(c);
                if (best.id == HnswGraph::kNoNode || d < best.dist) best = {d, c};
            }
            if (best.id != HnswGraph::kNoNode) {
                *at = best.id;
            } else {
                *at = end[-1];
                --b[0];
            }
        }
    }

    HnswGraph& g_;
    const VectorStore& store_;
    bool l2_;
    std::size_t efc_;
    std::span<const std::uint64_t> deleted_;
    bool none_deleted_;
    NodeLocks locks_;
    std::mutex entry_mutex_;
};

}  // namespace sparsedense::detail
