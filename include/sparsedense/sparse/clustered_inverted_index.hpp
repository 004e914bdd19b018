// sparsedense/sparse/clustered_inverted_index.hpp
//
// ClusteredInvertedIndex: approximate top-k retrieval over learned-sparse vectors in the manner of Seismic
// (Bruch, Nardini, Rulli, Venturini, "Efficient Inverted Indexes for Approximate Retrieval over Learned Sparse
// Representations", SIGIR 2024), with the optional k-NN graph refinement of their CIKM 2024 follow-up.
//
// Idea. Learned-sparse vectors concentrate their mass on few terms, so (1) keeping only each term's `lambda`
// largest postings (static pruning) loses little, and (2) the documents of one posting list can be grouped into
// blocks of similar documents, each summarized by a small vector (coordinate-wise maximum of its documents,
// trimmed to the coordinates holding `alpha` of its L1 mass, 8-bit quantized). A query visits the lists of its
// `query_cut` largest terms, scores all block summaries of a list in one pass, and opens a block only when its
// summary score is at least `heap_factor` x the current k-th best score; documents of opened blocks are scored
// exactly from a compact forward index (compact_forward_index.hpp) whose location is stored in the posting itself
// and whose records are prefetched before scoring. Each document is scored at most once per query (a per-thread
// visited bitset).
//
// Build: static pruning (fixed top-lambda per list, or a global threshold keeping lambda x dimension postings
// overall with a per-list cap of lambda x max_fraction); per list, beta = centroid_fraction x |list| random
// centroids (documents of the list), every document assigned to the centroid of largest inner product computed
// through a small inverted index over the centroids using the document's `doc_cut` heaviest terms; clusters
// smaller than min_cluster_size dissolved into the others; postings reordered block by block. Lists are
// independent: built in parallel.
//
// Summaries are stored block after block (ascending component ids, u16 when the vocabulary fits, and u8 codes), so
// scoring all blocks of a list is one sequential read against the dense query. Search opens blocks best-first across
// the visited lists and scores their documents through a short prefetch queue (see search_into). Document ids are
// u32 (up to 2^32 - 1 documents), term ids u32 (no vocabulary limit; u16 storage when the vocabulary fits).
// Knobs and their effect: see docs/sparse.md. search_exact() answers exactly from the forward index (exact for
// f32 values, exact w.r.t. the stored f16/u8 weights otherwise).
#pragma once

#include "sparsedense/simd/detail/target_region.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/sparse/compact_forward_index.hpp"
#include "sparsedense/sparse/detail/file_checks.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/array_store.hpp"
#include "sparsedense/sparse/detail/transpose.hpp"

namespace sparsedense {

/// How posting lists are pruned before clustering.
enum class PruningStrategy : std::uint8_t {
    fixed_size = 0,        ///< keep each list's `lambda` largest postings
    global_threshold = 1,  ///< keep the lambda x dimension largest postings overall, at most lambda x max_fraction per list
};

struct ClusteredInvertedIndexBuildParams {
    PruningStrategy pruning = PruningStrategy::fixed_size;
    std::size_t lambda = 500;                             ///< postings kept per list (fixed) / average (global)
    double max_fraction = 1.5;                            ///< global_threshold: per-list cap = lambda x max_fraction
    double centroid_fraction = 0.3;                       ///< beta = centroid_fraction x list length blocks per list
    double alpha = 0.5;                                   ///< summary keeps the largest coordinates holding alpha of its L1 mass
    std::size_t summary_max_terms = 0;                    ///< and at most this many (0 = no cap; bounds memory on flat data)
    std::size_t min_cluster_size = 2;                     ///< smaller clusters are merged into the others
    std::size_t doc_cut = 15;                             ///< heaviest document terms used to pick a centroid
    WeightPrecision forward_values = WeightPrecision::f16;  ///< forward index precision
    std::size_t knn = 0;                                  ///< neighbours per document in the k-NN graph (0 = no graph)
    std::size_t threads = 0;                              ///< build workers, 0 = all cores
    std::uint64_t seed = 42;                              ///< centroid sampling
};

/// Order in which the blocks of the visited lists are considered.
enum class BlockTraversal : std::uint8_t {
    list_by_list = 0,       ///< Seismic's order: list after list, blocks in stored order
    first_list_sorted = 1,  ///< as list_by_list, but the first (heaviest-term) list best-summary-first
    best_first = 2,         ///< all blocks of all visited lists by decreasing summary score; stops at the first that fails
};

/// Work counters of one search (optional output; see ClusteredInvertedIndexSearchParams::statistics).
struct ClusteredSearchStatistics {
    std::uint64_t lists = 0;             ///< posting lists visited
    std::uint64_t blocks_considered = 0; ///< block summaries scored
    std::uint64_t summary_entries = 0;   ///< summary coordinates read (all entries of the visited lists)
    std::uint64_t blocks_opened = 0;     ///< blocks whose documents were scored
    std::uint64_t documents_scored = 0;  ///< exact document evaluations (each document at most once)
};

struct ClusteredInvertedIndexSearchParams {
    std::size_t query_cut = 8;     ///< query terms (largest weights) whose lists are visited
    float heap_factor = 0.8f;      ///< open a block when summary score >= heap_factor x k-th best (smaller = more recall)
    std::size_t knn = 0;           ///< graph neighbours of each final hit to score (needs a graph built with knn > 0)
    BlockTraversal traversal = BlockTraversal::best_first;  ///< see BlockTraversal
    ClusteredSearchStatistics* statistics = nullptr;        ///< if set, this search's counters are added to it
};

namespace detail {

struct ClusteredScratch {
    std::vector<float> qdense;
    std::vector<std::uint64_t> visited;
    std::vector<std::uint32_t> visited_docs;
    std::vector<float> block_scores;
    std::vector<std::uint64_t> block_order;  // (order-preserving score bits << 32) | block position
    /// A document of an opened block whose record is being prefetched.
    struct Pending {
        std::uint32_t doc;
        std::uint64_t location;
    };
    static constexpr std::size_t pipeline_depth = 12;  // documents in flight (8-16 measure alike on splade-beir)
    std::vector<Pending> pending = std::vector<Pending>(pipeline_depth);
    std::vector<std::uint32_t> selected;
    std::vector<std::uint32_t> final_ids;
    TopKCollector<> top{1};

