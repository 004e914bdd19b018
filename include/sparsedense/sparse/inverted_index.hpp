// sparsedense/sparse/inverted_index.hpp
//
// InvertedIndex: the exact learned-sparse index. Score = inner product of the query and document vectors;
// results are exactly the brute-force top-k (brute_force.hpp): documents that share at least one term with the
// query, best first, ties by smaller document id. It fits the retriever shape of core/retriever.hpp.
//
// Layout. One posting list per term: document ids in increasing order, weights at the chosen precision
// (f32; f16; or u8 with a per-term affine quantizer, |stored - true| <= step/2 = (max - min) / 510 of that term),
// cut into blocks of `block_size` postings with per-block last id and max/min weight (the block-max metadata of
// Ding & Suel, SIGIR 2011). Besides the lists, a forward index keeps every document's terms and f32 weights, so
// prepare()/score() are exact and the pruned algorithms rescore candidates exactly.
//
// Algorithms (InvertedIndexSearchParams::algorithm), one header each, written against posting_cursor.hpp:
//  * term_at_a_time (term_at_a_time.hpp; the default `automatic`: fastest on the collections measured, see
//    docs/sparse.md): exhaustive scan of every query list into a float accumulator per document.
//  * document_at_a_time (document_at_a_time.hpp): exhaustive merge of every query list, one document at a time.
//  * maxscore (maxscore.hpp): windowed MaxScore (Turtle & Flood 1995), candidates rescored from the forward index.
//  * block_max_wand (block_max_wand.hpp): Block-Max WAND (Ding & Suel 2011), pivots scored from the forward index.
// maxscore and block_max_wand return exact f32 scores at every posting precision; term_at_a_time and
// document_at_a_time sum the stored weights, so with f16/u8 a score can be off by score_error_bound(query). With
// f32 postings every algorithm sums in ascending term order, bit-identical to brute_force_search.
//
// Filtered search (an IdFilter, core/id_filter.hpp) is exact for every algorithm: the filter is tested before a
// document is scored or offered to the heap. When the filter accepts at most `exact_scan_fraction` of the
// documents, the accepted documents are scored from the forward index instead (also exact, f32 scores at every
// precision): the lists would mostly hold rejected documents (threshold measured in docs/sparse.md).
//
// Threads: build() and search_batch() use `threads` workers (0 = all cores); search() is const and safe from
// many threads at once; each thread keeps its own scratch (accumulators, cursors, heap), so after the first query
// a search_into() call allocates nothing. Files: save()/load() (a versioned sectioned file, loaded by memory map).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "sparsedense/core/progress.hpp"
#include "sparsedense/core/array_store.hpp"
#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/sparse_kernels.hpp"
#include "sparsedense/sparse/block_max_wand.hpp"
#include "sparsedense/sparse/detail/file_checks.hpp"
#include "sparsedense/sparse/detail/transpose.hpp"
#include "sparsedense/sparse/document_at_a_time.hpp"
#include "sparsedense/sparse/maxscore.hpp"
#include "sparsedense/sparse/posting_cursor.hpp"
#include "sparsedense/sparse/term_at_a_time.hpp"

namespace sparsedense {

/// Query processing strategy of the exact index.
enum class ExactAlgorithm : std::uint8_t {
    automatic = 0,           ///< the fastest measured here: term_at_a_time
    maxscore = 1,            ///< windowed MaxScore, exact
    block_max_wand = 2,      ///< Block-Max WAND, exact
    term_at_a_time = 3,      ///< exhaustive accumulator scan (baseline)
    document_at_a_time = 4,  ///< exhaustive merge (baseline)
};

inline const char* exact_algorithm_name(ExactAlgorithm a) noexcept {
    switch (a) {
        case ExactAlgorithm::automatic: return "automatic";
        case ExactAlgorithm::maxscore: return "maxscore";
        case ExactAlgorithm::block_max_wand: return "block_max_wand";
        case ExactAlgorithm::term_at_a_time: return "term_at_a_time";
        case ExactAlgorithm::document_at_a_time: return "document_at_a_time";
    }
    return "?";
}

struct InvertedIndexBuildParams {
    WeightPrecision precision = WeightPrecision::f32;  ///< posting weight precision (memory vs score error)
    std::size_t block_size = 64;                        ///< postings per block-max block (BMW skip granularity)
    std::size_t threads = 0;                            ///< build workers, 0 = all cores
    ProgressCallback progress{};                        ///< build progress (core/progress.hpp); empty = silent
};

struct InvertedIndexSearchParams {
    ExactAlgorithm algorithm = ExactAlgorithm::automatic;
    /// Filtered search: when the filter accepts at most this fraction of the documents, score the accepted
    /// documents from the forward index instead of running `algorithm` (both plans are exact; 0 = never scan,
    /// 1 = always). The default is measured on splade-beir (docs/sparse.md).
    double exact_scan_fraction = 0.02;
};

namespace detail {

/// Per-thread scratch of the exact index: grows to the largest index used on the thread, then is reused.
struct ExactScratch {
    template <class W>
    using Cursors = std::vector<PostingCursor<W>>;
    template <class W>
    using Order = std::vector<PostingCursor<W>*>;

