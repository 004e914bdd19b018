// sparsedense/sparse/clustered_inverted_index.hpp
//
// ClusteredInvertedIndex: approximate top-k retrieval over learned-sparse vectors in the manner of Seismic
// (Bruch, Nardini, Rulli, Venturini, "Efficient Inverted Indexes for Approximate Retrieval over Learned Sparse
// Representations", SIGIR 2024), with the optional k-NN graph refinement of their CIKM 2024 follow-up (SeismicWave).
//
// Idea. Learned-sparse vectors concentrate their mass on few terms, so (1) keeping only each term's `lambda`
// largest postings loses little, and (2) the documents of one posting list can be grouped into blocks of similar
// documents, each summarized by a small vector that bounds their scores. A query visits the lists of its heaviest
// terms, scores the block summaries and opens only the blocks that may hold a top-k document; their documents are
// scored exactly from a compact forward index. The pieces, one header each:
//   build    posting_pruning.hpp (static pruning) -> posting_clustering.hpp (blocks) -> block_summaries.hpp
//            (8-bit alpha-mass summaries); clustered_knn_graph.hpp (the optional graph); compact_forward_index.hpp
//   search   clustered_search.hpp (block traversal, document prefetch queue, filters, the exact-scan plan)
// This class holds the arrays (built, or memory-mapped from a file without copying), validates input, orchestrates
// the build and reads/writes the file. Knobs: clustered_index_params.hpp; their effect: docs/sparse.md.
//
// The retriever shape of core/retriever.hpp: search / search_into / search_batch with a filter (IdFilter), save /
// load, prepare(query) for exact scoring of given ids. Filtered search tests the filter before any work on a
// document; when the filter accepts at most exact_scan_fraction of the documents, the accepted ones are scored
// exactly instead (then the result equals brute force on the stored weights). Document ids are u32 (up to
// 2^32 - 1 documents), term ids u32 (u16 storage when the vocabulary fits). search_exact() answers exactly from the
// forward index (exact for f32 values, exact w.r.t. the stored f16/u8 weights otherwise).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/array_store.hpp"
#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/sparse/block_summaries.hpp"
#include "sparsedense/sparse/clustered_index_params.hpp"
#include "sparsedense/sparse/clustered_knn_graph.hpp"
#include "sparsedense/sparse/clustered_search.hpp"
#include "sparsedense/sparse/compact_forward_index.hpp"
#include "sparsedense/sparse/detail/file_checks.hpp"
#include "sparsedense/sparse/posting_clustering.hpp"
#include "sparsedense/sparse/posting_pruning.hpp"

namespace sparsedense {

namespace detail {
/// One list's build output: its postings reordered block by block, and the blocks' summaries.
struct ClusteredList {
    std::vector<std::uint32_t> docs;
    std::vector<std::uint64_t> block_bounds;  // block b = [block_bounds[b], block_bounds[b + 1]) local
    ListSummaries summaries;
    [[nodiscard]] std::size_t blocks() const noexcept { return block_bounds.empty() ? 0 : block_bounds.size() - 1; }
};
}  // namespace detail

class ClusteredInvertedIndex {
public:
    using query_type = SparseVectorView<float>;
    using batch_type = CsrMatrixView<float>;
    using id_type = std::uint32_t;
    using build_params_type = ClusteredInvertedIndexBuildParams;
    using search_params_type = ClusteredInvertedIndexSearchParams;
    /// Version of the file format written by save() (see the section list above save()).
    static constexpr std::uint32_t kFormatVersion = 2;

    /// A query prepared for exact scoring of given documents: scorer(id) = inner product of the query with the
    /// stored document (exact for f32 forward values). Owns a copy of the query; cheap per id (one merge).
    class PreparedQuery {
    public:
        [[nodiscard]] float operator()(id_type id) const;

    private:
        friend class ClusteredInvertedIndex;
        const ClusteredInvertedIndex* index_ = nullptr;
        std::vector<std::uint32_t> ids_;
        std::vector<float> values_;
    };

