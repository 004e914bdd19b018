// sparsedense/sparse/clustered_search.hpp
//
// The query side of the clustered index (Seismic, Bruch et al., SIGIR 2024, section 5; the k-NN refinement of
// SeismicWave, CIKM 2024): the index's arrays as a view (ClusteredArrays), the per-thread scratch, the document
// prefetch queue, the block lookahead and the search itself (ClusteredSearch), instantiated once per filter form.
//
// Idea. The query is scattered once into a dense array. The lists of its `query_cut` heaviest terms are visited:
// every block summary of a list is scored in one sequential pass (block_summaries.hpp), and a block is opened only
// when its summary score is at least heap_factor x the current k-th best score. The documents of an opened block are
// scored exactly from the compact forward index, each at most once per query (a visited bitset). Block order
// (BlockTraversal): best_first pops the blocks of all visited lists from one max-heap of packed (score, block) keys
// and stops at the first that fails; list_by_list is Seismic's order. With a k-NN graph, the neighbours of every
// final hit are scored too. A filter is tested before a document costs anything (before it is marked, prefetched,
// scored); when it accepts few documents, scan_accepted() scores the accepted ones exactly instead.
//
// Why a prefetch queue: forward-index reads miss every cache level. Opened blocks feed DocumentPrefetchQueue, whose
// records are prefetched when queued and scored `depth` documents later, so about that many reads are in flight
// while one document is scored (on splade-beir it halves the time spent on documents). A block is still opened or
// skipped on the threshold at the time it is reached, as in Seismic; the heap just learns scores a few documents
// later, so a later block may meet a slightly lower threshold.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/sparse/block_summaries.hpp"
#include "sparsedense/sparse/clustered_index_params.hpp"
#include "sparsedense/sparse/compact_forward_index.hpp"

#if defined(__GNUC__)
#define SPARSEDENSE_CLUSTERED_INLINE [[gnu::always_inline]] inline
#else
#define SPARSEDENSE_CLUSTERED_INLINE inline
#endif

namespace sparsedense::detail {

/// The stored clustered index, as views over its arrays (owned by the index's ArrayStore or the mapped file).
struct ClusteredArrays {
    std::size_t docs = 0, dim = 0, max_blocks = 1, knn_degree = 0;
    CompactForwardIndex forward;
    std::span<const std::uint64_t> list_block_begin;   // dim + 1
    std::span<const std::uint64_t> block_post_begin;   // blocks + 1
    std::span<const std::uint32_t> post_doc;
    std::span<const std::uint64_t> post_loc;           // forward-index location of each posting's document
    std::span<const float> block_step;                 // summary dequantization step per block
    std::span<const std::uint64_t> block_entry_begin;  // blocks + 1: each block's summary entries
    std::span<const std::uint16_t> entry_comp16;       // summary component ids when dimension <= 65,536 ...
    std::span<const std::uint32_t> entry_comp32;       // ... else these (one of the two is empty)
    std::span<const std::uint8_t> entry_code;          // quantized summary values (x block_step)
    std::span<const std::uint32_t> knn;                // docs x knn_degree