    std::vector<float> qdense;                // dimension-sized, all zero between queries
    std::vector<std::uint64_t> query_terms;   // bitset over terms, all zero between queries
    std::vector<float> acc;                   // documents (TAAT) or window-sized accumulator, all zero between queries
    std::vector<std::uint64_t> bits;          // touched documents, all zero between queries
    std::tuple<Cursors<F32Weights>, Cursors<F16Weights>, Cursors<U8Weights>> cursors;
    std::tuple<Order<F32Weights>, Order<F16Weights>, Order<U8Weights>> orders;
    std::vector<std::uint32_t> by_bound, essential;
    std::vector<double> prefix;
    TopKCollector<> top{1};

    void ensure(std::size_t dimension, std::size_t docs, std::size_t query_terms_count) {
        if (qdense.size() < dimension) qdense.resize(dimension, 0.0f);
        if (query_terms.size() < (dimension + 63) / 64) query_terms.resize((dimension + 63) / 64, 0);
        if (acc.size() < docs) acc.resize(docs, 0.0f);
        if (bits.size() < (docs + 63) / 64) bits.resize((docs + 63) / 64, 0);
        std::apply([&](auto&... v) { (v.reserve(query_terms_count), ...); }, cursors);
        std::apply([&](auto&... v) { (v.reserve(query_terms_count), ...); }, orders);
        by_bound.reserve(query_terms_count);
        essential.reserve(query_terms_count);
        prefix.reserve(query_terms_count);
    }
};

inline ExactScratch& exact_scratch() {
    thread_local ExactScratch scratch;
    return scratch;
}

}  // namespace detail

class InvertedIndex {
public:
    using query_type = SparseVectorView<float>;
    using batch_type = CsrMatrixView<float>;
    using id_type = std::uint32_t;
    using build_params_type = InvertedIndexBuildParams;
    using search_params_type = InvertedIndexSearchParams;
    static constexpr std::uint32_t kFormatVersion = 1;

    /// A query prepared for exact scoring: scorer(id) is the inner product of the query with document `id` from
    /// the f32 forward index (bit-identical to brute_force_search's score). It owns a copy of the query and refers
    /// to the index's arrays: valid while the index lives. Throws Error (out_of_range) for an id >= size().
    class PreparedQuery {
    public:
        [[nodiscard]] float operator()(id_type id) const {
            validate_id(id, docs_, "InvertedIndex: document id");
            const std::uint64_t b = forward_.indptr[id], e = forward_.indptr[id + 1];
            return simd::sparse_dot_sparse(ids_.data(), values_.data(), ids_.size(), forward_.ids.data() + b, forward_.values.data() + b,
                                           static_cast<std::size_t>(e - b));
        }

    private:
        friend class InvertedIndex;
        ForwardIndexView forward_;
        std::size_t docs_ = 0;
        std::vector<std::uint32_t> ids_;
        std::vector<float> values_;
    };

    InvertedIndex() = default;

    /// Builds the index over the rows of `docs` (document id = row number). Validates the input first
    /// (Error on unsorted/duplicate term ids, non-finite weights, ids >= docs.cols when cols is set).
    static InvertedIndex build(const batch_type& docs, const build_params_type& params = {});