    ClusteredInvertedIndex() = default;

    /// Builds the index over the rows of `docs` (document id = row number); validates input and parameters.
    static ClusteredInvertedIndex build(const CsrMatrixView<float>& docs, const build_params_type& params = {});

    /// Approximate top-k among the documents the filter accepts, best first (ties by smaller id). Scores are exact
    /// inner products with the stored (forward-index) weights. Throws Error for k == 0, an invalid query or
    /// invalid parameters.
    [[nodiscard]] SearchResults<id_type> search(const query_type& query, std::size_t k, const search_params_type& params = {},
                                                const IdFilter& filter = {}) const {
        SearchResults<id_type> out;
        search_into(query, k, out, params, filter);
        return out;
    }
    /// The same into `out` (no allocation once the thread's scratch is warm).
    void search_into(const query_type& query, std::size_t k, SearchResults<id_type>& out, const search_params_type& params = {},
                     const IdFilter& filter = {}) const;
    /// One result list per query row, in order; threads = 0 means every hardware thread.
    [[nodiscard]] std::vector<SearchResults<id_type>> search_batch(const batch_type& queries, std::size_t k, const search_params_type& params = {},
                                                                   std::size_t threads = 0, const IdFilter& filter = {}) const;

    /// Exact top-k by a scan of the forward index (documents sharing a term with the query).
    [[nodiscard]] SearchResults<id_type> search_exact(const query_type& query, std::size_t k) const;

    /// Validates and copies the query once; the result scores ids exactly (throws out_of_range for a bad id).
    [[nodiscard]] PreparedQuery prepare(const query_type& query) const;
    /// Inner product of the query with the stored document (exact for f32 forward values): prepare(query)(doc).
    [[nodiscard]] float score(const query_type& query, id_type doc) const { return prepare(query)(doc); }

    [[nodiscard]] std::size_t size() const noexcept { return a_.docs; }
    [[nodiscard]] std::size_t dimension() const noexcept { return a_.dim; }
    [[nodiscard]] std::size_t posting_count() const noexcept { return a_.post_doc.size(); }
    [[nodiscard]] std::size_t block_count() const noexcept { return a_.block_step.size(); }
    [[nodiscard]] std::size_t summary_entries() const noexcept { return a_.entry_code.size(); }
    [[nodiscard]] std::size_t knn_degree() const noexcept { return a_.knn_degree; }
    [[nodiscard]] const build_params_type& build_params() const noexcept { return params_; }
    [[nodiscard]] const CompactForwardIndex& forward_index() const noexcept { return a_.forward; }
    [[nodiscard]] SparseVector<float> document(id_type doc) const {
        validate_id(doc, a_.docs, "ClusteredInvertedIndex: document id");
        return a_.forward.document(doc);
    }
    /// Neighbours of a document in the k-NN graph (empty without a graph).
    [[nodiscard]] std::span<const std::uint32_t> neighbours(id_type doc) const {
        validate_id(doc, a_.docs, "ClusteredInvertedIndex: document id");
        if (a_.knn_degree == 0) return {};
        return a_.knn.subspan(std::size_t{doc} * a_.knn_degree, a_.knn_degree);
    }
    /// Bytes of all arrays: forward index, postings, summaries, graph.
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

    void save(const std::string& path) const;
    static ClusteredInvertedIndex load(const std::string& path);

private:
    void check_query(const query_type& query, std::size_t k) const;
    static void check_search_params(const search_params_type& params);
    static void check_build_params(const build_params_type& params);
    static void select_terms(const query_type& query, std::size_t cut, double mass, std::vector<std::uint32_t>& selected);
    static std::vector<detail::ClusteredList> cluster_lists(CsrMatrixView<float> docs, std::size_t dim, detail::PrunedLists& kept, ProgressReporter& progress,
                                                            const build_params_type& params, std::size_t threads);
    void adopt_lists(std::vector<detail::ClusteredList>& built);
    void load_forward(const io::SectionReader& r);
    void load_lists(const io::SectionReader& r);