    /// `max_blocks`: blocks of all visited lists together.
    void ensure(std::size_t dimension, std::size_t docs, std::size_t max_blocks, std::size_t query_terms, std::size_t visit_hint) {
        if (qdense.size() < dimension) qdense.resize(dimension, 0.0f);
        if (visited.size() < (docs + 63) / 64) visited.resize((docs + 63) / 64, 0);
        if (block_scores.size() < max_blocks) block_scores.resize(max_blocks);
        if (block_order.size() < max_blocks) block_order.resize(max_blocks);
        if (selected.capacity() < query_terms) selected.reserve(query_terms);
        if (visited_docs.capacity() < visit_hint) visited_docs.reserve(visit_hint);
    }
};

inline ClusteredScratch& clustered_scratch() {
    thread_local ClusteredScratch scratch;
    return scratch;
}

}  // namespace detail

class ClusteredInvertedIndex {
public:
    ClusteredInvertedIndex() = default;

    /// Builds the index over the rows of `docs` (document id = row number); validates input and parameters.
    static ClusteredInvertedIndex build(CsrMatrixView<float> docs, ClusteredInvertedIndexBuildParams params = {});

    /// Approximate top-k, best first (ties by smaller id). Scores are exact inner products with the stored
    /// (forward-index) weights. Throws Error for k == 0, an invalid query or invalid parameters.
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> query, std::size_t k, ClusteredInvertedIndexSearchParams params = {}) const {
        SearchResults<> out;
        search_into(query, k, out, params);
        return out;
    }
    void search_into(SparseVectorView<float> query, std::size_t k, SearchResults<>& out, ClusteredInvertedIndexSearchParams params = {}) const;

    /// Exact top-k by a scan of the forward index (documents sharing a term with the query).
    [[nodiscard]] SearchResults<> search_exact(SparseVectorView<float> query, std::size_t k) const;

    [[nodiscard]] std::vector<SearchResults<>> search_batch(CsrMatrixView<float> queries, std::size_t k, ClusteredInvertedIndexSearchParams params = {},
                                                            std::size_t threads = 0) const;

    /// Inner product of the query with the stored document (exact for f32 forward values).
    [[nodiscard]] float score(SparseVectorView<float> query, std::uint32_t doc) const;

    [[nodiscard]] std::size_t size() const noexcept { return docs_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] std::size_t posting_count() const noexcept { return post_doc_.size(); }
    [[nodiscard]] std::size_t block_count() const noexcept { return block_step_.size(); }
    [[nodiscard]] std::size_t summary_entries() const noexcept { return entry_code_.size(); }
    [[nodiscard]] std::size_t knn_degree() const noexcept { return knn_degree_; }
    [[nodiscard]] const ClusteredInvertedIndexBuildParams& build_params() const noexcept { return params_; }
    [[nodiscard]] const CompactForwardIndex& forward_index() const noexcept { return forward_; }
    [[nodiscard]] SparseVector<float> document(std::uint32_t doc) const {
        validate_id(doc, docs_, "document id");
        return forward_.document(doc);
    }
    /// Neighbours of a document in the k-NN graph (empty without a graph).
    [[nodiscard]] std::span<const std::uint32_t> neighbours(std::uint32_t doc) const {
        validate_id(doc, docs_, "document id");
        if (knn_degree_ == 0) return {};
        return knn_.subspan(std::size_t{doc} * knn_degree_, knn_degree_);
    }
    /// Bytes of all arrays: forward index, postings, summaries, graph.
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

    void save(const std::string& path) const;
    static ClusteredInvertedIndex load(const std::string& path);

private:
    void check_query(SparseVectorView<float> query, std::size_t k) const;
    static void check_search_params(const ClusteredInvertedIndexSearchParams& params);
    /// Summary scores of every block of the (non-empty) lists of `terms`, list after list into `out`; returns the
    /// summary entries multiplied.
    /// Summary scores of every block of `term`'s list into out[0, blocks); returns the summary entries read.
    std::size_t score_summaries(std::uint32_t term, const float* qdense, float* out) const noexcept;
    void build_knn(std::size_t degree, std::size_t threads);

    friend struct ClusteredIndexFile;

    std::shared_ptr<detail::ArrayStore> store_ = std::make_shared<detail::ArrayStore>();
    ClusteredInvertedIndexBuildParams params_{};
    std::size_t docs_ = 0, dim_ = 0, max_blocks_ = 1, max_list_ = 0, knn_degree_ = 0;
    CompactForwardIndex forward_;
    std::span<const std::uint64_t> list_block_begin_;   // dim + 1
    std::span<const std::uint64_t> block_post_begin_;   // blocks + 1
    std::span<const std::uint32_t> post_doc_;
    std::span<const std::uint64_t> post_loc_;
    std::span<const float> block_step_;                 // summary dequantization step per block
    std::span<const std::uint64_t> block_entry_begin_;  // blocks + 1: each block's summary entries
    std::span<const std::uint16_t> entry_comp16_;       // summary component ids when dimension <= 65,536 ...
    std::span<const std::uint32_t> entry_comp32_;       // ... else these (one of the two is empty)
    std::span<const std::uint8_t> entry_code_;          // quantized summary values (x block_step_)
    std::span<const std::uint32_t> knn_;                // docs x knn_degree
};

// ------------------------------------------------------------------------------------------------------------
// Implementation

namespace detail {

/// One list's build output.
struct ClusteredList {
    std::vector<std::uint32_t> docs;           // reordered postings
    std::vector<std::uint64_t> block_bounds;   // block b = [block_bounds[b], block_bounds[b + 1]) local
    std::vector<float> steps;
    std::vector<std::uint64_t> entry_bounds;   // block b's summary = entries [entry_bounds[b], entry_bounds[b + 1]) local
    std::vector<std::uint32_t> entry_comp;     // component ids, ascending within a block
    std::vector<std::uint8_t> entry_code;
};

/// Per-thread build scratch.
struct ClusterScratch {
    std::vector<std::int32_t> head;          // dimension: first centroid-entry of a term, -1 = none
    std::vector<std::uint32_t> head_touched;
    struct Entry {
        std::uint32_t centroid;
        float value;
        std::int32_t next;
    };
    std::vector<Entry> entries;
    std::vector<float> cscore;
    std::vector<std::uint32_t> ctouched;
    std::vector<float> dense;                // dimension: summary max accumulation
    std::vector<std::uint32_t> dense_touched;
    std::vector<std::uint32_t> assign;
    std::vector<std::uint32_t> sizes;
    std::vector<std::uint32_t> perm;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> summary;  // one block's (component, code)

    void ensure(std::size_t dimension) {
        if (head.size() < dimension) head.assign(dimension, -1);
        if (dense.size() < dimension) dense.assign(dimension, 0.0f);
    }
};


}  // namespace detail