    /// Exact top-k for one query among the documents `filter` accepts, best first. Throws Error for k == 0, an
    /// invalid query or invalid parameters (the index is unchanged).
    [[nodiscard]] SearchResults<id_type> search(const query_type& query, std::size_t k, const search_params_type& params = {},
                                                const IdFilter& filter = {}) const {
        SearchResults<id_type> out;
        search_into(query, k, out, params, filter);
        return out;
    }

    /// Same as search(), writing into `out` (its capacity is reused: no allocation once warmed up).
    void search_into(const query_type& query, std::size_t k, SearchResults<id_type>& out, const search_params_type& params = {},
                     const IdFilter& filter = {}) const;

    /// One result list per query row, computed by `threads` workers (0 = all cores). All queries are validated
    /// before any is searched.
    [[nodiscard]] std::vector<SearchResults<id_type>> search_batch(const batch_type& queries, std::size_t k, const search_params_type& params = {},
                                                                   std::size_t threads = 0, const IdFilter& filter = {}) const;

    /// Validates `query` once and returns its exact scorer (see PreparedQuery).
    [[nodiscard]] PreparedQuery prepare(const query_type& query) const;
    /// Exact inner product of the query with document `doc` (a convenience over prepare()).
    [[nodiscard]] float score(const query_type& query, id_type doc) const { return prepare(query)(doc); }

    /// Largest |stored - true| posting weight of a term (0 for f32).
    [[nodiscard]] float weight_error_bound(std::uint32_t term) const;
    /// Bound on |score from stored weights - exact score| for this query: sum over its terms of |q| * term bound.
    [[nodiscard]] double score_error_bound(const query_type& query) const;

    [[nodiscard]] std::size_t size() const noexcept { return docs_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] std::size_t nnz() const noexcept { return post_docs_.size(); }
    [[nodiscard]] WeightPrecision precision() const noexcept { return precision_; }
    [[nodiscard]] std::size_t block_size() const noexcept { return block_size_; }
    [[nodiscard]] std::size_t posting_count(std::uint32_t term) const noexcept {
        return term < dim_ ? static_cast<std::size_t>(term_offsets_[term + 1] - term_offsets_[term]) : 0;
    }
    /// Stored document vector (f32 forward index).
    [[nodiscard]] SparseVectorView<float> document(id_type doc) const {
        validate_id(doc, docs_, "InvertedIndex: document id");
        const auto b = fwd_indptr_[doc], e = fwd_indptr_[doc + 1];
        return {fwd_ids_.subspan(b, e - b), fwd_values_.subspan(b, e - b)};
    }
    /// The posting lists and the forward index, as the query algorithms read them.
    [[nodiscard]] PostingLists posting_lists() const noexcept {
        return {docs_, block_size_, precision_, term_offsets_, post_docs_, w_f32_, w_f16_, w_u8_, term_quant_, term_max_, term_min_,
                block_begin_, block_last_, block_max_, block_min_};
    }
    [[nodiscard]] ForwardIndexView forward_index() const noexcept { return {fwd_indptr_, fwd_ids_, fwd_values_}; }
    /// Bytes of all arrays (postings, block metadata, forward index).
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

    /// Writes the index to `path` atomically (temporary file + rename).
    void save(const std::string& path) const;
    /// Maps a file written by save(); the arrays stay in the mapping (no copy). Throws Error on a bad file.
    static InvertedIndex load(const std::string& path);

private:
    void check_query(const query_type& query, const char* where) const;
    static void check_params(const search_params_type& params);
    template <class Accept>
    void run_algorithm(ExactAlgorithm algorithm, const query_type& query, detail::ExactScratch& s, const Accept& accept) const;
    void scan_accepted(const query_type& query, const IdFilter& filter, detail::ExactScratch& s) const;