    /// Summary scores of every block of `term`'s list into out[0, blocks); returns the summary entries read.
    /// Summaries are stored block after block, so a list's summaries are one sequential read; each entry looks up the
    /// dense query (an L2-resident array). Measured on splade-beir this beats a component-major layout merged with
    /// the query, whose runs are scattered reads that miss every cache (and gathers are slow on Zen 4).
    std::size_t score_summaries(std::uint32_t term, const float* qdense, float* out) const noexcept {
        const std::uint64_t b0 = list_block_begin[term], nb = list_block_begin[term + 1] - b0;
        const std::uint64_t* bounds = block_entry_begin.data() + b0;
        const std::uint8_t* codes = entry_code.data();
        const float* steps = block_step.data() + b0;
        for (std::uint64_t b = 0; b < nb; ++b) {
            const std::uint64_t f = bounds[b], n = bounds[b + 1] - f;
            const float dot = entry_comp16.empty() ? summary_dot(entry_comp32.data() + f, codes + f, n, qdense)
                                                   : summary_dot(entry_comp16.data() + f, codes + f, n, qdense);
            out[b] = dot * steps[b];
        }
        return static_cast<std::size_t>(bounds[nb] - bounds[0]);
    }
};

/// A document of an opened block whose record is being prefetched.
struct PendingDocument {
    std::uint32_t doc;
    std::uint64_t location;
};

/// Per-thread search scratch, grown on demand and reused (no allocation once warm).
struct ClusteredScratch {
    static constexpr std::size_t pipeline_depth = 12;  // documents in flight (8-16 measure alike on splade-beir)
    std::vector<float> qdense;
    std::vector<std::uint64_t> visited;
    std::unique_ptr<std::uint32_t[]> visited_docs;  // the documents marked in `visited` (uninitialized, docs long)
    std::size_t visited_docs_capacity = 0;
    std::vector<float> block_scores;
    std::vector<std::uint64_t> block_order;  // (order-preserving score bits << 32) | block position
    std::vector<PendingDocument> pending = std::vector<PendingDocument>(pipeline_depth);
    std::vector<std::uint32_t> selected;
    std::vector<std::uint32_t> final_ids;
    TopKCollector<> top{1};