    std::shared_ptr<detail::ArrayStore> store_ = std::make_shared<detail::ArrayStore>();
    build_params_type params_{};
    detail::ClusteredArrays a_;
};

// ------------------------------------------------------------------------------------------------------------
// Build: validation, forward index, pruning -> clustering -> summaries per list (in parallel), concatenation, graph.

inline void ClusteredInvertedIndex::check_build_params(const build_params_type& params) {
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
}

inline ClusteredInvertedIndex ClusteredInvertedIndex::build(const CsrMatrixView<float>& docs, const build_params_type& requested) {
    check_build_params(requested);
    build_params_type params = requested;
    if (params.lambda == 0) params.lambda = default_lambda(docs.rows());  // build_params() reports the value used
    docs.validate();
    if (docs.rows() >= std::numeric_limits<std::uint32_t>::max())
        raise(ErrorKind::out_of_range, "ClusteredInvertedIndex: ", docs.rows(), " documents exceed the 2^32 - 1 limit");
    std::size_t dim = docs.cols;
    if (dim == 0)
        for (std::uint32_t id : docs.indices) dim = std::max<std::size_t>(dim, std::size_t{id} + 1);

    ClusteredInvertedIndex index;
    index.params_ = params;
    index.a_.docs = docs.rows();
    index.a_.dim = dim;
    const std::size_t threads = detail::resolve_threads(params.threads);
    {
        std::vector<std::uint32_t> words;
        std::vector<std::uint64_t> locs;
        const auto built = CompactForwardIndex::build(docs, dim, params.forward_values, threads, words, locs);
        const auto skew = static_cast<std::size_t>(built.words().data() - words.data());  // moving keeps the buffer
        const auto w = index.store_->adopt(std::move(words)).subspan(skew, built.words().size());
        const auto l = index.store_->adopt(std::move(locs));
        index.a_.forward = CompactForwardIndex::view(w, l, dim, params.forward_values);
    }
    auto kept = detail::prune_postings(docs, dim, params, threads);
    {
        ProgressReporter progress(params.progress, "cluster", dim);  // lists clustered and summarized
        auto built = cluster_lists(docs, dim, kept, progress, params, threads);
        index.adopt_lists(built);
        progress.finish();
    }
    index.params_.progress = {};  // the caller's callback is not kept past build()
    if (params.knn > 0) {
        ProgressReporter progress(params.progress, "knn_graph", docs.rows());  // documents whose neighbours are found
        auto graph = detail::build_knn_graph(index.a_.forward, params.knn, threads,
                                             [&](const query_type& q, std::size_t k, SearchResults<id_type>& out, const search_params_type& sp) {
                                                 index.search_into(q, k, out, sp);
                                                 progress.advance();
                                             });
        progress.finish();
        index.a_.knn_degree = params.knn;
        index.a_.knn = index.store_->adopt(std::move(graph));
    }
    return index;
}

/// Clusters every pruned list into blocks and summarizes them; lists in parallel, the longest first (load balance).
inline std::vector<detail::ClusteredList> ClusteredInvertedIndex::cluster_lists(CsrMatrixView<float> docs, std::size_t dim, detail::PrunedLists& kept, ProgressReporter& progress,
                                                                               const build_params_type& params, std::size_t threads) {
    const auto heads = detail::DocumentHeads::compute(docs, params.doc_cut, threads);
    std::vector<detail::ClusteredList> built(dim);
    std::vector<std::uint32_t> term_order(dim);
    std::iota(term_order.begin(), term_order.end(), 0u);
    std::stable_sort(term_order.begin(), term_order.end(), [&](std::uint32_t a, std::uint32_t b) { return kept[a].size() > kept[b].size(); });
    std::vector<detail::ClusterScratch> clusters(threads);
    std::vector<detail::SummaryScratch> summaries(threads);
    detail::parallel_for(dim, threads, 8, [&](std::size_t tb, std::size_t te, std::size_t worker) {
        auto& cs = clusters[worker];
        auto& ss = summaries[worker];
        cs.ensure(dim);
        ss.ensure(dim);
        for (std::size_t ti = tb; ti < te; ++ti) {
            const std::uint32_t t = term_order[ti];
            const auto& list = kept[t];
            if (list.empty()) continue;
            auto& out = built[t];
            detail::cluster_posting_list(docs, heads, list, t, params, cs);
            detail::order_by_cluster(list, cs, out.docs, out.block_bounds);
            const std::size_t nb = out.blocks();
            out.summaries.clear(nb);
            for (std::size_t b = 0; b < nb; ++b)
                detail::summarize_block(docs, out.docs.data() + out.block_bounds[b], out.block_bounds[b + 1] - out.block_bounds[b], b, params.alpha,
                                        params.summary_max_terms, ss, out.summaries);
        }
        progress.advance(te - tb);
    });
    kept.clear();
    kept.shrink_to_fit();
    return built;
}

/// Concatenates the lists' postings, blocks and summaries into the index's arrays (freeing each list as it goes).
inline void ClusteredInvertedIndex::adopt_lists(std::vector<detail::ClusteredList>& built) {
    const std::size_t dim = a_.dim;
    std::vector<std::uint64_t> list_block_begin(dim + 1, 0);
    std::uint64_t total_posts = 0, total_entries = 0;
    for (std::size_t t = 0; t < dim; ++t) {
        list_block_begin[t + 1] = list_block_begin[t] + built[t].blocks();
        total_posts += built[t].docs.size();
        total_entries += built[t].summaries.entry_code.size();
        a_.max_blocks = std::max(a_.max_blocks, built[t].blocks());
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
    std::uint64_t pbase = 0, ebase = 0;
    for (std::size_t t = 0; t < dim; ++t) {
        auto& l = built[t];
        const auto& sm = l.summaries;
        const std::uint64_t bb = list_block_begin[t];
        for (std::size_t b = 0; b < l.blocks(); ++b) {
            block_post_begin[bb + b] = pbase + l.block_bounds[b];
            block_step[bb + b] = sm.steps[b];
            block_entry_begin[bb + b] = ebase + sm.entry_bounds[b];
        }
        for (std::size_t i = 0; i < l.docs.size(); ++i) {
            post_doc[pbase + i] = l.docs[i];
            post_loc[pbase + i] = a_.forward.location(l.docs[i]);
        }
        for (std::size_t i = 0; i < sm.entry_comp.size(); ++i) {
            if (narrow_ids) entry_comp16[ebase + i] = static_cast<std::uint16_t>(sm.entry_comp[i]);
            else entry_comp32[ebase + i] = sm.entry_comp[i];
        }
        std::copy(sm.entry_code.begin(), sm.entry_code.end(), entry_code.begin() + static_cast<std::ptrdiff_t>(ebase));
        pbase += l.docs.size();
        ebase += sm.entry_code.size();
        l = {};
    }
    block_post_begin[nblocks] = pbase;
    block_entry_begin[nblocks] = ebase;
    auto& st = *store_;
    a_.list_block_begin = st.adopt(std::move(list_block_begin));
    a_.block_post_begin = st.adopt(std::move(block_post_begin));
    a_.post_doc = st.adopt(std::move(post_doc));
    a_.post_loc = st.adopt(std::move(post_loc));
    a_.block_step = st.adopt(std::move(block_step));
    a_.block_entry_begin = st.adopt(std::move(block_entry_begin));
    a_.entry_comp16 = st.adopt(std::move(entry_comp16));
    a_.entry_comp32 = st.adopt(std::move(entry_comp32));
    a_.entry_code = st.adopt(std::move(entry_code));
}

// ------------------------------------------------------------------------------------------------------------
// Search

inline void ClusteredInvertedIndex::check_search_params(const search_params_type& params) {
    if (params.query_cut == 0) raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: query_cut must be > 0");
    if (!std::isfinite(params.heap_factor) || params.heap_factor < 0.0f)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: heap_factor must be finite and >= 0, got ", params.heap_factor);
    if (params.traversal != BlockTraversal::list_by_list && params.traversal != BlockTraversal::first_list_sorted &&
        params.traversal != BlockTraversal::best_first)
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: unknown block traversal");
    if (!(params.query_mass > 0.0 && params.query_mass <= 1.0))
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: query_mass must be in (0, 1], got ", params.query_mass);
    if (!(params.exact_scan_fraction >= 0.0 && params.exact_scan_fraction <= 1.0))
        raise(ErrorKind::invalid_argument, "ClusteredInvertedIndex: exact_scan_fraction must be in [0, 1], got ", params.exact_scan_fraction);
}

inline void ClusteredInvertedIndex::check_query(const query_type& query, std::size_t k) const {
    validate_k(k, "ClusteredInvertedIndex");
    try {
        query.validate(a_.dim, -1);
    } catch (const Error& e) {
        raise(e.kind(), "ClusteredInvertedIndex: ", e.what());
    }
    if (a_.dim == 0 && !query.empty()) raise(ErrorKind::out_of_range, "ClusteredInvertedIndex: the index is empty (dimension 0)");
}

/// Positions of the `cut` largest query weights (ties by position) into `selected`, heaviest first; with mass < 1
/// only the shortest prefix of them whose weights reach mass x the query's total positive weight.
inline void ClusteredInvertedIndex::select_terms(const query_type& query, std::size_t cut, double mass, std::vector<std::uint32_t>& selected) {
    selected.clear();
    for (std::size_t i = 0; i < query.size(); ++i) selected.push_back(static_cast<std::uint32_t>(i));
    std::partial_sort(selected.begin(), selected.begin() + static_cast<std::ptrdiff_t>(cut), selected.end(),
                      [&](std::uint32_t a, std::uint32_t b) { return query.values[a] > query.values[b] || (query.values[a] == query.values[b] && a < b); });
    selected.resize(cut);
    if (mass >= 1.0) return;
    double total = 0.0;
    for (std::size_t i = 0; i < query.size(); ++i) total += std::max(0.0f, query.values[i]);
    if (!(total > 0.0)) return;  // no positive weight: the fixed cut
    double acc = 0.0;
    for (std::size_t i = 0; i < cut; ++i) {
        acc += std::max(0.0f, query.values[selected[i]]);
        if (acc >= mass * total) {
            selected.resize(i + 1);
            return;
        }
    }
}

inline void ClusteredInvertedIndex::search_into(const query_type& query, std::size_t k, SearchResults<id_type>& out, const search_params_type& params,
                                                const IdFilter& filter) const {
    check_query(query, k);
    check_search_params(params);
    out.clear();
    if (a_.docs == 0 || query.empty()) return;
    k = std::min(k, a_.docs);  // k = SIZE_MAX means "every document"; bounds the k-NN candidate count below
    auto& s = detail::clustered_scratch();
    const std::size_t cut = std::min(params.query_cut, query.size());
    s.ensure(a_.dim, a_.docs, cut * a_.max_blocks, query.size());
    s.top.reset(k);
    if (use_exact_scan(filter, a_.docs, params.exact_scan_fraction)) {
        detail::ClusteredSearch<AcceptAllIds> search(a_, s, params, AcceptAllIds{}, query);
        search.scan_accepted(filter);
        search.finish();
    } else {
        select_terms(query, cut, params.query_mass, s.selected);
        filter.visit([&](auto accept) {
            detail::ClusteredSearch<decltype(accept)> search(a_, s, params, accept, query);
            search.traverse();
            search.finish();
        });
    }
    const auto hits = s.top.finalize();
    out.assign(hits.begin(), hits.end());
}

inline SearchResults<ClusteredInvertedIndex::id_type> ClusteredInvertedIndex::search_exact(const query_type& query, std::size_t k) const {
    check_query(query, k);
    TopKCollector<> top(k);
    if (a_.docs == 0 || query.empty()) return {};
    // mark query terms; score every document sharing one, summing in ascending term order
    std::vector<float> qd(a_.dim, 0.0f);
    std::vector<std::uint64_t> in_query((a_.dim + 63) / 64, 0);
    for (std::size_t i = 0; i < query.size(); ++i) {
        qd[query.ids[i]] = query.values[i];
        in_query[query.ids[i] >> 6] |= std::uint64_t{1} << (query.ids[i] & 63);
    }
    for (std::uint32_t d = 0; d < a_.docs; ++d) {
        float sc = 0.0f;
        bool any = false;
        a_.forward.for_each_term(d, [&](std::uint32_t id, float v) {
            if (in_query[id >> 6] & (std::uint64_t{1} << (id & 63))) {
                sc += qd[id] * v;
                any = true;
            }
        });
        if (any && top.would_enter(sc)) top.push(d, sc);
    }
    return top.sorted();
}

inline ClusteredInvertedIndex::PreparedQuery ClusteredInvertedIndex::prepare(const query_type& query) const {
    try {
        query.validate(a_.dim, -1);
    } catch (const Error& e) {
        raise(e.kind(), "ClusteredInvertedIndex: ", e.what());
    }
    PreparedQuery p;
    p.index_ = this;
    p.ids_.assign(query.ids.begin(), query.ids.end());
    p.values_.assign(query.values.begin(), query.values.end());
    return p;
}

inline float ClusteredInvertedIndex::PreparedQuery::operator()(id_type doc) const {
    const std::size_t n = index_ ? index_->size() : 0;
    validate_id(doc, n, "ClusteredInvertedIndex: document id");
    // merge the stored record (ascending terms) with the query, one product at a time in ascending term order
    float sc = 0.0f;
    std::size_t i = 0;
    const std::size_t nq = ids_.size();
    index_->a_.forward.for_each_term(doc, [&](std::uint32_t id, float v) {
        while (i < nq && ids_[i] < id) ++i;
        if (i < nq && ids_[i] == id) sc += values_[i] * v;
    });
    return sc;
}

inline std::vector<SearchResults<ClusteredInvertedIndex::id_type>> ClusteredInvertedIndex::search_batch(const batch_type& queries, std::size_t k,
                                                                                                        const search_params_type& params, std::size_t threads,
                                                                                                        const IdFilter& filter) const {
    validate_k(k, "ClusteredInvertedIndex");
    if (queries.cols != 0 && a_.dim != 0 && queries.cols != a_.dim)
        raise(ErrorKind::dimension_mismatch, "ClusteredInvertedIndex: queries have dimension ", queries.cols, ", the index ", a_.dim);
    CsrMatrixView<float> checked = queries;
    checked.cols = a_.dim;
    try {
        checked.validate();
    } catch (const Error& e) {
        raise(e.kind(), "ClusteredInvertedIndex: ", e.what());
    }
    check_search_params(params);
    std::vector<SearchResults<id_type>> out(queries.rows());
    detail::parallel_for(queries.rows(), threads, 16, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params, filter);
    });
    return out;
}