    std::shared_ptr<detail::ArrayStore> store_ = std::make_shared<detail::ArrayStore>();
    std::size_t docs_ = 0, dim_ = 0, block_size_ = 64;
    WeightPrecision precision_ = WeightPrecision::f32;
    std::span<const std::uint64_t> term_offsets_;  // dim + 1 (empty when dim == 0)
    std::span<const std::uint32_t> post_docs_;
    std::span<const float> w_f32_;
    std::span<const float16> w_f16_;
    std::span<const std::uint8_t> w_u8_;
    std::span<const float> term_quant_;            // u8: 2 per term (offset, step)
    std::span<const float> term_max_, term_min_;   // bounds over true and stored weights
    std::span<const std::uint64_t> block_begin_;   // dim + 1: first block of each term
    std::span<const std::uint32_t> block_last_;    // last doc id of each block
    std::span<const float> block_max_, block_min_;
    std::span<const std::uint64_t> fwd_indptr_;
    std::span<const std::uint32_t> fwd_ids_;
    std::span<const float> fwd_values_;
};

// ------------------------------------------------------------------------------------------------------------
// Build

namespace detail {

/// Posting lists being built: stored weights at the chosen precision, per-term bounds and block-max metadata.
struct InvertedIndexLists {
    std::vector<std::uint64_t> offsets;
    std::vector<std::uint32_t> docs;
    std::vector<float> w_f32;
    std::vector<float16> w_f16;
    std::vector<std::uint8_t> w_u8;
    std::vector<float> quant, term_max, term_min;
    std::vector<std::uint64_t> block_begin;
    std::vector<std::uint32_t> block_last;
    std::vector<float> block_max, block_min;
};

/// Encodes term t's weights (f16/u8) and fills its quantizer, bounds and blocks; bounds cover the true and the
/// stored weights.
inline void encode_term(InvertedIndexLists& l, std::size_t t, WeightPrecision precision, std::size_t block_size) {
    const std::uint64_t b = l.offsets[t], e = l.offsets[t + 1];
    if (b == e) return;
    ScalarQuantizer<std::uint8_t> quant;
    if (precision == WeightPrecision::u8) {
        quant = ScalarQuantizer<std::uint8_t>::fit(std::span<const float>(l.w_f32.data() + b, e - b));
        l.quant[2 * t] = quant.offset;
        l.quant[2 * t + 1] = quant.step;
    }
    auto stored = [&](std::uint64_t p) -> float {
        switch (precision) {
            case WeightPrecision::f16: return l.w_f16[p].to_float();
            case WeightPrecision::u8: return quant.offset + quant.step * static_cast<float>(l.w_u8[p]);
            default: return l.w_f32[p];
        }
    };
    float tmax = std::numeric_limits<float>::lowest(), tmin = std::numeric_limits<float>::max();
    for (std::uint64_t blk = l.block_begin[t]; blk < l.block_begin[t + 1]; ++blk) {
        const std::uint64_t pb = b + (blk - l.block_begin[t]) * block_size, pe = std::min<std::uint64_t>(e, pb + block_size);
        float bmax = std::numeric_limits<float>::lowest(), bmin = std::numeric_limits<float>::max();
        for (std::uint64_t p = pb; p < pe; ++p) {
            if (precision == WeightPrecision::f16) l.w_f16[p] = float16(l.w_f32[p]);
            if (precision == WeightPrecision::u8) l.w_u8[p] = quant.encode(l.w_f32[p]);
            const float x = l.w_f32[p], y = stored(p);
            bmax = std::max({bmax, x, y});
            bmin = std::min({bmin, x, y});
        }
        l.block_last[blk] = l.docs[pe - 1];
        l.block_max[blk] = bmax;
        l.block_min[blk] = bmin;
        tmax = std::max(tmax, bmax);
        tmin = std::min(tmin, bmin);
    }
    l.term_max[t] = tmax;
    l.term_min[t] = tmin;
}

/// The posting lists of `docs` (dimension `dim`), encoded at `precision` with blocks of `block_size` postings.
inline InvertedIndexLists build_lists(const CsrMatrixView<float>& docs, std::size_t dim, WeightPrecision precision, std::size_t block_size,
                                      std::size_t threads, ProgressReporter* progress = nullptr) {
    auto transposed = transpose_csr(docs, dim, threads);
    InvertedIndexLists l;
    l.offsets = std::move(transposed.offsets);
    l.docs = std::move(transposed.docs);
    l.w_f32 = std::move(transposed.weights);
    const std::size_t nnz = l.docs.size();
    l.term_max.assign(dim, 0.0f);
    l.term_min.assign(dim, 0.0f);
    if (precision == WeightPrecision::f16) l.w_f16.resize(nnz);
    if (precision == WeightPrecision::u8) {
        l.w_u8.resize(nnz);
        l.quant.assign(2 * dim, 0.0f);
    }
    l.block_begin.assign(dim + 1, 0);
    for (std::size_t t = 0; t < dim; ++t)
        l.block_begin[t + 1] = l.block_begin[t] + (l.offsets[t + 1] - l.offsets[t] + block_size - 1) / block_size;
    const std::size_t nblocks = l.block_begin[dim];
    l.block_last.resize(nblocks);
    l.block_max.resize(nblocks);
    l.block_min.resize(nblocks);
    parallel_for(dim, threads, 512, [&](std::size_t tb, std::size_t te, std::size_t) {
        for (std::size_t t = tb; t < te; ++t) encode_term(l, t, precision, block_size);
        if (progress) progress->advance(te - tb);
    });
    if (precision != WeightPrecision::f32) l.w_f32 = {};
    return l;
}

}  // namespace detail

inline InvertedIndex InvertedIndex::build(const batch_type& docs, const build_params_type& params) {
    if (params.block_size == 0) raise(ErrorKind::invalid_argument, "InvertedIndex: block_size must be > 0");
    if (params.block_size > (1u << 20)) raise(ErrorKind::invalid_argument, "InvertedIndex: block_size ", params.block_size, " is too large");
    if (params.precision != WeightPrecision::f32 && params.precision != WeightPrecision::f16 && params.precision != WeightPrecision::u8)
        raise(ErrorKind::invalid_argument, "InvertedIndex: unknown weight precision ", static_cast<int>(params.precision));
    docs.validate();
    if (docs.rows() >= std::numeric_limits<std::uint32_t>::max())
        raise(ErrorKind::out_of_range, "InvertedIndex: ", docs.rows(), " documents exceed the 2^32 - 1 limit");
    std::size_t dim = docs.cols;
    if (dim == 0)
        for (std::uint32_t id : docs.indices) dim = std::max<std::size_t>(dim, std::size_t{id} + 1);

    InvertedIndex index;
    index.docs_ = docs.rows();
    index.dim_ = dim;
    index.block_size_ = params.block_size;
    index.precision_ = params.precision;
    auto& st = *index.store_;

    // Forward index (a plain copy).
    std::vector<std::uint64_t> fwd_indptr(docs.indptr.begin(), docs.indptr.end());
    if (fwd_indptr.empty()) fwd_indptr.push_back(0);
    index.fwd_indptr_ = st.adopt(std::move(fwd_indptr));
    index.fwd_ids_ = st.adopt(std::vector<std::uint32_t>(docs.indices.begin(), docs.indices.end()));
    index.fwd_values_ = st.adopt(std::vector<float>(docs.values.begin(), docs.values.end()));

    ProgressReporter progress(params.progress, "encode_lists", dim);  // posting lists blocked and encoded
    auto l = detail::build_lists(docs, dim, params.precision, params.block_size, detail::resolve_threads(params.threads), &progress);
    progress.finish();
    index.term_offsets_ = st.adopt(std::move(l.offsets));
    index.post_docs_ = st.adopt(std::move(l.docs));
    index.w_f32_ = st.adopt(std::move(l.w_f32));
    index.w_f16_ = st.adopt(std::move(l.w_f16));
    index.w_u8_ = st.adopt(std::move(l.w_u8));
    index.term_quant_ = st.adopt(std::move(l.quant));
    index.term_max_ = st.adopt(std::move(l.term_max));
    index.term_min_ = st.adopt(std::move(l.term_min));
    index.block_begin_ = st.adopt(std::move(l.block_begin));
    index.block_last_ = st.adopt(std::move(l.block_last));
    index.block_max_ = st.adopt(std::move(l.block_max));
    index.block_min_ = st.adopt(std::move(l.block_min));
    return index;
}

// ------------------------------------------------------------------------------------------------------------
// Search

inline void InvertedIndex::check_query(const query_type& query, const char* where) const {
    validate_sparse(query.ids, query.values, dim_, -1, where);
    if (dim_ == 0 && !query.empty()) raise(ErrorKind::out_of_range, where, ": the index is empty (dimension 0)");
}

inline void InvertedIndex::check_params(const search_params_type& params) {
    if (static_cast<unsigned>(params.algorithm) > static_cast<unsigned>(ExactAlgorithm::document_at_a_time))
        raise(ErrorKind::invalid_argument, "InvertedIndex: unknown algorithm ", static_cast<int>(params.algorithm));
    if (!(params.exact_scan_fraction >= 0.0 && params.exact_scan_fraction <= 1.0))
        raise(ErrorKind::invalid_argument, "InvertedIndex: exact_scan_fraction = ", params.exact_scan_fraction, " must be in [0, 1]");
}

template <class Accept>
void InvertedIndex::run_algorithm(ExactAlgorithm algorithm, const query_type& query, detail::ExactScratch& s, const Accept& accept) const {
    with_weight_decoder(precision_, [&](auto decoder) {
        using Weights = typename decltype(decoder)::type;
        using Cursor = PostingCursor<Weights>;
        auto& storage = std::get<detail::ExactScratch::Cursors<Weights>>(s.cursors);
        open_cursors(posting_lists(), query, storage);
        const std::span<Cursor> cursors(storage);
        const ScoreAccumulator acc{s.acc.data(), s.bits.data()};
        switch (algorithm) {
            case ExactAlgorithm::document_at_a_time: sparsedense::document_at_a_time(cursors, s.top, accept); break;
            case ExactAlgorithm::maxscore: {
                if (cursors.empty()) break;
                const ScatteredQuery q(query, s.qdense);
                sparsedense::maxscore(cursors, MaxScoreBuffers{s.by_bound, s.essential, s.prefix, acc}, ForwardScorer{forward_index(), q.dense()},
                                      score_slack(cursors, query.size()), precision_ == WeightPrecision::f32, docs_, s.top, accept);
                break;
            }
            case ExactAlgorithm::block_max_wand: {
                if (cursors.empty()) break;
                const ScatteredQuery q(query, s.qdense);
                sparsedense::block_max_wand(cursors, std::get<detail::ExactScratch::Order<Weights>>(s.orders), ForwardScorer{forward_index(), q.dense()},
                                            score_slack(cursors, query.size()), s.top, accept);
                break;
            }
            default: sparsedense::term_at_a_time(cursors, acc, docs_, s.top, accept); break;
        }
    });
}

/// The few-accepted-documents plan: every accepted document sharing a query term, scored from the forward index.
inline void InvertedIndex::scan_accepted(const query_type& query, const IdFilter& filter, detail::ExactScratch& s) const {
    const ScatteredQuery q(query, s.qdense, s.query_terms);
    const ForwardIndexView forward = forward_index();
    const std::uint64_t* terms = q.term_bits();
    filter.for_each_accepted(docs_, [&](std::uint64_t id) {
        const auto d = static_cast<std::uint32_t>(id);
        bool overlap = false;
        const float score = forward.score(d, q.dense(), terms, overlap);
        if (overlap && s.top.would_enter(score)) s.top.push(d, score);
    });
}

inline void InvertedIndex::search_into(const query_type& query, std::size_t k, SearchResults<id_type>& out, const search_params_type& params,
                                       const IdFilter& filter) const {
    validate_k(k, "InvertedIndex::search");
    check_query(query, "InvertedIndex: query");
    check_params(params);
    out.clear();
    if (docs_ == 0 || query.empty()) return;
    k = std::min(k, docs_);  // k = SIZE_MAX means "every document"
    auto& s = detail::exact_scratch();
    s.ensure(dim_, std::max(docs_, kMaxScoreWindow), query.size());
    s.top.reset(k);
    if (use_exact_scan(filter, docs_, params.exact_scan_fraction)) scan_accepted(query, filter, s);
    else filter.visit([&](const auto& accept) { run_algorithm(params.algorithm, query, s, accept); });
    const auto hits = s.top.finalize();
    out.assign(hits.begin(), hits.end());
}

inline std::vector<SearchResults<InvertedIndex::id_type>> InvertedIndex::search_batch(const batch_type& queries, std::size_t k,
                                                                                     const search_params_type& params, std::size_t threads,
                                                                                     const IdFilter& filter) const {
    validate_k(k, "InvertedIndex::search_batch");
    check_params(params);
    if (queries.cols != 0 && dim_ != 0 && queries.cols != dim_)
        raise(ErrorKind::dimension_mismatch, "InvertedIndex::search_batch: queries have dimension ", queries.cols, ", the index ", dim_);
    CsrMatrixView<float> checked = queries;
    checked.cols = dim_;
    checked.validate();
    std::vector<SearchResults<id_type>> out(queries.rows());
    detail::parallel_for(queries.rows(), threads, 16, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params, filter);
    });
    return out;
}

