// sparsedense/dense/hnsw_index.hpp
//
// HnswIndex: approximate dense search on a hierarchical navigable small-world graph (Malkov & Yashunin, "Efficient
// and robust approximate nearest neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018).
//
// Idea. Every vector is a node; layer 0 links each node to up to 2M near neighbours chosen with the paper's
// diversity heuristic, and a geometrically shrinking sample of nodes also sits on higher layers with M links each. A
// query descends the sparse upper layers greedily to a good entry point, then runs a best-first search on layer 0
// that keeps the `ef` closest nodes seen: the result is the top k of those. Larger ef, more nodes scored, higher
// recall.
//
// Pieces (each in its own header):
//   hnsw_graph.hpp        the layered adjacency: a fixed-degree layer-0 block per node ([count, 2M ids]), levels,
//                         upper-layer blocks; mapped without copying by load()
//   hnsw_search.hpp       the greedy descent and the ef-search (visited set without per-query clear, neighbour
//                         rows prefetched before they are scored)
//   hnsw_build.hpp        insertion with the neighbour heuristic, parallel with per-node locks; slot repair
//   payload_distance.hpp  query-to-row distances on the stored payload through the run-time SIMD dispatch
// Payloads (HnswIndexBuildParams::storage): the walk scores f32, f16, bf16, int8 (per vector / per dimension) or
// int4 (per dimension, half int8's bytes: the walk is bound by the latency of the rows it reads) vectors kept in a
// VectorStore; an int4 index links its graph on the exact copy when it keeps one (link_store()). With a reduced
// payload the index can also keep the f32 vectors (keep_f32): the `rerank` best candidates of the walk are then
// re-scored exactly and results always carry exact scores.
// Scores follow the library: inner product, cosine similarity, negated squared L2; ties go to the smaller id.
//
// Filters (core/id_filter.hpp): a rejected node still routes the walk but never enters the results (the walk
// continues until it holds ef accepted nodes); when the filter accepts at most exact_scan_fraction of the nodes the
// accepted ids are scored exactly instead (the result is then the exact filtered top-k).
// Updates: add() after build; remove(id) marks a node deleted (it keeps routing, it is never returned); a later
// add() reuses deleted slots first (the new vector takes the slot's id) and repairs the graph around them as
// hnswlib's replace-deleted update does, with a degree-preserving patch of the neighbours' lists (hnsw_build.hpp;
// bge-768, 10% removed and re-added: recall within 0.002 of the fresh build at every ef).
// Threads: search / search_into / search_batch / prepared scorers / save may run on any number of threads while other
// threads call add() and remove(): a reader-writer lock per index lets searches share it and gives an update
// exclusive access. remove() holds it for its duration; add() holds it to store the vectors and then again for each
// chunk of kLinkChunk vectors per thread it links, letting waiting searches run in between (a search waits for one
// chunk, not for the whole batch). A search sees each chunk before or after it: a vector of an add in progress that
// is not linked yet is found only by the exact-scan plan. One add() runs at a time, and save() waits for it (a file
// never holds half-linked vectors). After remove(id) returns no search returns id until a later add() reuses the
// slot. The plain accessors (size(), is_deleted(), memory_bytes(), ...) do not lock: read them while no update runs.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/dense/hnsw_build.hpp"
#include "sparsedense/dense/hnsw_graph.hpp"
#include "sparsedense/dense/hnsw_search.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/payload_distance.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

struct HnswIndexBuildParams {
    std::size_t M = 16;                  ///< links per node on the upper layers (2M on layer 0); 2..1024
    std::size_t ef_construction = 200;   ///< candidates kept while inserting (>= 1)
    VectorEncoding storage = VectorEncoding::f32;  ///< payload the walk scores
    bool keep_f32 = true;                ///< with a reduced storage, also keep a copy of the vectors for re-ranking
    /// Encoding of that copy: f32 (exact scores) or f16 / bf16 (half the bytes, scores rounded to 11 / 8 significant
    /// bits; int8 + f16 costs less memory per vector than an f32 payload alone).
    VectorEncoding rerank_storage = VectorEncoding::f32;
    std::size_t threads = 0;             ///< insertion threads (0 = every hardware thread; 1 = deterministic)
    std::uint64_t seed = 42;             ///< seeds the node levels
    ProgressCallback progress{};         ///< build progress (core/progress.hpp); empty = silent
};