inline ClusteredInvertedIndex ClusteredInvertedIndex::build(CsrMatrixView<float> docs, ClusteredInvertedIndexBuildParams params) {
    if (params.lambda == 0) raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: lambda must be > 0");
    if (!(params.centroid_fraction > 0.0 && params.centroid_fraction <= 1.0))
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: centroid_fraction must be in (0, 1], got ", params.centroid_fraction);
    if (!(params.alpha > 0.0 && params.alpha <= 1.0))
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: alpha must be in (0, 1], got ", params.alpha);
    if (!(params.max_fraction >= 1.0) || !std::isfinite(params.max_fraction))
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: max_fraction must be >= 1, got ", params.max_fraction);
    if (params.min_cluster_size == 0) raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: min_cluster_size must be >= 1");
    if (params.doc_cut == 0) raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: doc_cut must be >= 1");
    if (params.forward_values != WeightPrecision::f32 && params.forward_values != WeightPrecision::f16 &&
        params.forward_values != WeightPrecision::u8)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: unknown forward value type");
    if (params.pruning != PruningStrategy::fixed_size && params.pruning != PruningStrategy::global_threshold)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: unknown pruning strategy");
    docs.validate();
    if (docs.rows() >= std::numeric_limits<std::uint32_t>::max())
        raise(ErrorKind::out_of_range, "ClusteredInvertedIndex: ", docs.rows(), " documents exceed the 2^32 - 1 limit");
    std::size_t dim = docs.cols;
    if (dim == 0)
        for (std::uint32_t id : docs.indices) dim = std::max<std::size_t>(dim, std::size_t{id} + 1);

    ClusteredInvertedIndex index;
    index.params_ = params;
    index.docs_ = docs.rows();
    index.dim_ = dim;
    const std::size_t n = docs.rows();
    const std::size_t threads = detail::resolve_threads(params.threads);
    auto& st = *index.store_;

    // Forward index.
    {
        std::vector<std::uint32_t> words;
        std::vector<std::uint64_t> locs;
        (void)CompactForwardIndex::build(docs, dim, params.forward_values, threads, words, locs);
        const auto w = st.adopt(std::move(words));
        const auto l = st.adopt(std::move(locs));
        index.forward_ = CompactForwardIndex::view(w, l, dim, params.forward_values);
    }

    // Full posting lists, then pruning.
    auto lists = detail::transpose_csr(docs, dim, threads);
    std::vector<std::uint64_t> keep_count(dim, 0);
    float global_tau = -std::numeric_limits<float>::infinity();
    std::size_t cap = params.lambda;
    if (params.pruning == PruningStrategy::global_threshold) {
        cap = static_cast<std::size_t>(std::ceil(static_cast<double>(params.lambda) * params.max_fraction));
        const std::uint64_t budget = static_cast<std::uint64_t>(params.lambda) * dim;
        if (budget < lists.weights.size()) {
            std::vector<float> copy(lists.weights);
            std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(budget - 1), copy.end(), std::greater<float>());
            global_tau = copy[budget - 1];
        }
    }
    // Per-list kept postings (doc ids, in doc order after pruning), computed in parallel.
    std::vector<std::vector<std::uint32_t>> kept(dim);
    detail::parallel_for(dim, threads, 256, [&](std::size_t tb, std::size_t te, std::size_t) {
        std::vector<std::uint32_t> idx;
        for (std::size_t t = tb; t < te; ++t) {
            const std::uint64_t b = lists.offsets[t], e = lists.offsets[t + 1];
            idx.clear();
            for (std::uint64_t p = b; p < e; ++p)
                if (lists.weights[p] >= global_tau) idx.push_back(static_cast<std::uint32_t>(p - b));
            if (idx.size() > cap) {
                auto heavier = [&](std::uint32_t x, std::uint32_t y) {
                    const float wx = lists.weights[b + x], wy = lists.weights[b + y];
                    return wx > wy || (wx == wy && x < y);
                };
                std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(cap), idx.end(), heavier);
                idx.resize(cap);
                std::sort(idx.begin(), idx.end());
            }
            auto& out = kept[t];
            out.resize(idx.size());
            for (std::size_t i = 0; i < idx.size(); ++i) out[i] = lists.docs[b + idx[i]];
        }
    });
    lists = {};

    // Heaviest doc_cut terms of every document (for centroid assignment).
    const std::size_t cut = params.doc_cut;
    std::vector<std::uint32_t> top_ids(n * cut);
    std::vector<float> top_vals(n * cut);
    std::vector<std::uint8_t> top_len(n);
    detail::parallel_for(n, threads, 2048, [&](std::size_t b, std::size_t e, std::size_t) {
        std::vector<std::uint32_t> order;
        for (std::size_t d = b; d < e; ++d) {
            const auto row = docs.row(d);
            order.resize(row.size());
            std::iota(order.begin(), order.end(), 0u);
            const std::size_t c = std::min(cut, row.size());
            std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(c), order.end(), [&](std::uint32_t x, std::uint32_t y) {
                return row.values[x] > row.values[y] || (row.values[x] == row.values[y] && x < y);
            });
            for (std::size_t i = 0; i < c; ++i) {
                top_ids[d * cut + i] = row.ids[order[i]];
                top_vals[d * cut + i] = row.values[order[i]];
            }
            top_len[d] = static_cast<std::uint8_t>(std::min<std::size_t>(c, 255));
        }
    });

    // Cluster every list, build its summaries.
    std::vector<detail::ClusteredList> built(dim);
    // big lists first for load balance
    std::vector<std::uint32_t> term_order(dim);
    std::iota(term_order.begin(), term_order.end(), 0u);
    std::stable_sort(term_order.begin(), term_order.end(), [&](std::uint32_t a, std::uint32_t b) { return kept[a].size() > kept[b].size(); });
    std::vector<detail::ClusterScratch> scratch(threads);
    detail::parallel_for(dim, threads, 8, [&](std::size_t tb, std::size_t te, std::size_t worker) {
        auto& s = scratch[worker];
        s.ensure(dim);
        for (std::size_t ti = tb; ti < te; ++ti) {
            const std::uint32_t t = term_order[ti];
            const auto& list = kept[t];
            const std::size_t m = list.size();
            if (m == 0) continue;
            auto& out = built[t];
            std::size_t nc = static_cast<std::size_t>(std::llround(params.centroid_fraction * static_cast<double>(m)));
            nc = std::clamp<std::size_t>(nc, 1, std::min<std::size_t>(m, 65535));
            s.assign.assign(m, 0);
            if (nc > 1) {
                // random distinct centroids (positions in the list)
                std::mt19937_64 rng(params.seed ^ (0x9e3779b97f4a7c15ULL * (std::uint64_t{t} + 1)));
                s.perm.resize(m);
                std::iota(s.perm.begin(), s.perm.end(), 0u);
                for (std::size_t i = 0; i < nc; ++i) {
                    std::uniform_int_distribution<std::size_t> pick(i, m - 1);
                    std::swap(s.perm[i], s.perm[pick(rng)]);
                }
                // small inverted index over the centroids' full vectors
                s.entries.clear();
                s.head_touched.clear();
                for (std::size_t c = 0; c < nc; ++c) {
                    const auto row = docs.row(list[s.perm[c]]);
                    for (std::size_t i = 0; i < row.size(); ++i) {
                        const std::uint32_t term = row.ids[i];
                        if (s.head[term] < 0) s.head_touched.push_back(term);
                        s.entries.push_back({static_cast<std::uint32_t>(c), row.values[i], s.head[term]});
                        s.head[term] = static_cast<std::int32_t>(s.entries.size() - 1);
                    }
                }
                s.cscore.assign(nc, 0.0f);
                s.sizes.assign(nc, 0);
                std::vector<bool> alive(nc, true);
                auto best_centroid = [&](std::uint32_t doc) -> std::uint32_t {
                    s.ctouched.clear();
                    const std::size_t len = top_len[doc];
                    for (std::size_t i = 0; i < len; ++i) {
                        const float v = top_vals[doc * cut + i];
                        for (std::int32_t e = s.head[top_ids[doc * cut + i]]; e >= 0; e = s.entries[static_cast<std::size_t>(e)].next) {
                            const auto& en = s.entries[static_cast<std::size_t>(e)];
                            if (s.cscore[en.centroid] == 0.0f) s.ctouched.push_back(en.centroid);
                            s.cscore[en.centroid] += v * en.value;
                        }
                    }
                    std::uint32_t best = std::numeric_limits<std::uint32_t>::max();
                    float best_score = -std::numeric_limits<float>::infinity();
                    for (std::uint32_t c : s.ctouched) {
                        const float sc = s.cscore[c];
                        s.cscore[c] = 0.0f;
                        if (!alive[c]) continue;
                        if (sc > best_score || (sc == best_score && c < best)) {
                            best_score = sc;
                            best = c;
                        }
                    }
                    if (best == std::numeric_limits<std::uint32_t>::max()) {
                        // no shared heavy term with any live centroid: spread deterministically over live ones
                        std::uint32_t c = static_cast<std::uint32_t>((std::uint64_t{doc} * 0x9e3779b1u) % nc);
                        for (std::size_t tries = 0; tries < nc && !alive[c]; ++tries) c = static_cast<std::uint32_t>((c + 1) % nc);
                        best = c;
                    }
                    return best;
                };
                for (std::size_t i = 0; i < m; ++i) {
                    s.assign[i] = best_centroid(list[i]);
                    ++s.sizes[s.assign[i]];
                }
                if (params.min_cluster_size > 1) {
                    std::size_t live = 0;
                    for (std::size_t c = 0; c < nc; ++c) {
                        alive[c] = s.sizes[c] >= params.min_cluster_size;
                        live += alive[c];
                    }
                    if (live == 0) {
                        std::fill(s.assign.begin(), s.assign.end(), 0u);
                    } else if (live < nc) {
                        for (std::size_t i = 0; i < m; ++i)
                            if (!alive[s.assign[i]]) s.assign[i] = best_centroid(list[i]);
                    }
                }
                for (std::uint32_t term : s.head_touched) s.head[term] = -1;
            }
            // reorder postings by (cluster, doc)
            s.perm.resize(m);
            std::iota(s.perm.begin(), s.perm.end(), 0u);
            std::sort(s.perm.begin(), s.perm.end(), [&](std::uint32_t x, std::uint32_t y) {
                return s.assign[x] < s.assign[y] || (s.assign[x] == s.assign[y] && x < y);
            });
            out.docs.resize(m);
            out.block_bounds.clear();
            for (std::size_t i = 0; i < m; ++i) {
                out.docs[i] = list[s.perm[i]];
                if (i == 0 || s.assign[s.perm[i]] != s.assign[s.perm[i - 1]]) out.block_bounds.push_back(i);
            }
            out.block_bounds.push_back(m);
            const std::size_t nb = out.block_bounds.size() - 1;
            // summaries
            out.entry_bounds.assign(1, 0);
            out.entry_comp.clear();
            out.entry_code.clear();
            out.steps.assign(nb, 0.0f);
            for (std::size_t b = 0; b < nb; ++b) {
                s.dense_touched.clear();
                for (std::uint64_t i = out.block_bounds[b]; i < out.block_bounds[b + 1]; ++i) {
                    const auto row = docs.row(out.docs[i]);
                    for (std::size_t j = 0; j < row.size(); ++j) {
                        const float v = row.values[j];
                        if (v <= 0.0f) continue;
                        float& slot = s.dense[row.ids[j]];
                        if (slot == 0.0f) s.dense_touched.push_back(row.ids[j]);
                        slot = std::max(slot, v);
                    }
                }
                // Energy-preserving trim on the u8 codes: a 256-bucket mass histogram finds the smallest code c such
                // that the coordinates with code >= c hold alpha of the block's L1 mass (linear time, no sort).
                float vmax = 0.0f;
                double mass = 0.0;
                for (std::uint32_t term : s.dense_touched) {
                    vmax = std::max(vmax, s.dense[term]);
                    mass += s.dense[term];
                }
                const float step = vmax > 0.0f ? vmax / 255.0f : 1.0f;
                out.steps[b] = step;
                double hist[256] = {};
                for (std::uint32_t term : s.dense_touched) {
                    const int code = static_cast<int>(std::min(255.0f, std::nearbyint(s.dense[term] / step)));
                    hist[code] += s.dense[term];
                }
                int min_code = 255;
                for (double acc = hist[255]; min_code > 1 && acc < params.alpha * mass;) acc += hist[--min_code];
                s.summary.clear();
                for (std::uint32_t term : s.dense_touched) {
                    const float code = std::min(255.0f, std::nearbyint(s.dense[term] / step));
                    s.dense[term] = 0.0f;
                    if (code < static_cast<float>(min_code) || code <= 0.0f) continue;
                    s.summary.emplace_back(term, static_cast<std::uint8_t>(code));
                }
                if (params.summary_max_terms > 0 && s.summary.size() > params.summary_max_terms) {
                    std::nth_element(s.summary.begin(), s.summary.begin() + static_cast<std::ptrdiff_t>(params.summary_max_terms), s.summary.end(),
                                     [](const auto& x, const auto& y) { return x.second > y.second || (x.second == y.second && x.first < y.first); });
                    s.summary.resize(params.summary_max_terms);
                }
                std::sort(s.summary.begin(), s.summary.end());  // ascending ids: the query lookups walk forward
                for (const auto& [term, code] : s.summary) {
                    out.entry_comp.push_back(term);
                    out.entry_code.push_back(code);
                }
                out.entry_bounds.push_back(out.entry_comp.size());
            }
        }
    });
    kept.clear();
    kept.shrink_to_fit();

    // Concatenate.
    std::vector<std::uint64_t> list_block_begin(dim + 1, 0);
    std::uint64_t total_posts = 0, total_entries = 0;
    for (std::size_t t = 0; t < dim; ++t) {
        const auto& l = built[t];
        const std::size_t nb = l.block_bounds.empty() ? 0 : l.block_bounds.size() - 1;
        list_block_begin[t + 1] = list_block_begin[t] + nb;
        total_posts += l.docs.size();
        total_entries += l.entry_code.size();
        index.max_blocks_ = std::max(index.max_blocks_, nb);
        index.max_list_ = std::max(index.max_list_, l.docs.size());
    }
    const std::size_t nblocks = list_block_begin[dim];
    if (nblocks >= std::numeric_limits<std::uint32_t>::max())
        raise(ErrorKind::out_of_range, "ClusteredInvertedIndex: ", nblocks, " blocks exceed the 2^32 - 1 limit; lower centroid_fraction or lambda");
    std::vector<std::uint64_t> block_post_begin(nblocks + 1, 0), block_entry_begin(nblocks + 1, 0);
    std::vector<std::uint32_t> post_doc(total_posts);
    std::vector<std::uint64_t> post_loc(total_posts);
    std::vector<float> block_step(nblocks);
    const bool narrow_ids = dim <= 65536;
    std::vector<std::uint16_t> entry_comp16(narrow_ids ? total_entries : 0);
    std::vector<std::uint32_t> entry_comp32(narrow_ids ? 0 : total_entries);
    std::vector<std::uint8_t> entry_code(total_entries);
    {
        std::uint64_t pbase = 0, ebase = 0;
        for (std::size_t t = 0; t < dim; ++t) {
            auto& l = built[t];
            const std::uint64_t bb = list_block_begin[t];
            for (std::size_t b = 0; b + 1 < l.block_bounds.size(); ++b) {
                block_post_begin[bb + b] = pbase + l.block_bounds[b];
                block_step[bb + b] = l.steps[b];
                block_entry_begin[bb + b] = ebase + l.entry_bounds[b];
            }
            for (std::size_t i = 0; i < l.docs.size(); ++i) {
                post_doc[pbase + i] = l.docs[i];
                post_loc[pbase + i] = index.forward_.location(l.docs[i]);
            }
            for (std::size_t i = 0; i < l.entry_comp.size(); ++i) {
                if (narrow_ids) entry_comp16[ebase + i] = static_cast<std::uint16_t>(l.entry_comp[i]);
                else entry_comp32[ebase + i] = l.entry_comp[i];
            }
            std::copy(l.entry_code.begin(), l.entry_code.end(), entry_code.begin() + static_cast<std::ptrdiff_t>(ebase));
            pbase += l.docs.size();
            ebase += l.entry_code.size();
            l = {};
        }
        block_post_begin[nblocks] = pbase;
        block_entry_begin[nblocks] = ebase;
    }
    index.list_block_begin_ = st.adopt(std::move(list_block_begin));
    index.block_post_begin_ = st.adopt(std::move(block_post_begin));
    index.post_doc_ = st.adopt(std::move(post_doc));
    index.post_loc_ = st.adopt(std::move(post_loc));
    index.block_step_ = st.adopt(std::move(block_step));
    index.block_entry_begin_ = st.adopt(std::move(block_entry_begin));
    index.entry_comp16_ = st.adopt(std::move(entry_comp16));
    index.entry_comp32_ = st.adopt(std::move(entry_comp32));
    index.entry_code_ = st.adopt(std::move(entry_code));
    if (params.knn > 0) index.build_knn(params.knn, threads);
    return index;
}