inline std::size_t ClusteredInvertedIndex::memory_bytes() const noexcept {
    return a_.forward.memory_bytes() + a_.list_block_begin.size_bytes() + a_.block_post_begin.size_bytes() + a_.post_doc.size_bytes() +
           a_.post_loc.size_bytes() + a_.block_step.size_bytes() + a_.block_entry_begin.size_bytes() + a_.entry_comp16.size_bytes() +
           a_.entry_comp32.size_bytes() + a_.entry_code.size_bytes() + a_.knn.size_bytes();
}

// ------------------------------------------------------------------------------------------------------------
// File format (kind "ClusteredIndex", version kFormatVersion = 2), sections of io/binary_format.hpp:
//   meta              {u64 documents, dimension, knn degree, forward value type, pruning, lambda, min cluster size,
//                      doc_cut, seed, summary_max_terms; f64 max_fraction, centroid_fraction, alpha}
//   fwd_words u32[]   fwd_locs u64[docs]                      (compact forward index)
//   list_blocks u64[dim + 1]  block_posts u64[blocks + 1]  post_doc u32[postings]  post_loc u64[postings]
//   block_step f32[blocks]  block_entries u64[blocks + 1]  entry_comp16 u16[entries] (dimension <= 65,536) or
//   entry_comp32 u32[entries]  entry_code u8[entries]  knn u32[docs x degree]
// Version 1 (component-major summaries) is refused with version_mismatch: rebuild the index.
// load() maps the file and checks every offset and id against the arrays it indexes before searching can touch
// them, so a damaged file is an Error (corrupt_file / version_mismatch / io), never a crash. Nothing is copied.