struct HnswIndexSearchParams {
    static constexpr std::size_t kAll = static_cast<std::size_t>(-1);
    std::size_t ef = 64;                 ///< closest nodes kept by the layer-0 search (at least k are kept)
    /// With a filter accepting at most this fraction of the nodes, the accepted ids are scored exactly instead of
    /// walking the graph (docs/dense.md: measured crossover).
    double exact_scan_fraction = 0.02;
    /// With a reduced payload: how many of the walk's best candidates are re-scored exactly (from the f32 copy, or
    /// the payload decoded) before the top k is taken; at least k are (kAll = all ef; 0 = the walk's top k, reported
    /// with exact scores). 32: on bge-768 with an int8 payload re-scoring 20 gave the recall of re-scoring all 160.
    /// An int4 payload orders the walk's candidates more coarsely: give it about 64 (tight clusters of normalised
    /// 32-d vectors, ef 200: recall 0.92 re-scoring 32, 0.99 re-scoring 64; glove-100 at 0.95: see docs/dense.md).
    std::size_t rerank = 32;
};

class HnswIndex {
public:
    using query_type = std::span<const float>;
    using batch_type = DenseMatrixView<const float>;
    using id_type = std::uint32_t;
    using build_params_type = HnswIndexBuildParams;
    using search_params_type = HnswIndexSearchParams;
    class PreparedQuery;

    static constexpr std::uint32_t kFormatVersion = 1;

    HnswIndex() = default;
    HnswIndex(std::size_t dimension, Metric metric, const HnswIndexBuildParams& params = {})
        : params_(params), dim_(dimension), metric_(metric), graph_(params.M) {
        check_build_params(dimension, params);
        store_ = VectorStore(dimension, params.storage);
        if (has_exact_copy()) exact_ = VectorStore(dimension, params.rerank_storage);
    }

    /// An index over the rows of `data` (ids 0..rows-1).
    static HnswIndex build(DenseMatrixView<const float> data, Metric metric, const HnswIndexBuildParams& params = {}) {
        HnswIndex index(data.cols, metric, params);
        index.unshared_ = true;  // no other thread can see it yet: link without releasing the lock
        index.add(data);
        index.unshared_ = false;
        index.params_.progress = {};  // the caller's callback is not kept past build()
        return index;
    }