inline void ClusteredInvertedIndex::check_search_params(const ClusteredInvertedIndexSearchParams& params) {
    if (params.query_cut == 0) raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex::search: query_cut must be > 0");
    if (!std::isfinite(params.heap_factor) || params.heap_factor < 0.0f)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex::search: heap_factor must be finite and >= 0, got ", params.heap_factor);
    if (params.traversal != BlockTraversal::list_by_list && params.traversal != BlockTraversal::first_list_sorted &&
        params.traversal != BlockTraversal::best_first)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex::search: unknown block traversal");
}

inline void ClusteredInvertedIndex::check_query(SparseVectorView<float> query, std::size_t k) const {
    validate_k(k, "ClusteredInvertedIndex::search");
    query.validate(dim_, -1);
    if (dim_ == 0 && !query.empty()) raise(ErrorKind::out_of_range, "ClusteredInvertedIndex::search: the index is empty (dimension 0)");
}

namespace detail {

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
}  // namespace detail

inline std::size_t ClusteredInvertedIndex::score_summaries(std::uint32_t term, const float* qdense, float* out) const noexcept {
    // Summaries are stored block after block, so a list's summaries are one sequential read; each entry looks up
    // the dense query (an L2-resident array). Measured on splade-beir this beats a component-major layout merged
    // with the query, whose runs are scattered reads that miss every cache (and gathers are slow on Zen 4).
    const std::uint64_t b0 = list_block_begin_[term], nb = list_block_begin_[term + 1] - b0;
    const std::uint64_t* bounds = block_entry_begin_.data() + b0;
    const std::uint8_t* codes = entry_code_.data();
    const float* steps = block_step_.data() + b0;
    for (std::uint64_t b = 0; b < nb; ++b) {
        const std::uint64_t f = bounds[b], n = bounds[b + 1] - f;
        const float dot = entry_comp16_.empty() ? detail::summary_dot(entry_comp32_.data() + f, codes + f, n, qdense)
                                                : detail::summary_dot(entry_comp16_.data() + f, codes + f, n, qdense);
        out[b] = dot * steps[b];
    }
    return static_cast<std::size_t>(bounds[nb] - bounds[0]);
}