    /// `max_blocks`: blocks of all visited lists together.
    void ensure(std::size_t dimension, std::size_t docs, std::size_t max_blocks, std::size_t query_terms) {
        if (qdense.size() < dimension) qdense.resize(dimension, 0.0f);
        if (visited.size() < (docs + 63) / 64) visited.resize((docs + 63) / 64, 0);
        if (visited_docs_capacity < docs) {  // a document is marked at most once per search
            visited_docs.reset(new std::uint32_t[docs]);
            visited_docs_capacity = docs;
        }
        if (block_scores.size() < max_blocks) block_scores.resize(max_blocks);
        if (block_order.size() < max_blocks) block_order.resize(max_blocks);
        if (selected.capacity() < query_terms) selected.reserve(query_terms);
    }
};

inline ClusteredScratch& clustered_scratch() {
    thread_local ClusteredScratch scratch;
    return scratch;
}

/// Bits of a float as an unsigned integer that orders like the float (negative values below positive ones), so a
/// (score, block) pair packs into one u64 key that sorts by score.
inline std::uint32_t order_preserving_bits(float x) noexcept {
    std::uint32_t bits;
    std::memcpy(&bits, &x, 4);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
inline float from_order_preserving_bits(std::uint32_t bits) noexcept {
    bits = (bits & 0x80000000u) ? (bits & 0x7fffffffu) : ~bits;
    float x;
    std::memcpy(&x, &bits, 4);
    return x;
}

/// A ring of ClusteredScratch::pipeline_depth documents whose records are being prefetched: push() queues one (first
/// scoring the oldest when the ring is full), drain() scores the rest. `score(doc, location)` does the scoring.
class DocumentPrefetchQueue {
public:
    static constexpr std::size_t depth = ClusteredScratch::pipeline_depth;
    explicit DocumentPrefetchQueue(PendingDocument* slots) noexcept : slots_(slots) {}

    template <class Score>
    SPARSEDENSE_CLUSTERED_INLINE void push(std::uint32_t doc, std::uint64_t location, Score&& score) {
        if (tail_ - head_ == depth) pop(score);
        slots_[tail_++ % depth] = {doc, location};
    }
    template <class Score>
    SPARSEDENSE_CLUSTERED_INLINE void drain(Score&& score) {
        while (head_ != tail_) pop(score);
    }

private:
    template <class Score>
    SPARSEDENSE_CLUSTERED_INLINE void pop(Score& score) {
        const auto& item = slots_[head_++ % depth];
        score(item.doc, item.location);
    }
    PendingDocument* slots_;
    std::size_t head_ = 0, tail_ = 0;  // slots_[head_ % depth, tail_ % depth)
};

/// The next blocks of the best-first order, popped from the heap ahead of time so that their posting ranges
/// (block_post_begin, prefetched when popped) and then their postings (prefetched `postings_at` blocks ahead) are
/// in cache when the block is reached: otherwise opening a block costs three dependent misses (range, document
/// ids, locations) before its first record can even be prefetched. A block is still opened or rejected on the
/// threshold at the time it is reached, so the results do not change.
class BlockLookahead {
public:
    static constexpr std::size_t depth = 4, postings_at = 2;
    [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
    [[nodiscard]] bool full() const noexcept { return tail_ - head_ == depth; }
    [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }
    void push(std::uint64_t key) noexcept { keys_[tail_++ % depth] = key; }
    std::uint64_t pop() noexcept { return keys_[head_++ % depth]; }
    /// The i-th queued key (0 = the next to pop); i < size().
    [[nodiscard]] std::uint64_t at(std::size_t i) const noexcept { return keys_[(head_ + i) % depth]; }

private:
    std::uint64_t keys_[depth]{};
    std::size_t head_ = 0, tail_ = 0;
};

/// Pulls every cache line of a forward record towards L1 (written out here: calling CompactForwardIndex::prefetch at
/// this spot measured 30-40% slower per search on splade-beir, GCC 12, Zen 4, although it inlines).
SPARSEDENSE_CLUSTERED_INLINE void prefetch_record(const CompactForwardIndex& forward, std::uint64_t loc) noexcept {
    const char* rec = reinterpret_cast<const char*>(forward.record(loc));
    const char* last = rec + 4 * forward.layout().record_words(CompactForwardIndex::length_of(loc)) - 1;
    for (const char* line = rec; line <= last; line += 64) __builtin_prefetch(line, 0, 3);
    __builtin_prefetch(last, 0, 3);
}

/// One search over the clustered index; `Accept` is a filter form of core/id_filter.hpp (AcceptAllIds costs nothing).
/// Results are left in scratch.top; finish() restores the scratch for the next query and adds the counters.
template <class Accept>
class ClusteredSearch {
public:
    ClusteredSearch(const ClusteredArrays& a, ClusteredScratch& s, const ClusteredInvertedIndexSearchParams& p, Accept accept,
                    SparseVectorView<float> query) noexcept
        : a_(a), s_(s), p_(p), accept_(accept), query_(query), qd_(s.qdense.data()), visited_(s.visited.data()),
          scorer_(a.forward.scorer()), queue_(s.pending.data()) {
        for (std::size_t i = 0; i < query.size(); ++i) qd_[query.ids[i]] = query.values[i];
    }

    /// The approximate search: the lists of the selected terms (s.selected), then the k-NN refinement.
    SPARSEDENSE_CLUSTERED_INLINE void traverse() {
        if (p_.traversal == BlockTraversal::best_first) traverse_best_first();
        else traverse_list_by_list();
        queue_.drain(score_fn());
        refine_with_graph();
    }

    /// The exact plan: every accepted document sharing a term with the query, scored from the forward index.
    void scan_accepted(const IdFilter& filter) {
        auto score = [&](std::uint32_t d, std::uint64_t loc) {
            ++counters_.documents_scored;
            const float sc = scorer_(a_.forward.record(loc), CompactForwardIndex::length_of(loc), qd_);
            if (s_.top.would_enter(sc) && (sc != 0.0f || shares_query_term(d))) s_.top.push(d, sc);
        };
        filter.for_each_accepted(a_.docs, [&](std::uint64_t id) {
            const auto d = static_cast<std::uint32_t>(id);
            const std::uint64_t loc = a_.forward.location(d);
            prefetch_record(a_.forward, loc);
            queue_.push(d, loc, score);
        });
        queue_.drain(score);
    }

    /// Clears the query's marks from the scratch and adds this search's counters to p.statistics.
    void finish() noexcept {
        for (std::size_t i = 0; i < visited_count_; ++i) visited_[s_.visited_docs[i] >> 6] = 0;
        for (std::size_t i = 0; i < query_.size(); ++i) qd_[query_.ids[i]] = 0.0f;
        if (auto* st = p_.statistics) {
            st->lists += counters_.lists;
            st->blocks_considered += counters_.blocks_considered;
            st->summary_entries += counters_.summary_entries;
            st->blocks_opened += counters_.blocks_opened;
            st->documents_scored += counters_.documents_scored;
        }
    }

private:
    // true the first time a document is met in this search
    SPARSEDENSE_CLUSTERED_INLINE bool first_visit(std::uint32_t d) {
        std::uint64_t& word = visited_[d >> 6];
        const std::uint64_t bit = std::uint64_t{1} << (d & 63);
        if (word & bit) return false;
        word |= bit;
        s_.visited_docs[visited_count_++] = d;  // plain store: an out-of-line push_back was 10% of a search
        return true;
    }
    SPARSEDENSE_CLUSTERED_INLINE void score_document(std::uint32_t d, std::uint64_t location) {
        ++counters_.documents_scored;
        const float sc = scorer_(a_.forward.record(location), CompactForwardIndex::length_of(location), qd_);
        if (s_.top.would_enter(sc)) s_.top.push(d, sc);
    }
    SPARSEDENSE_CLUSTERED_INLINE auto score_fn() {
        return [this](std::uint32_t d, std::uint64_t loc) { score_document(d, loc); };
    }
    // a document whose score is exactly 0 is returned only when it shares a term with the query (brute force's rule)
    bool shares_query_term(std::uint32_t d) const {
        bool any = false;
        a_.forward.for_each_term(d, [&](std::uint32_t id, float) { any = any || std::binary_search(query_.ids.begin(), query_.ids.end(), id); });
        return any;
    }
    // Summary scores of one list into list_out[0, blocks); returns its block count.
    SPARSEDENSE_CLUSTERED_INLINE std::uint64_t score_list(std::uint32_t term, float* list_out) {
        const std::uint64_t nb = a_.list_block_begin[term + 1] - a_.list_block_begin[term];
        if (nb == 0) return 0;
        counters_.summary_entries += a_.score_summaries(term, qd_, list_out);
        ++counters_.lists;
        counters_.blocks_considered += nb;
        return nb;
    }
    // Queues the accepted, unvisited documents of a block (their records prefetched).
    SPARSEDENSE_CLUSTERED_INLINE void open_block(std::uint64_t global_block) {
        ++counters_.blocks_opened;
        for (std::uint64_t p = a_.block_post_begin[global_block], pe = a_.block_post_begin[global_block + 1]; p < pe; ++p) {
            const std::uint32_t d = a_.post_doc[p];
            if constexpr (!Accept::accepts_all)
                if (!accept_(d)) continue;
            if (!first_visit(d)) continue;
            const std::uint64_t loc = a_.post_loc[p];
            prefetch_record(a_.forward, loc);
            queue_.push(d, loc, score_fn());
        }
    }
    SPARSEDENSE_CLUSTERED_INLINE void prefetch_postings(std::uint64_t global_block) const noexcept {
        const std::uint64_t pb = a_.block_post_begin[global_block], pe = a_.block_post_begin[global_block + 1];
        for (std::uint64_t p = pb; p < pe; p += 16) __builtin_prefetch(a_.post_doc.data() + p, 0, 3);
        for (std::uint64_t p = pb; p < pe; p += 8) __builtin_prefetch(a_.post_loc.data() + p, 0, 3);
    }
    SPARSEDENSE_CLUSTERED_INLINE bool below_bar(float summary_score) const noexcept {
        return s_.top.full() && summary_score < p_.heap_factor * s_.top.threshold();
    }

    // Scores the summaries of every visited list, then opens blocks by decreasing summary score (a max-heap of packed
    // (score, block) keys: usually only a few are popped), so the heap of results fills with the best candidates
    // first; stops at the first block below heap_factor x threshold.
    SPARSEDENSE_CLUSTERED_INLINE void traverse_best_first() {
        float* bs = s_.block_scores.data();
        std::uint64_t* keys = s_.block_order.data();
        std::size_t nkeys = 0;
        for (std::uint32_t qi : s_.selected) {
            const std::uint32_t term = query_.ids[qi];
            const std::uint64_t nb = score_list(term, bs + nkeys), b0 = a_.list_block_begin[term];
            for (std::uint64_t b = 0; b < nb; ++b, ++nkeys) keys[nkeys] = (std::uint64_t{order_preserving_bits(bs[nkeys])} << 32) | (b0 + b);
        }
        std::make_heap(keys, keys + nkeys);
        BlockLookahead ahead;
        auto pop = [&] {
            std::pop_heap(keys, keys + nkeys);
            const std::uint64_t key = keys[--nkeys];
            __builtin_prefetch(a_.block_post_begin.data() + (key & 0xffffffffu), 0, 3);
            ahead.push(key);
        };
        while (nkeys > 0 && !ahead.full()) pop();
        while (!ahead.empty()) {
            const std::uint64_t key = ahead.pop();
            if (below_bar(from_order_preserving_bits(static_cast<std::uint32_t>(key >> 32)))) break;  // every later block scores lower
            if (nkeys > 0) pop();
            if (ahead.size() >= BlockLookahead::postings_at) prefetch_postings(ahead.at(BlockLookahead::postings_at - 1) & 0xffffffffu);
            open_block(key & 0xffffffffu);
        }
    }

    // Seismic's order, list after list; with first_list_sorted the first list's blocks best-summary-first.
    SPARSEDENSE_CLUSTERED_INLINE void traverse_list_by_list() {
        float* bs = s_.block_scores.data();
        bool first = true;
        for (std::uint32_t qi : s_.selected) {
            const std::uint32_t term = query_.ids[qi];
            const std::uint64_t nb = score_list(term, bs), b0 = a_.list_block_begin[term];
            if (nb == 0) continue;
            if (first && p_.traversal == BlockTraversal::first_list_sorted) {
                std::uint64_t* order = s_.block_order.data();
                for (std::uint64_t b = 0; b < nb; ++b) order[b] = b;
                std::sort(order, order + nb, [&](std::uint64_t x, std::uint64_t y) { return bs[x] > bs[y] || (bs[x] == bs[y] && x < y); });
                for (std::uint64_t i = 0; i < nb; ++i) {
                    if (below_bar(bs[order[i]])) break;  // later blocks score lower
                    open_block(b0 + order[i]);
                }
            } else {
                for (std::uint64_t b = 0; b < nb; ++b)
                    if (!below_bar(bs[b])) open_block(b0 + b);
            }
            first = false;
        }
    }

    // k-NN graph refinement (SeismicWave): score the unvisited, accepted neighbours of every hit.
    SPARSEDENSE_CLUSTERED_INLINE void refine_with_graph() {
        const std::size_t nk = std::min(p_.knn, a_.knn_degree);
        if (nk == 0) return;
        s_.final_ids.clear();
        for (const auto& h : s_.top.unordered()) s_.final_ids.push_back(h.id);
        for (std::uint32_t d0 : s_.final_ids) {
            const std::uint32_t* nbrs = a_.knn.data() + std::size_t{d0} * a_.knn_degree;
            for (std::size_t j = 0; j < nk; ++j)
                if (nbrs[j] < a_.docs) a_.forward.prefetch(a_.forward.location(nbrs[j]));
            for (std::size_t j = 0; j < nk; ++j) {
                if (nbrs[j] >= a_.docs) continue;
                if constexpr (!Accept::accepts_all)
                    if (!accept_(nbrs[j])) continue;
                if (first_visit(nbrs[j])) score_document(nbrs[j], a_.forward.location(nbrs[j]));
            }
        }
    }

    const ClusteredArrays& a_;
    ClusteredScratch& s_;
    const ClusteredInvertedIndexSearchParams& p_;
    Accept accept_;
    SparseVectorView<float> query_;
    float* qd_;
    std::uint64_t* visited_;
    std::size_t visited_count_ = 0;  // entries of s_.visited_docs
    simd::ForwardRecordScorer scorer_;
    ClusteredSearchStatistics counters_{};
    DocumentPrefetchQueue queue_;
};

}  // namespace sparsedense::detail