    [[nodiscard]] std::size_t size() const noexcept { return store_.size(); }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] Metric metric() const noexcept { return metric_; }
    [[nodiscard]] const HnswIndexBuildParams& build_params() const noexcept { return params_; }
    [[nodiscard]] const HnswGraph& graph() const noexcept { return graph_; }
    [[nodiscard]] std::size_t deleted_count() const noexcept { return deleted_count_; }
    [[nodiscard]] bool is_deleted(std::uint32_t id) const noexcept {
        return (id >> 6) < deleted_.size() && ((deleted_[id >> 6] >> (id & 63)) & 1u);
    }
    /// Bytes held: payload, f32 copy, graph and deletion bits.
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return store_.memory_bytes() + exact_.memory_bytes() + graph_.memory_bytes() + deleted_.size_bytes();
    }
    [[nodiscard]] double bytes_per_vector() const noexcept { return size() ? static_cast<double>(memory_bytes()) / static_cast<double>(size()) : 0.0; }

    /// Adds vectors and returns their ids: deleted slots are reused first (lowest id first), then ids continue from
    /// size(). Every value is validated first, so a rejected batch leaves the index unchanged. Searches on other
    /// threads wait for one chunk of links at a time (see Threads above); params.progress is called under the lock
    /// (it must not use the index).
    std::vector<std::uint32_t> add(DenseMatrixView<const float> vectors);
    std::vector<std::uint32_t> add(std::span<const float> values) { return add(DenseMatrixView<const float>::from_span(values, dim_)); }
    /// Vectors add() links per insertion thread under one hold of the writer lock (searches wait for at most one chunk).
    static constexpr std::size_t kLinkChunk = 16;

    /// Marks `id` deleted: it is never returned again (it still routes searches) and its slot is reused by a later
    /// add(). Returns false when it was deleted already.
    bool remove(std::uint32_t id) {
        require_configured();
        const std::unique_lock lock(mutex_.m);
        validate_id(id, size(), "HnswIndex::remove: id");
        if (is_deleted(id)) return false;
        deleted_.modify([&](auto& w) { w[id >> 6] |= std::uint64_t{1} << (id & 63); });
        ++deleted_count_;
        return true;
    }

    [[nodiscard]] SearchResults<> search(std::span<const float> query, std::size_t k, const HnswIndexSearchParams& params = {},
                                         const IdFilter& filter = {}) const {
        SearchResults<> out;
        search_into(query, k, out, params, filter);
        return out;
    }
    void search_into(std::span<const float> query, std::size_t k, SearchResults<>& out, const HnswIndexSearchParams& params = {},
                     const IdFilter& filter = {}) const;
    [[nodiscard]] std::vector<SearchResults<>> search_batch(DenseMatrixView<const float> queries, std::size_t k,
                                                            const HnswIndexSearchParams& params = {}, std::size_t threads = 0,
                                                            const IdFilter& filter = {}) const {
        require_configured();
        validate_k(k, "HnswIndex::search_batch");
        check_search_params(params);
        validate_dimension(dim_, queries.cols, "HnswIndex::search_batch: queries");
        for (std::size_t i = 0; i < queries.rows; ++i) validate_finite(std::span<const float>(queries.row(i)), static_cast<long long>(i), "queries");
        std::vector<SearchResults<>> out(queries.rows);
        detail::parallel_for(queries.rows, threads, 8, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params, filter);
        });
        return out;
    }

    [[nodiscard]] PreparedQuery prepare(std::span<const float> query) const;
    [[nodiscard]] float score(std::span<const float> query, std::uint32_t id) const;

    void save(const std::string& path) const;
    static HnswIndex load(const std::string& path);