inline void ClusteredInvertedIndex::search_into(SparseVectorView<float> query, std::size_t k, SearchResults<>& out,
                                                ClusteredInvertedIndexSearchParams params) const {
    check_query(query, k);
    check_search_params(params);
    out.clear();
    if (docs_ == 0 || query.empty()) return;
    k = std::min(k, docs_);  // k = SIZE_MAX means "every document"; bounds the k-NN candidate count below
    auto& s = detail::clustered_scratch();
    const std::size_t cut = std::min(params.query_cut, query.size());
    s.ensure(dim_, docs_, cut * max_blocks_, query.size(), cut * max_list_ + std::min(params.knn, knn_degree_) * k);
    s.top.reset(k);

    // query terms with the largest weights
    s.selected.clear();
    for (std::size_t i = 0; i < query.size(); ++i) s.selected.push_back(static_cast<std::uint32_t>(i));
    std::partial_sort(s.selected.begin(), s.selected.begin() + static_cast<std::ptrdiff_t>(cut), s.selected.end(),
                      [&](std::uint32_t a, std::uint32_t b) { return query.values[a] > query.values[b] || (query.values[a] == query.values[b] && a < b); });
    s.selected.resize(cut);

    float* qd = s.qdense.data();
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = query.values[i];
    std::uint64_t* visited = s.visited.data();
    s.visited_docs.clear();
    const detail::RecordScorer scorer = forward_.scorer();
    float* bs = s.block_scores.data();
    const float hf = params.heap_factor;
    ClusteredSearchStatistics counters;

    // true the first time a document is met in this search
    auto first_visit = [&](std::uint32_t d) {
        std::uint64_t& word = visited[d >> 6];
        const std::uint64_t bit = std::uint64_t{1} << (d & 63);
        if (word & bit) return false;
        word |= bit;
        s.visited_docs.push_back(d);
        return true;
    };
    auto score_document = [&](std::uint32_t d, std::uint64_t location) {
        ++counters.documents_scored;
        const float sc = scorer(forward_.record(location), CompactForwardIndex::length_of(location), qd);
        if (s.top.would_enter(sc)) s.top.push(d, sc);
    };
    // Summary scores of one list into list_out[0, blocks); returns its block count.
    auto score_list = [&](std::uint32_t term, float* list_out) -> std::uint64_t {
        const std::uint64_t nb = list_block_begin_[term + 1] - list_block_begin_[term];
        if (nb == 0) return 0;
        counters.summary_entries += score_summaries(term, qd, list_out);
        ++counters.lists;
        counters.blocks_considered += nb;
        return nb;
    };

    // Opened blocks feed a queue of documents whose records are being prefetched; a document is scored once
    // `pipeline_depth` later ones have been queued, so about that many record reads are in flight while it is
    // scored: forward-index reads miss every cache level, and overlapping them is what makes scoring fast (on
    // splade-beir it halves the time spent on documents). A block is still opened or skipped on the heap threshold
    // at the time it is reached and all its unvisited documents are scored, as in Seismic; the heap just learns
    // their scores up to pipeline_depth documents later, so a later block may meet a slightly lower threshold.
    auto* queue = s.pending.data();
    std::size_t head = 0, tail = 0;  // queue[head % depth, tail % depth)
    constexpr std::size_t depth = detail::ClusteredScratch::pipeline_depth;
    auto consume = [&]() {
        const auto& item = queue[head++ % depth];
        score_document(item.doc, item.location);
    };
    auto open_block = [&](std::uint64_t global_block) {
        ++counters.blocks_opened;
        for (std::uint64_t p = block_post_begin_[global_block], pe = block_post_begin_[global_block + 1]; p < pe; ++p) {
            const std::uint32_t d = post_doc_[p];
            if (!first_visit(d)) continue;
            // the lines CompactForwardIndex::prefetch(loc) pulls, written out: calling that member here measured 30-40%
            // slower per search on splade-beir (GCC 12, Zen 4) although it inlines; the cause was not found
            const std::uint64_t loc = post_loc_[p];
            const char* rec = reinterpret_cast<const char*>(forward_.record(loc));
            const char* last = rec + 4 * forward_.layout().record_words(CompactForwardIndex::length_of(loc)) - 1;
            for (const char* line = rec; line <= last; line += 64) __builtin_prefetch(line, 0, 3);
            __builtin_prefetch(last, 0, 3);
            if (tail - head == depth) consume();
            queue[tail++ % depth] = {d, loc};
        }
    };
    auto prefetch_postings = [&](std::uint64_t global_block) {
        const std::uint64_t pb = block_post_begin_[global_block], pe = block_post_begin_[global_block + 1];
        for (std::uint64_t p = pb; p < pe; p += 16) __builtin_prefetch(post_doc_.data() + p, 0, 3);
        for (std::uint64_t p = pb; p < pe; p += 8) __builtin_prefetch(post_loc_.data() + p, 0, 3);
    };

    if (params.traversal == BlockTraversal::best_first) {
        // Score the summaries of every visited list, then open blocks by decreasing summary score (a max-heap of
        // packed (score, block) keys: usually only a few of them are popped): the heap of results fills with the
        // best candidates first, and the walk stops at the first block below heap_factor x threshold.
        std::uint64_t* keys = s.block_order.data();
        std::size_t nkeys = 0;
        for (std::uint32_t qi : s.selected) {
            const std::uint32_t term = query.ids[qi];
            const std::uint64_t nb = score_list(term, bs + nkeys), b0 = list_block_begin_[term];
            for (std::uint64_t b = 0; b < nb; ++b, ++nkeys) keys[nkeys] = (std::uint64_t{detail::order_preserving_bits(bs[nkeys])} << 32) | (b0 + b);
        }
        std::make_heap(keys, keys + nkeys);
        while (nkeys > 0) {
            std::pop_heap(keys, keys + nkeys);
            const std::uint64_t key = keys[--nkeys];
            const float score = detail::from_order_preserving_bits(static_cast<std::uint32_t>(key >> 32));
            if (s.top.full() && score < hf * s.top.threshold()) break;  // every later block scores lower
            if (nkeys > 0) prefetch_postings(keys[0] & 0xffffffffu);     // the next block to open
            open_block(key & 0xffffffffu);
        }
    } else {
        bool first = true;
        for (std::uint32_t qi : s.selected) {
            const std::uint32_t term = query.ids[qi];
            const std::uint64_t nb = score_list(term, bs), b0 = list_block_begin_[term];
            if (nb == 0) continue;
            if (first && params.traversal == BlockTraversal::first_list_sorted) {
                std::uint64_t* order = s.block_order.data();
                for (std::uint64_t b = 0; b < nb; ++b) order[b] = b;
                std::sort(order, order + nb, [&](std::uint64_t a, std::uint64_t b) { return bs[a] > bs[b] || (bs[a] == bs[b] && a < b); });
                for (std::uint64_t i = 0; i < nb; ++i) {
                    const std::uint64_t b = order[i];
                    if (s.top.full() && bs[b] < hf * s.top.threshold()) break;  // later blocks score lower
                    open_block(b0 + b);
                }
            } else {
                for (std::uint64_t b = 0; b < nb; ++b) {
                    if (s.top.full() && bs[b] < hf * s.top.threshold()) continue;
                    open_block(b0 + b);
                }
            }
            first = false;
        }
    }
    while (head != tail) consume();

    // k-NN graph refinement: score the neighbours of every hit.
    const std::size_t nk = std::min(params.knn, knn_degree_);
    if (nk > 0) {
        s.final_ids.clear();
        for (const auto& h : s.top.unordered()) s.final_ids.push_back(h.id);
        for (std::uint32_t d0 : s.final_ids) {
            const std::uint32_t* nbrs = knn_.data() + std::size_t{d0} * knn_degree_;
            for (std::size_t j = 0; j < nk; ++j)
                if (nbrs[j] < docs_) forward_.prefetch(forward_.location(nbrs[j]));
            for (std::size_t j = 0; j < nk; ++j)
                if (nbrs[j] < docs_ && first_visit(nbrs[j])) score_document(nbrs[j], forward_.location(nbrs[j]));
        }
    }

    for (std::uint32_t d : s.visited_docs) visited[d >> 6] = 0;
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = 0.0f;
    if (params.statistics) {
        params.statistics->lists += counters.lists;
        params.statistics->blocks_considered += counters.blocks_considered;
        params.statistics->summary_entries += counters.summary_entries;
        params.statistics->blocks_opened += counters.blocks_opened;
        params.statistics->documents_scored += counters.documents_scored;
    }
    const auto hits = s.top.finalize();
    out.assign(hits.begin(), hits.end());
}