namespace detail {
struct ClusteredIndexMeta {
    std::uint64_t docs, dim, knn_degree, forward_values, pruning, lambda, min_cluster_size, doc_cut, seed, summary_max_terms;
    double max_fraction, centroid_fraction, alpha;
};
}  // namespace detail

inline void ClusteredInvertedIndex::save(const std::string& path) const {
    io::SectionWriter w("ClusteredIndex", kFormatVersion);
    detail::ClusteredIndexMeta meta{};
    meta.docs = a_.docs;
    meta.dim = a_.dim;
    meta.knn_degree = a_.knn_degree;
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
    w.add("fwd_words", a_.forward.words());
    w.add("fwd_locs", a_.forward.locations());
    w.add("list_blocks", a_.list_block_begin);
    w.add("block_posts", a_.block_post_begin);
    w.add("post_doc", a_.post_doc);
    w.add("post_loc", a_.post_loc);
    w.add("block_step", a_.block_step);
    w.add("block_entries", a_.block_entry_begin);
    if (a_.dim <= 65536) w.add("entry_comp16", a_.entry_comp16);
    else w.add("entry_comp32", a_.entry_comp32);
    w.add("entry_code", a_.entry_code);
    w.add("knn", a_.knn);
    w.write(path);
}

inline ClusteredInvertedIndex ClusteredInvertedIndex::load(const std::string& path) {
    const io::SectionReader r(path, "ClusteredIndex", kFormatVersion, kFormatVersion);
    const auto meta = r.value<detail::ClusteredIndexMeta>("meta");
    if (meta.forward_values > 2) r.fail(ErrorKind::corrupt_file, "unknown forward value type ", meta.forward_values);
    if (meta.pruning > 1) r.fail(ErrorKind::corrupt_file, "unknown pruning strategy ", meta.pruning);
    if (meta.docs >= std::numeric_limits<std::uint32_t>::max() || meta.dim >= (std::uint64_t{1} << 40) || meta.knn_degree > (1u << 20))
        r.fail(ErrorKind::corrupt_file, "implausible sizes: ", meta.docs, " documents, dimension ", meta.dim, ", knn degree ", meta.knn_degree);
    ClusteredInvertedIndex index;
    index.a_.docs = static_cast<std::size_t>(meta.docs);
    index.a_.dim = static_cast<std::size_t>(meta.dim);
    index.a_.knn_degree = static_cast<std::size_t>(meta.knn_degree);
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
    p.knn = index.a_.knn_degree;
    index.load_forward(r);
    index.load_lists(r);
    index.store_->keep(r.file());
    return index;
}