private:
    struct Scratch {
        detail::HnswWalk walk;
        detail::PayloadDistance dist;
        std::vector<float> query;
        std::vector<SearchResult<>> hits;
        VectorStore::PreparedQuery prepared;  // the query as exact_rows() scores it (int8/int4 codes made once)
        TopKCollector<> top{1};
    };
    static Scratch& scratch() {
        static thread_local Scratch s;
        return s;
    }
    struct FileMeta {
        std::uint64_t dimension, count, m, ef_construction, seed, deleted_count;
        std::uint32_t metric, encoding, has_exact, rerank_encoding;  // rerank_encoding: 0 (f32) in files before it existed
    };

    [[nodiscard]] bool has_exact_copy() const noexcept { return params_.storage != VectorEncoding::f32 && params_.keep_f32; }
    /// The rows construction measures distances on: the exact copy under an int4 payload (4-bit distances pick
    /// worse neighbours), the payload otherwise.
    [[nodiscard]] const VectorStore& link_store() const noexcept {
        return params_.storage == VectorEncoding::int4_per_dimension && has_exact_copy() ? exact_ : store_;
    }
    [[nodiscard]] bool l2() const noexcept { return metric_ == Metric::l2; }

    static void check_build_params(std::size_t dimension, const HnswIndexBuildParams& p) {
        if (dimension == 0) raise(ErrorKind::invalid_argument, "HnswIndex: dimension = 0 must be > 0");
        if (p.M < 2 || p.M > 1024) raise(ErrorKind::invalid_argument, "HnswIndex: M = ", p.M, " must be in [2, 1024]");
        if (p.ef_construction == 0) raise(ErrorKind::invalid_argument, "HnswIndex: ef_construction = 0 must be > 0");
        if (static_cast<std::uint32_t>(p.storage) > kMaxVectorEncoding)
            raise(ErrorKind::invalid_argument, "HnswIndex: storage = ", static_cast<std::uint32_t>(p.storage), " is not a vector encoding");
        if (static_cast<std::uint32_t>(p.rerank_storage) > 2)
            raise(ErrorKind::invalid_argument, "HnswIndex: rerank_storage = ", static_cast<std::uint32_t>(p.rerank_storage),
                  " must be f32 (0), f16 (1) or bf16 (2)");
    }
    static void check_search_params(const HnswIndexSearchParams& p) {
        if (p.ef == 0) raise(ErrorKind::invalid_argument, "HnswIndex: ef = 0 must be > 0");
        if (!(p.exact_scan_fraction >= 0.0 && p.exact_scan_fraction <= 1.0))
            raise(ErrorKind::invalid_argument, "HnswIndex: exact_scan_fraction = ", p.exact_scan_fraction, " must be in [0, 1]");
    }
    void require_configured() const {
        if (dim_ == 0)
            raise(ErrorKind::invalid_argument, "HnswIndex: this index was default-constructed (dimension 0); construct it with "
                                               "HnswIndex(dimension, metric, params), build() or load() one");
    }
    void check_query(std::span<const float> query, std::size_t k, const char* where) const {
        require_configured();
        validate_k(k, where);
        validate_dimension(dim_, query.size(), "HnswIndex: query");
        validate_finite(query, -1, "query");
    }
    const float* prepare_query(std::span<const float> query, std::vector<float>& buffer) const {
        if (metric_ != Metric::cosine) return query.data();
        buffer.assign(query.begin(), query.end());
        detail::normalize_in_place(buffer);
        return buffer.data();
    }

    /// The rows exact scores come from: the exact copy when kept, else the payload (as a FlatIndex over it would).
    [[nodiscard]] const VectorStore& exact_rows() const noexcept { return exact_.size() ? exact_ : store_; }
    /// Exact score of `id` for a query prepared by exact_rows().prepare().
    [[nodiscard]] float exact_score(const VectorStore::PreparedQuery& pq, std::uint32_t id) const noexcept {
        const float d = exact_rows().score(pq, id, l2());
        return l2() ? -d : d;
    }
    /// Level of node `id`: floor(-ln(u) / ln(M)) with u from a hash of (seed, id), so it does not depend on the
    /// order or the thread that inserts the node.
    [[nodiscard]] std::uint8_t draw_level(std::uint64_t id) const noexcept {
        std::uint64_t x = params_.seed + 0x9E3779B97F4A7C15ull * (id + 1);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        x ^= x >> 31;
        const double u = (static_cast<double>(x >> 11) + 1.0) / 9007199254740992.0;  // (0, 1]
        const double level = -std::log(u) / std::log(static_cast<double>(params_.M));
        return static_cast<std::uint8_t>(std::min<double>(level, HnswGraph::kMaxLevel));
    }

    template <class Accept>
    void walk(const float* q, std::size_t k, const HnswIndexSearchParams& p, const Accept& accept, Scratch& s) const;
    void finish(const float* q, std::size_t k, const HnswIndexSearchParams& p, Scratch& s, SearchResults<>& out) const;
    void exact_scan(const float* q, std::size_t k, const IdFilter& filter, Scratch& s, SearchResults<>& out) const;
    void insert_new(DenseMatrixView<const float> rows, std::size_t first, std::unique_lock<std::shared_mutex>& lock);
    void replace_deleted(std::span<const std::uint32_t> ids, DenseMatrixView<const float> rows, std::unique_lock<std::shared_mutex>& lock);
    static void replace_rows(VectorStore& s, std::span<const std::uint32_t> ids, DenseMatrixView<const float> rows);

    HnswIndexBuildParams params_{};
    std::size_t dim_ = 0;
    Metric metric_ = Metric::inner_product;
    VectorStore store_;   // payload the walk scores
    VectorStore exact_;   // f32 copy (keep_f32 with a reduced payload), else empty
    HnswGraph graph_;
    io::Buffer<std::uint64_t> deleted_;  // bit per slot
    std::size_t deleted_count_ = 0;
    bool unshared_ = false;  // inside build(): add() links in one hold of the lock
    /// Searches share `m`, add / remove hold it alone; `adding` lets one add() run at a time (save() waits for it).
    /// A copied or moved index gets locks of its own.
    struct UpdateMutex {
        mutable std::shared_mutex m;
        mutable std::mutex adding;
        mutable std::atomic<std::size_t> waiting{0};  // searches waiting for `m` (add() lets them in between chunks)
        UpdateMutex() = default;
        UpdateMutex(const UpdateMutex&) noexcept {}
        UpdateMutex& operator=(const UpdateMutex&) noexcept { return *this; }
        /// Releases the writer lock until the searches waiting for it have taken it (a writer that relocked at once
        /// would usually win the race against the woken readers), then takes it again.
        void let_searches_in(std::unique_lock<std::shared_mutex>& lock) const {
            lock.unlock();
            for (int i = 0; i < 10000 && waiting.load(std::memory_order_acquire) > 0; ++i) std::this_thread::yield();
            lock.lock();
        }
    } mutex_;
    /// A search's shared hold of the index, counted while it waits.
    class SharedHold {
    public:
        explicit SharedHold(const UpdateMutex& u) : u_(u) {
            u.waiting.fetch_add(1, std::memory_order_acq_rel);
            u.m.lock_shared();
            u.waiting.fetch_sub(1, std::memory_order_acq_rel);
        }
        ~SharedHold() { u_.m.unlock_shared(); }
        SharedHold(const SharedHold&) = delete;
        SharedHold& operator=(const SharedHold&) = delete;

    private:
        const UpdateMutex& u_;
    };
};