inline SearchResults<> ClusteredInvertedIndex::search_exact(SparseVectorView<float> query, std::size_t k) const {
    check_query(query, k);
    TopKCollector<> top(k);
    if (docs_ == 0 || query.empty()) return {};
    // mark query terms; score every document sharing one, summing in ascending term order
    std::vector<float> qd(dim_, 0.0f);
    std::vector<std::uint64_t> in_query((dim_ + 63) / 64, 0);
    for (std::size_t i = 0; i < query.size(); ++i) {
        qd[query.ids[i]] = query.values[i];
        in_query[query.ids[i] >> 6] |= std::uint64_t{1} << (query.ids[i] & 63);
    }
    for (std::uint32_t d = 0; d < docs_; ++d) {
        float sc = 0.0f;
        bool any = false;
        forward_.for_each_term(d, [&](std::uint32_t id, float v) {
            if (in_query[id >> 6] & (std::uint64_t{1} << (id & 63))) {
                sc += qd[id] * v;
                any = true;
            }
        });
        if (any && top.would_enter(sc)) top.push(d, sc);
    }
    return top.sorted();
}

inline float ClusteredInvertedIndex::score(SparseVectorView<float> query, std::uint32_t doc) const {
    validate_id(doc, docs_, "ClusteredInvertedIndex::score: document id");
    query.validate(dim_, -1);
    float sc = 0.0f;
    std::size_t i = 0;
    forward_.for_each_term(doc, [&](std::uint32_t id, float v) {
        while (i < query.size() && query.ids[i] < id) ++i;
        if (i < query.size() && query.ids[i] == id) sc += query.values[i] * v;
    });
    return sc;
}