inline InvertedIndex::PreparedQuery InvertedIndex::prepare(const query_type& query) const {
    check_query(query, "InvertedIndex: query");
    PreparedQuery p;
    p.forward_ = forward_index();
    p.docs_ = docs_;
    p.ids_.assign(query.ids.begin(), query.ids.end());
    p.values_.assign(query.values.begin(), query.values.end());
    return p;
}

inline float InvertedIndex::weight_error_bound(std::uint32_t term) const {
    validate_id(term, dim_, "InvertedIndex: term id");
    return posting_lists().weight_error(term);
}

inline double InvertedIndex::score_error_bound(const query_type& query) const {
    check_query(query, "InvertedIndex: query");
    double e = 0.0;
    for (std::size_t i = 0; i < query.size(); ++i) e += std::fabs(static_cast<double>(query.values[i])) * weight_error_bound(query.ids[i]);
    return e;
}

inline std::size_t InvertedIndex::memory_bytes() const noexcept {
    return term_offsets_.size_bytes() + post_docs_.size_bytes() + w_f32_.size_bytes() + w_f16_.size_bytes() + w_u8_.size_bytes() +
           term_quant_.size_bytes() + term_max_.size_bytes() + term_min_.size_bytes() + block_begin_.size_bytes() +
           block_last_.size_bytes() + block_max_.size_bytes() + block_min_.size_bytes() + fwd_indptr_.size_bytes() +
           fwd_ids_.size_bytes() + fwd_values_.size_bytes();
}