// ---- search

template <class Accept>
void HnswIndex::walk(const float* q, std::size_t k, const HnswIndexSearchParams& p, const Accept& accept, Scratch& s) const {
    s.dist.prepare(store_, q, l2());
    const std::uint32_t ep = graph_.entry();
    detail::HnswCandidate cur{s.dist(ep), ep};
    for (std::size_t l = graph_.max_level(); l > 0; --l) cur = detail::greedy_closest<false>(graph_, s.dist, cur, l, nullptr, s.walk.links);
    const std::size_t ef = std::max(p.ef, k);
    if (deleted_count_ == 0) {
        detail::search_layer<false>(graph_, s.dist, cur, 0, ef, accept, Accept::accepts_all, s.walk);
    } else {
        auto live = [&](std::uint32_t id) { return !is_deleted(id) && accept(id); };
        detail::search_layer<false>(graph_, s.dist, cur, 0, ef, live, false, s.walk);
    }
}

/// The top k of the walk's results: their walk distances are the exact scores for an f32/f16/bf16 payload without
/// a copy; otherwise the best max(k, rerank) are re-scored exactly (f32 copy, or the payload decoded) and re-sorted.
inline void HnswIndex::finish(const float* q, std::size_t k, const HnswIndexSearchParams& p, Scratch& s, SearchResults<>& out) const {
    auto& r = s.walk.results;
    std::sort(r.begin(), r.end(), detail::FartherFirst{});  // closest first, ties by smaller id
    out.clear();
    if (exact_.size() == 0 && !store_.is_quantized()) {
        const std::size_t n = std::min(k, r.size());
        for (std::size_t i = 0; i < n; ++i) out.push_back({r[i].id, -r[i].dist});
        return;
    }
    const std::size_t n = std::min(r.size(), std::max(k, p.rerank));
    s.hits.clear();
    const VectorStore& rows = exact_rows();
    rows.prepare(q, l2(), s.prepared);
    constexpr std::size_t kAhead = 2;  // rows prefetched ahead of the one re-scored (random rows of up to 3 KB)
    for (std::size_t i = 0; i < std::min(n, kAhead); ++i) rows.prefetch(r[i].id);
    for (std::size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) rows.prefetch(r[i + kAhead].id);
        s.hits.push_back({r[i].id, exact_score(s.prepared, r[i].id)});
    }
    const std::size_t keep = std::min(k, n);
    std::partial_sort(s.hits.begin(), s.hits.begin() + static_cast<std::ptrdiff_t>(keep), s.hits.end(), RanksBefore{});
    out.assign(s.hits.begin(), s.hits.begin() + static_cast<std::ptrdiff_t>(keep));
}

/// The plan for selective filters: every accepted live id scored exactly (the exact filtered top-k).
inline void HnswIndex::exact_scan(const float* q, std::size_t k, const IdFilter& filter, Scratch& s, SearchResults<>& out) const {
    exact_rows().prepare(q, l2(), s.prepared);
    s.top.reset(std::min(k, std::max<std::size_t>(size(), 1)));
    filter.for_each_accepted(size(), [&](std::uint64_t id64) {
        const auto id = static_cast<std::uint32_t>(id64);
        if (is_deleted(id)) return;
        const float sc = exact_score(s.prepared, id);
        if (s.top.would_enter(sc)) s.top.push(id, sc);
    });
    const auto best = s.top.finalize();
    out.assign(best.begin(), best.end());
}