inline std::vector<SearchResults<>> ClusteredInvertedIndex::search_batch(CsrMatrixView<float> queries, std::size_t k, ClusteredInvertedIndexSearchParams params,
                                                                        std::size_t threads) const {
    validate_k(k, "ClusteredInvertedIndex::search_batch");
    if (queries.cols != 0 && dim_ != 0 && queries.cols != dim_)
        raise(ErrorKind::dimension_mismatch, "ClusteredInvertedIndex::search_batch: queries have dimension ", queries.cols, ", the index ", dim_);
    CsrMatrixView<float> checked = queries;
    checked.cols = dim_;
    checked.validate();
    check_search_params(params);
    std::vector<SearchResults<>> out(queries.rows());
    detail::parallel_for(queries.rows(), threads, 16, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params);
    });
    return out;
}

inline void ClusteredInvertedIndex::build_knn(std::size_t degree, std::size_t threads) {
    std::vector<std::uint32_t> graph(docs_ * degree, std::numeric_limits<std::uint32_t>::max());
    ClusteredInvertedIndexSearchParams sp;  // a document as query: its heaviest terms find its neighbours cheaply
    sp.query_cut = 6;
    sp.heap_factor = 0.9f;
    detail::parallel_for(docs_, threads, 64, [&](std::size_t b, std::size_t e, std::size_t) {
        SearchResults<> hits;
        for (std::size_t d = b; d < e; ++d) {
            const auto v = forward_.document(static_cast<std::uint32_t>(d));
            if (v.ids.empty()) continue;
            search_into(v.view(), degree + 1, hits, sp);
            std::size_t j = 0;
            for (const auto& h : hits)
                if (h.id != d && j < degree) graph[d * degree + j++] = h.id;
        }
    });
    knn_degree_ = degree;
    knn_ = store_->adopt(std::move(graph));
}

inline std::size_t ClusteredInvertedIndex::memory_bytes() const noexcept {
    return forward_.memory_bytes() + list_block_begin_.size_bytes() + block_post_begin_.size_bytes() + post_doc_.size_bytes() +
           post_loc_.size_bytes() + block_step_.size_bytes() + block_entry_begin_.size_bytes() + entry_comp16_.size_bytes() +
           entry_comp32_.size_bytes() + entry_code_.size_bytes() + knn_.size_bytes();
}


// ------------------------------------------------------------------------------------------------------------
// File format (kind "ClusteredIndex", version 2), sections of io/binary_format.hpp:
//   meta              {u64 documents, dimension, knn degree, forward value type, pruning, lambda, min cluster size,
//                      doc_cut, seed, summary_max_terms; f64 max_fraction, centroid_fraction, alpha}
//   fwd_words u32[]   fwd_locs u64[docs]                      (compact forward index)
//   list_blocks u64[dim + 1]  block_posts u64[blocks + 1]  post_doc u32[postings]  post_loc u64[postings]
//   block_step f32[blocks]  block_entries u64[blocks + 1]  entry_comp16 u16[entries] (dimension <= 65,536) or
//   entry_comp32 u32[entries]  entry_code u8[entries]  knn u32[docs x degree]
// Version 1 (component-major summaries) is refused with version_mismatch: rebuild the index.
// load() maps the file and checks every offset and id against the arrays it indexes before searching can touch
// them, so a damaged file is an Error (corrupt_file / version_mismatch / io), never a crash.

namespace detail {
struct ClusteredIndexMeta {
    std::uint64_t docs, dim, knn_degree, forward_values, pruning, lambda, min_cluster_size, doc_cut, seed, summary_max_terms;
    double max_fraction, centroid_fraction, alpha;
};
inline constexpr std::uint32_t clustered_index_format_version = 2;

}  // namespace detail

inline void ClusteredInvertedIndex::save(const std::string& path) const {
    io::SectionWriter w("ClusteredIndex", detail::clustered_index_format_version);
    detail::ClusteredIndexMeta meta{};
    meta.docs = docs_;
    meta.dim = dim_;
    meta.knn_degree = knn_degree_;
    meta.forward_values = static_cast<std::uint64_t>(params_.forward_values);
    meta.pruning = static_cast<std::uint64_t>(params_.pruning);
    meta.lambda = params_.lambda;
    meta.min_cluster_size = params_.min_cluster_size;
    meta.doc_cut = params_.doc_cut;
    meta.seed = params_.seed;
    meta.summary_max_terms = params_.summary_max_terms;
    meta.max_fraction = params_.max_fraction;
    meta.centroid_fraction = params_.centroid_fraction;
    meta.alpha = params_.alpha;
    w.add_value("meta", meta);
    w.add("fwd_words", forward_.words());
    w.add("fwd_locs", forward_.locations());
    w.add("list_blocks", list_block_begin_);
    w.add("block_posts", block_post_begin_);
    w.add("post_doc", post_doc_);
    w.add("post_loc", post_loc_);
    w.add("block_step", block_step_);
    w.add("block_entries", block_entry_begin_);
    if (dim_ <= 65536) w.add("entry_comp16", entry_comp16_);
    else w.add("entry_comp32", entry_comp32_);
    w.add("entry_code", entry_code_);
    w.add("knn", knn_);
    w.write(path);
}