// ------------------------------------------------------------------------------------------------------------
// File format (kind "InvertedIndex", version 1), sections of io/binary_format.hpp:
//   meta          {u64 documents, u64 dimension, u64 block_size, u64 precision}
//   term_offsets  u64[dim + 1]   post_docs u32[nnz]   w_f32 | w_f16 | w_u8 [nnz] (the one of the precision)
//   term_quant    f32[2 dim] (u8 only)   term_max, term_min f32[dim]
//   block_begin   u64[dim + 1]   block_last u32[blocks]   block_max, block_min f32[blocks]
//   fwd_indptr    u64[docs + 1]  fwd_ids u32[nnz]   fwd_values f32[nnz]
// load() checks the container (magic, kind, version, sizes, checksums) and then the index's own invariants
// (offsets monotone and consistent, ids in range), so a damaged file is an Error, never a crash.

namespace detail {
struct InvertedIndexMeta {
    std::uint64_t docs, dim, block_size, precision;
};

}  // namespace detail

inline void InvertedIndex::save(const std::string& path) const {
    io::SectionWriter w("InvertedIndex", kFormatVersion);
    w.add_value("meta", detail::InvertedIndexMeta{docs_, dim_, block_size_, static_cast<std::uint64_t>(precision_)});
    w.add("term_offsets", term_offsets_);
    w.add("post_docs", post_docs_);
    w.add("w_f32", w_f32_);
    w.add("w_f16", w_f16_);
    w.add("w_u8", w_u8_);
    w.add("term_quant", term_quant_);
    w.add("term_max", term_max_);
    w.add("term_min", term_min_);
    w.add("block_begin", block_begin_);
    w.add("block_last", block_last_);
    w.add("block_max", block_max_);
    w.add("block_min", block_min_);
    w.add("fwd_indptr", fwd_indptr_);
    w.add("fwd_ids", fwd_ids_);
    w.add("fwd_values", fwd_values_);
    w.write(path);
}