inline void HnswIndex::search_into(std::span<const float> query, std::size_t k, SearchResults<>& out, const HnswIndexSearchParams& params,
                                   const IdFilter& filter) const {
    check_query(query, k, "HnswIndex::search");
    check_search_params(params);
    const SharedHold hold(mutex_);
    Scratch& s = scratch();
    const float* q = prepare_query(query, s.query);
    out.clear();
    if (size() == 0) return;
    if (use_exact_scan(filter, size(), params.exact_scan_fraction)) {
        exact_scan(q, k, filter, s, out);
        return;
    }
    filter.visit([&](auto accept) { walk(q, k, params, accept, s); });
    finish(q, k, params, s, out);
}

// ---- updates

inline std::vector<std::uint32_t> HnswIndex::add(DenseMatrixView<const float> vectors) {
    require_configured();
    validate_dimension(dim_, vectors.cols, "HnswIndex::add: vectors");
    for (std::size_t i = 0; i < vectors.rows; ++i) validate_finite(std::span<const float>(vectors.row(i)), static_cast<long long>(i), "added vectors");
    DenseMatrix<float> normalized;
    DenseMatrixView<const float> rows = vectors;
    if (metric_ == Metric::cosine) {
        normalized = DenseMatrix<float>(vectors);
        for (std::size_t i = 0; i < normalized.rows(); ++i) detail::normalize_in_place(normalized.row(i));
        rows = normalized.view();
    }
    const std::scoped_lock one_add(mutex_.adding);
    std::unique_lock lock(mutex_.m);  // searches wait from here (validation and normalisation ran without it)
    const std::size_t reuse = std::min(deleted_count_, vectors.rows);
    if (size() + (vectors.rows - reuse) > 0xFFFFFFFFull) raise(ErrorKind::invalid_argument, "HnswIndex: more than 2^32 - 1 vectors");
    std::vector<std::uint32_t> ids;
    ids.reserve(vectors.rows);
    for (std::uint32_t id = 0; ids.size() < reuse; ++id)
        if (is_deleted(id)) ids.push_back(id);
    if (reuse > 0) replace_deleted(ids, rows.slice(0, reuse), lock);
    const std::size_t first = size();
    for (std::size_t i = reuse; i < rows.rows; ++i) ids.push_back(static_cast<std::uint32_t>(first + i - reuse));
    if (rows.rows > reuse) insert_new(rows.slice(reuse, rows.rows - reuse), first, lock);
    return ids;
}

/// Appends rows as new nodes (levels drawn per id) and links them, on params.threads threads, releasing `lock` between
/// chunks (an unlinked node has no in-links: a search in between does not reach it).
inline void HnswIndex::insert_new(DenseMatrixView<const float> rows, std::size_t first, std::unique_lock<std::shared_mutex>& lock) {
    std::vector<std::uint8_t> levels(rows.rows);
    for (std::size_t i = 0; i < rows.rows; ++i) levels[i] = draw_level(first + i);
    store_.append(rows);
    if (has_exact_copy()) exact_.append(rows);
    graph_.make_owned();
    graph_.append_nodes(levels);
    deleted_.modify([&](auto& w) { w.resize((size() + 63) / 64, 0); });
    detail::HnswInserter inserter(graph_, link_store(), l2(), params_.ef_construction, deleted_.span());
    const std::size_t threads = detail::resolve_threads(params_.threads, rows.rows);
    ProgressReporter progress(params_.progress, "insert", rows.rows);
    std::vector<detail::HnswBuildScratch> scratch(threads);
    const std::size_t chunk = unshared_ ? rows.rows : kLinkChunk * threads;
    for (std::size_t c0 = 0; c0 < rows.rows; c0 += chunk) {
        if (c0 > 0) mutex_.let_searches_in(lock);
        const std::size_t c1 = std::min(rows.rows, c0 + chunk);
        if (threads == 1) {
            for (std::size_t i = c0; i < c1; ++i) {
                inserter.insert<false>(static_cast<std::uint32_t>(first + i), rows.row_data(i), scratch[0]);
                progress.advance();
            }
            continue;
        }
        detail::parallel_for(c1 - c0, threads, unshared_ ? 32 : 4, [&](std::size_t b, std::size_t e, std::size_t worker) {
            for (std::size_t i = c0 + b; i < c0 + e; ++i)
                inserter.insert<true>(static_cast<std::uint32_t>(first + i), rows.row_data(i), scratch[worker]);
            progress.advance(e - b);
        });
    }
    progress.finish();
}