inline ClusteredInvertedIndex ClusteredInvertedIndex::load(const std::string& path) {
    const io::SectionReader r(path, "ClusteredIndex", detail::clustered_index_format_version, detail::clustered_index_format_version);
    const auto meta = r.value<detail::ClusteredIndexMeta>("meta");
    if (meta.forward_values > 2) r.fail(ErrorKind::corrupt_file, "unknown forward value type ", meta.forward_values);
    if (meta.pruning > 1) r.fail(ErrorKind::corrupt_file, "unknown pruning strategy ", meta.pruning);
    if (meta.docs >= std::numeric_limits<std::uint32_t>::max() || meta.dim >= (std::uint64_t{1} << 40) || meta.knn_degree > (1u << 20))
        r.fail(ErrorKind::corrupt_file, "implausible sizes: ", meta.docs, " documents, dimension ", meta.dim, ", knn degree ", meta.knn_degree);
    ClusteredInvertedIndex index;
    index.docs_ = static_cast<std::size_t>(meta.docs);
    index.dim_ = static_cast<std::size_t>(meta.dim);
    index.knn_degree_ = static_cast<std::size_t>(meta.knn_degree);
    auto& p = index.params_;
    p.forward_values = static_cast<WeightPrecision>(meta.forward_values);
    p.pruning = static_cast<PruningStrategy>(meta.pruning);
    p.lambda = static_cast<std::size_t>(meta.lambda);
    p.min_cluster_size = static_cast<std::size_t>(meta.min_cluster_size);
    p.doc_cut = static_cast<std::size_t>(meta.doc_cut);
    p.seed = meta.seed;
    p.summary_max_terms = static_cast<std::size_t>(meta.summary_max_terms);
    p.max_fraction = meta.max_fraction;
    p.centroid_fraction = meta.centroid_fraction;
    p.alpha = meta.alpha;
    p.knn = index.knn_degree_;
    const std::size_t n = index.docs_, dim = index.dim_;

    const auto words = r.span<std::uint32_t>("fwd_words");
    const auto locs = r.span<std::uint64_t>("fwd_locs", n);
    index.forward_ = CompactForwardIndex::view(words, locs, dim, p.forward_values);
    const auto& layout = index.forward_.layout();
    auto check_location = [&](std::uint64_t loc, const char* what, std::size_t i) {
        const std::uint64_t off = loc >> detail::forward_len_bits;
        const std::uint64_t need = layout.record_words(static_cast<std::size_t>(loc & detail::forward_len_mask));
        if (off > words.size() || need > words.size() - off) r.fail(ErrorKind::corrupt_file, what, "[", i, "] points outside the forward index");
    };
    for (std::size_t d = 0; d < n; ++d) {
        check_location(locs[d], "fwd_locs", d);
        // term ids of every record must be inside the vocabulary (they index the dense query)
        index.forward_.for_each_term(static_cast<std::uint32_t>(d), [&](std::uint32_t id, float) {
            if (id >= dim) r.fail(ErrorKind::corrupt_file, "document ", d, " has term id ", id, " >= dimension ", dim);
        });
    }
    index.list_block_begin_ = r.span<std::uint64_t>("list_blocks", dim + 1);
    const std::size_t nblocks = dim ? static_cast<std::size_t>(index.list_block_begin_.back()) : 0;
    index.block_post_begin_ = r.span<std::uint64_t>("block_posts", nblocks + 1);
    index.post_doc_ = r.span<std::uint32_t>("post_doc");
    const std::size_t nposts = index.post_doc_.size();
    index.post_loc_ = r.span<std::uint64_t>("post_loc", nposts);
    index.block_step_ = r.span<float>("block_step", nblocks);
    index.block_entry_begin_ = r.span<std::uint64_t>("block_entries", nblocks + 1);
    index.entry_code_ = r.span<std::uint8_t>("entry_code");
    const std::size_t nentries = index.entry_code_.size();
    if (dim <= 65536) index.entry_comp16_ = r.span<std::uint16_t>("entry_comp16", nentries);
    else index.entry_comp32_ = r.span<std::uint32_t>("entry_comp32", nentries);
    index.knn_ = r.span<std::uint32_t>("knn", n * index.knn_degree_);

    if (dim > 0) {
        detail::check_offsets(r, index.list_block_begin_, nblocks, "list_blocks");
        detail::check_offsets(r, index.block_post_begin_, nposts, "block_posts");
        detail::check_offsets(r, index.block_entry_begin_, nentries, "block_entries");
    } else if (nposts || nentries) {
        r.fail(ErrorKind::corrupt_file, "postings in an index of dimension 0");
    }
    for (std::size_t i = 0; i < nposts; ++i) {
        if (index.post_doc_[i] >= n) r.fail(ErrorKind::corrupt_file, "post_doc[", i, "] is out of range");
        if (index.post_loc_[i] != locs[index.post_doc_[i]]) r.fail(ErrorKind::corrupt_file, "post_loc[", i, "] does not match its document");
    }
    index.max_blocks_ = 1;
    index.max_list_ = 0;
    for (std::size_t t = 0; t < dim; ++t) {
        const std::uint64_t b0 = index.list_block_begin_[t], nb = index.list_block_begin_[t + 1] - b0;
        if (nb > 65536) r.fail(ErrorKind::corrupt_file, "term ", t, " has ", nb, " blocks (limit 65,536)");
        index.max_blocks_ = std::max<std::size_t>(index.max_blocks_, nb);
        index.max_list_ = std::max<std::size_t>(index.max_list_, index.block_post_begin_[b0 + nb] - index.block_post_begin_[b0]);
    }
    // every summary component indexes the dense query
    for (std::size_t e = 0; e < nentries; ++e) {
        const std::uint32_t c = index.entry_comp16_.empty() ? index.entry_comp32_[e] : index.entry_comp16_[e];
        if (c >= dim) r.fail(ErrorKind::corrupt_file, "summary entry ", e, " has component ", c, " >= dimension ", dim);
    }
    index.store_->keep(r.file());
    return index;
}

}  // namespace sparsedense