inline InvertedIndex InvertedIndex::load(const std::string& path) {
    const io::SectionReader r(path, "InvertedIndex", kFormatVersion, kFormatVersion);
    const auto meta = r.value<detail::InvertedIndexMeta>("meta");
    if (meta.precision > 2) r.fail(ErrorKind::corrupt_file, "unknown weight precision ", meta.precision);
    if (meta.block_size == 0 || meta.block_size > (1u << 20)) r.fail(ErrorKind::corrupt_file, "bad block size ", meta.block_size);
    if (meta.docs >= std::numeric_limits<std::uint32_t>::max() || meta.dim >= (std::uint64_t{1} << 40))
        r.fail(ErrorKind::corrupt_file, "implausible sizes: ", meta.docs, " documents, dimension ", meta.dim);
    InvertedIndex index;
    index.docs_ = static_cast<std::size_t>(meta.docs);
    index.dim_ = static_cast<std::size_t>(meta.dim);
    index.block_size_ = static_cast<std::size_t>(meta.block_size);
    index.precision_ = static_cast<WeightPrecision>(meta.precision);
    const std::size_t dim = index.dim_, n = index.docs_;
    index.term_offsets_ = r.span<std::uint64_t>("term_offsets", dim + 1);
    index.post_docs_ = r.span<std::uint32_t>("post_docs");
    const std::size_t nnz = index.post_docs_.size();
    const bool f32 = index.precision_ == WeightPrecision::f32, f16 = index.precision_ == WeightPrecision::f16, u8 = index.precision_ == WeightPrecision::u8;
    index.w_f32_ = r.span<float>("w_f32", f32 ? nnz : 0);
    index.w_f16_ = r.span<float16>("w_f16", f16 ? nnz : 0);
    index.w_u8_ = r.span<std::uint8_t>("w_u8", u8 ? nnz : 0);
    index.term_quant_ = r.span<float>("term_quant", u8 ? 2 * dim : 0);
    index.term_max_ = r.span<float>("term_max", dim);
    index.term_min_ = r.span<float>("term_min", dim);
    index.block_begin_ = r.span<std::uint64_t>("block_begin", dim + 1);
    index.block_last_ = r.span<std::uint32_t>("block_last");
    const std::size_t nblocks = index.block_last_.size();
    index.block_max_ = r.span<float>("block_max", nblocks);
    index.block_min_ = r.span<float>("block_min", nblocks);
    index.fwd_indptr_ = r.span<std::uint64_t>("fwd_indptr", n + 1);
    index.fwd_ids_ = r.span<std::uint32_t>("fwd_ids", nnz);
    index.fwd_values_ = r.span<float>("fwd_values", nnz);
    detail::check_offsets(r, index.term_offsets_, nnz, "term_offsets");
    detail::check_offsets(r, index.block_begin_, nblocks, "block_begin");
    detail::check_offsets(r, index.fwd_indptr_, nnz, "fwd_indptr");
    for (std::size_t t = 0; t < dim; ++t) {
        const std::uint64_t len = index.term_offsets_[t + 1] - index.term_offsets_[t];
        if (index.block_begin_[t + 1] - index.block_begin_[t] != (len + meta.block_size - 1) / meta.block_size)
            r.fail(ErrorKind::corrupt_file, "block count of term ", t, " does not match its posting count");
    }
    detail::check_below(r, index.post_docs_, n, "post_docs");
    for (std::size_t t = 0; t < dim; ++t) {
        const std::uint64_t b = index.term_offsets_[t], e = index.term_offsets_[t + 1];
        for (std::uint64_t p = b + 1; p < e; ++p)
            if (index.post_docs_[p] <= index.post_docs_[p - 1]) r.fail(ErrorKind::corrupt_file, "posting list of term ", t, " is not in document order");
        for (std::uint64_t blk = index.block_begin_[t]; blk < index.block_begin_[t + 1]; ++blk) {
            const std::uint64_t last = std::min<std::uint64_t>(e, b + (blk - index.block_begin_[t] + 1) * meta.block_size) - 1;
            if (index.block_last_[blk] != index.post_docs_[last]) r.fail(ErrorKind::corrupt_file, "block ", blk, " has a wrong last document");
        }
    }
    detail::check_below(r, index.fwd_ids_, dim, "fwd_ids");
    index.store_->keep(r.file());
    return index;
}

}  // namespace sparsedense