/// Puts new vectors into deleted slots and repairs the graph around each (hnswlib's replace-deleted).
inline void HnswIndex::replace_deleted(std::span<const std::uint32_t> ids, DenseMatrixView<const float> rows,
                                       std::unique_lock<std::shared_mutex>& lock) {
    replace_rows(store_, ids, rows);
    if (has_exact_copy()) replace_rows(exact_, ids, rows);
    graph_.make_owned();
    deleted_.modify([](auto&) {});
    detail::HnswInserter inserter(graph_, link_store(), l2(), params_.ef_construction, deleted_.span());
    detail::HnswBuildScratch s;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0 && i % kLinkChunk == 0) mutex_.let_searches_in(lock);  // a slot not repaired yet is still marked deleted
        deleted_.modify([&](auto& w) { w[ids[i] >> 6] &= ~(std::uint64_t{1} << (ids[i] & 63)); });
        --deleted_count_;
        inserter.reconnect(ids[i], rows.row_data(i), s);
    }
}

/// Overwrites rows `ids` of a store with `rows`, encoded as the store encodes (int8 per dimension: with its fitted
/// scales). VectorStore only appends, so the arrays are copied once per call (see docs/dense.md).
inline void HnswIndex::replace_rows(VectorStore& s, std::span<const std::uint32_t> ids, DenseMatrixView<const float> rows) {
    const std::size_t dim = s.dimension(), rb = s.row_bytes();
    VectorStore fresh(dim, s.encoding());
    if (!s.dimension_scales().empty())  // int8 / int4 per dimension: a one-row store carrying the fitted scales
        fresh = VectorStore::from_raw(dim, s.encoding(), 1, s.raw_bytes().first(rb), {}, s.row_norms().first(1), s.dimension_scales());
    const std::size_t skip = fresh.size();
    fresh.append(rows);
    std::vector<std::uint8_t> bytes(s.raw_bytes().begin(), s.raw_bytes().end());
    std::vector<float> scales(s.row_scales().begin(), s.row_scales().end()), norms(s.row_norms().begin(), s.row_norms().end());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        std::memcpy(bytes.data() + std::size_t{ids[i]} * rb, fresh.raw_bytes().data() + (skip + i) * rb, rb);
        if (!scales.empty()) scales[ids[i]] = fresh.row_scales()[skip + i];
        if (!norms.empty()) norms[ids[i]] = fresh.row_norms()[skip + i];
    }
    s = VectorStore::from_raw(dim, s.encoding(), s.size(), bytes, scales, norms, s.dimension_scales());
}

// ---- files

inline void HnswIndex::save(const std::string& path) const {
    require_configured();
    const std::scoped_lock no_add(mutex_.adding);
    const SharedHold hold(mutex_);
    const FileMeta meta{dim_, size(), params_.M, params_.ef_construction, params_.seed, deleted_count_, static_cast<std::uint32_t>(metric_),
                        static_cast<std::uint32_t>(params_.storage), has_exact_copy() ? 1u : 0u,
                        static_cast<std::uint32_t>(params_.rerank_storage)};
    io::SectionWriter w("HnswIndex", kFormatVersion);
    w.add_value("meta", meta);
    graph_.add_sections(w);
    w.add<std::uint64_t>("deleted", deleted_.span());
    if (has_exact_copy()) exact_.add_sections(w, "x");
    store_.add_sections(w, "p");
    graph_.add_level0_section(w);
    w.write(path);
}