/// Maps the forward index; every record must lie inside the words and hold term ids inside the vocabulary.
inline void ClusteredInvertedIndex::load_forward(const io::SectionReader& r) {
    const std::size_t n = a_.docs, dim = a_.dim;
    const auto words = r.span<std::uint32_t>("fwd_words");
    const auto locs = r.span<std::uint64_t>("fwd_locs", n);
    a_.forward = CompactForwardIndex::view(words, locs, dim, params_.forward_values);
    const auto& layout = a_.forward.layout();
    for (std::size_t d = 0; d < n; ++d) {
        const std::uint64_t off = locs[d] >> detail::forward_len_bits;
        const std::uint64_t need = layout.record_words(static_cast<std::size_t>(locs[d] & detail::forward_len_mask));
        if (off > words.size() || need > words.size() - off) r.fail(ErrorKind::corrupt_file, "fwd_locs[", d, "] points outside the forward index");
        // term ids of every record must be inside the vocabulary (they index the dense query)
        a_.forward.for_each_term(static_cast<std::uint32_t>(d), [&](std::uint32_t id, float) {
            if (id >= dim) r.fail(ErrorKind::corrupt_file, "document ", d, " has term id ", id, " >= dimension ", dim);
        });
    }
}

/// Maps the posting lists, blocks, summaries and graph, checking every offset and id.
inline void ClusteredInvertedIndex::load_lists(const io::SectionReader& r) {
    const std::size_t n = a_.docs, dim = a_.dim;
    a_.list_block_begin = r.span<std::uint64_t>("list_blocks", dim + 1);
    const std::size_t nblocks = dim ? static_cast<std::size_t>(a_.list_block_begin.back()) : 0;
    a_.block_post_begin = r.span<std::uint64_t>("block_posts", nblocks + 1);
    a_.post_doc = r.span<std::uint32_t>("post_doc");
    const std::size_t nposts = a_.post_doc.size();
    a_.post_loc = r.span<std::uint64_t>("post_loc", nposts);
    a_.block_step = r.span<float>("block_step", nblocks);
    a_.block_entry_begin = r.span<std::uint64_t>("block_entries", nblocks + 1);
    a_.entry_code = r.span<std::uint8_t>("entry_code");
    const std::size_t nentries = a_.entry_code.size();
    if (dim <= 65536) a_.entry_comp16 = r.span<std::uint16_t>("entry_comp16", nentries);
    else a_.entry_comp32 = r.span<std::uint32_t>("entry_comp32", nentries);
    a_.knn = r.span<std::uint32_t>("knn", n * a_.knn_degree);
    if (dim > 0) {
        detail::check_offsets(r, a_.list_block_begin, nblocks, "list_blocks");
        detail::check_offsets(r, a_.block_post_begin, nposts, "block_posts");
        detail::check_offsets(r, a_.block_entry_begin, nentries, "block_entries");
    } else if (nposts || nentries) {
        r.fail(ErrorKind::corrupt_file, "postings in an index of dimension 0");
    }
    for (std::size_t i = 0; i < nposts; ++i) {
        if (a_.post_doc[i] >= n) r.fail(ErrorKind::corrupt_file, "post_doc[", i, "] is out of range");
        if (a_.post_loc[i] != a_.forward.location(a_.post_doc[i])) r.fail(ErrorKind::corrupt_file, "post_loc[", i, "] does not match its document");
    }
    a_.max_blocks = 1;
    for (std::size_t t = 0; t < dim; ++t) {
        const std::uint64_t b0 = a_.list_block_begin[t], nb = a_.list_block_begin[t + 1] - b0;
        if (nb > 65536) r.fail(ErrorKind::corrupt_file, "term ", t, " has ", nb, " blocks (limit 65,536)");
        a_.max_blocks = std::max<std::size_t>(a_.max_blocks, nb);
    }
    // every summary component indexes the dense query
    for (std::size_t e = 0; e < nentries; ++e) {
        const std::uint32_t c = a_.entry_comp16.empty() ? a_.entry_comp32[e] : a_.entry_comp16[e];
        if (c >= dim) r.fail(ErrorKind::corrupt_file, "summary entry ", e, " has component ", c, " >= dimension ", dim);
    }
}

}  // namespace sparsedense