inline HnswIndex HnswIndex::load(const std::string& path) {
    const io::SectionReader r(path, "HnswIndex", kFormatVersion, kFormatVersion);
    const auto meta = r.value<FileMeta>("meta");
    if (meta.dimension == 0 || meta.dimension > (1u << 24) || meta.metric > 2 || meta.encoding > kMaxVectorEncoding || meta.has_exact > 1 || meta.rerank_encoding > 2 || meta.m < 2 ||
        meta.m > 1024 || meta.ef_construction == 0 || meta.count > 0xFFFFFFFFull || (meta.has_exact && meta.encoding == 0))
        r.fail(ErrorKind::corrupt_file, "invalid index header (dimension ", meta.dimension, ", metric ", meta.metric, ", encoding ", meta.encoding,
               ", M ", meta.m, ", ", meta.count, " vectors)");
    if (meta.count > r.span<std::uint8_t>("pvalues").size()) r.fail(ErrorKind::corrupt_file, "vector count ", meta.count, " exceeds the data");
    HnswIndex index;
    const auto enc = static_cast<VectorEncoding>(meta.encoding);
    const auto rerank_enc = static_cast<VectorEncoding>(meta.rerank_encoding);
    index.params_ = {.M = meta.m, .ef_construction = meta.ef_construction, .storage = enc, .keep_f32 = meta.has_exact == 1 || meta.encoding == 0,
                     .rerank_storage = rerank_enc, .threads = 0, .seed = meta.seed};
    index.dim_ = meta.dimension;
    index.metric_ = static_cast<Metric>(meta.metric);
    index.store_ = VectorStore::read_sections(r, "p", meta.dimension, enc, meta.count);
    if (meta.has_exact) index.exact_ = VectorStore::read_sections(r, "x", meta.dimension, rerank_enc, meta.count);
    index.graph_ = HnswGraph::read_sections(r, meta.count);
    if (index.graph_.m() != meta.m) r.fail(ErrorKind::corrupt_file, "graph M ", index.graph_.m(), " differs from the header's ", meta.m);
    index.deleted_ = r.buffer<std::uint64_t>("deleted", (meta.count + 63) / 64);
    std::size_t marked = 0;
    for (std::uint64_t w : index.deleted_) marked += static_cast<std::size_t>(std::popcount(w));
    if (marked != meta.deleted_count || (meta.count % 64 && (index.deleted_[meta.count / 64] >> (meta.count % 64)) != 0))
        r.fail(ErrorKind::corrupt_file, "deletion bits (", marked, " set) disagree with the header (", meta.deleted_count, " deleted of ", meta.count, ")");
    index.deleted_count_ = meta.deleted_count;
    return index;
}

// ---- prepared queries

/// A query prepared for scoring many ids of one HnswIndex (it refers to the index, which must outlive it): scorer(id)
/// is the exact score search() reports for id (from the f32 copy when kept, else from the payload).
class HnswIndex::PreparedQuery {
public:
    PreparedQuery(const HnswIndex& index, std::span<const float> query) : index_(&index), query_(query) {
        index.require_configured();
        validate_dimension(index.dim_, query.size(), "HnswIndex::prepare: query");
        validate_finite(query, -1, "query");
        const auto q = query_.values();
        if (index.metric_ == Metric::cosine) detail::normalize_in_place(q);
        const SharedHold hold(index.mutex_);
        query_.prepare(index.exact_rows(), index.metric_ == Metric::l2);
    }
    /// Exact score of node `id`; throws Error(out_of_range) for an id >= size().
    [[nodiscard]] float operator()(std::uint32_t id) const {
        const SharedHold hold(index_->mutex_);
        validate_id(id, index_->size(), "HnswIndex: document id");
        return index_->exact_score(query_.prepared(), id);  // prepared for other rows: prepared anew (VectorStore::fits)
    }

private:
    const HnswIndex* index_;
    VectorStore::OwnedQuery query_;  // int8/int4 codes made once, not per id
};

inline HnswIndex::PreparedQuery HnswIndex::prepare(std::span<const float> query) const { return PreparedQuery(*this, query); }
inline float HnswIndex::score(std::span<const float> query, std::uint32_t id) const { return prepare(query)(id); }

}  // namespace sparsedense
