// sparsedense/sparse/inverted_index.hpp
//
// InvertedIndex: the exact learned-sparse index. Score = inner product of the query and document vectors;
// results are exactly the brute-force top-k (brute_force.hpp): documents that share at least one term with the
// query, best first, ties by smaller document id.
//
// Layout. One posting list per term: document ids in increasing order, weights at the chosen precision
// (f32; f16; or u8 with a per-term affine quantizer, |stored - true| <= step/2 = (max - min) / 510 of that term),
// cut into blocks of `block_size` postings with per-block last id and max/min weight (the block-max metadata of
// Ding & Suel, SIGIR 2011). Besides the lists, a forward index keeps every document's terms and f32 weights, so
// score() is exact and the pruned algorithms rescore candidates exactly.
//
// Algorithms (InvertedIndexSearchParams::algorithm):
//  * maxscore: MaxScore (Turtle & Flood 1995) in the windowed form popularized by
//    Lucene: query terms sorted by their upper bound; the longest prefix whose summed bounds cannot reach the
//    current k-th score is "non-essential". The essential lists are scanned term-at-a-time into a 4,096-document
//    window accumulator; a document in the window becomes a candidate when its partial score plus the
//    non-essential bound can still beat the k-th score, and is then scored exactly from the forward index.
//    As the threshold rises, more lists become non-essential and are never read again.
//  * block_max_wand: Block-Max WAND (Ding & Suel 2011) with pivot selection on list bounds, a block-max check,
//    and skipping to the end of the shallowest block; candidates scored from the forward index.
//  * term_at_a_time (the default, `automatic`: fastest on the collections measured, see docs/sparse.md):
//    exhaustive scan of every query list into a float accumulator per document.
//  * document_at_a_time: exhaustive merge of every query list, one document at a time.
// maxscore and block_max_wand return exact f32 scores at every posting precision (their bounds are taken over
// both the true and the stored weights, and the candidates are rescored from the f32 forward index);
// term_at_a_time and document_at_a_time sum the stored weights, so with f16/u8 a score can be off by
// score_error_bound(query). With f32 postings every algorithm sums in ascending term order, bit-identical to
// brute_force_search.
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
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/sparse/detail/file_checks.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/core/array_store.hpp"
#include "sparsedense/sparse/detail/transpose.hpp"

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
};

struct InvertedIndexSearchParams {
    ExactAlgorithm algorithm = ExactAlgorithm::automatic;
};

namespace detail {

/// Per-thread scratch of the exact index: grows to the largest index used on the thread, then is reused.
struct ExactScratch {
    struct Term {
        std::uint32_t term;
        float q;
        float ub;      // max over postings of max(0, q * w) (true and stored weights)
        float err;     // |q| * stored-weight error bound of the term
        std::uint64_t pos, end;
        std::uint64_t blk, blk_end;
    };
    std::vector<float> qdense;          // dimension-sized, all zero between queries
    std::vector<float> acc;             // documents (TAAT) or window-sized accumulator, all zero between queries
    std::vector<std::uint64_t> bits;    // touched documents, all zero between queries
    std::vector<Term> terms;
    std::vector<std::uint32_t> order;
    std::vector<double> prefix;
    TopKCollector<> top{1};

    void ensure(std::size_t dimension, std::size_t docs, std::size_t query_terms) {
        if (qdense.size() < dimension) qdense.resize(dimension, 0.0f);
        if (acc.size() < docs) acc.resize(docs, 0.0f);
        if (bits.size() < (docs + 63) / 64) bits.resize((docs + 63) / 64, 0);
        if (terms.capacity() < query_terms) terms.reserve(query_terms);
        if (order.capacity() < query_terms) order.reserve(query_terms);
        if (prefix.capacity() < query_terms) prefix.reserve(query_terms);
    }
};

inline ExactScratch& exact_scratch() {
    thread_local ExactScratch scratch;
    return scratch;
}

inline constexpr std::size_t maxscore_window = 4096;

}  // namespace detail

class InvertedIndex {
public:
    InvertedIndex() = default;

    /// Builds the index over the rows of `docs` (document id = row number). Validates the input first
    /// (Error on unsorted/duplicate term ids, non-finite weights, ids >= docs.cols when cols is set).
    static InvertedIndex build(CsrMatrixView<float> docs, InvertedIndexBuildParams params = {});

    /// Exact top-k for one query, best first. Throws Error for k == 0 or an invalid query (the index is unchanged).
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> query, std::size_t k, InvertedIndexSearchParams params = {}) const {
        SearchResults<> out;
        search_into(query, k, out, params);
        return out;
    }

    /// Same as search(), writing into `out` (its capacity is reused: no allocation once warmed up).
    void search_into(SparseVectorView<float> query, std::size_t k, SearchResults<>& out, InvertedIndexSearchParams params = {}) const;

    /// One result list per query row, computed by `threads` workers (0 = all cores). All queries are validated
    /// before any is searched.
    [[nodiscard]] std::vector<SearchResults<>> search_batch(CsrMatrixView<float> queries, std::size_t k,
                                                            InvertedIndexSearchParams params = {}, std::size_t threads = 0) const;

    /// Exact inner product of the query with document `doc` (from the f32 forward index).
    [[nodiscard]] float score(SparseVectorView<float> query, std::uint32_t doc) const;

    /// Largest |stored - true| posting weight of a term (0 for f32).
    [[nodiscard]] float weight_error_bound(std::uint32_t term) const;
    /// Bound on |score from stored weights - exact score| for this query: sum over its terms of |q| * term bound.
    [[nodiscard]] double score_error_bound(SparseVectorView<float> query) const;

    [[nodiscard]] std::size_t size() const noexcept { return docs_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] std::size_t nnz() const noexcept { return post_docs_.size(); }
    [[nodiscard]] WeightPrecision precision() const noexcept { return precision_; }
    [[nodiscard]] std::size_t block_size() const noexcept { return block_size_; }
    [[nodiscard]] std::size_t posting_count(std::uint32_t term) const noexcept {
        return term < dim_ ? static_cast<std::size_t>(term_offsets_[term + 1] - term_offsets_[term]) : 0;
    }
    /// Stored document vector (f32 forward index).
    [[nodiscard]] SparseVectorView<float> document(std::uint32_t doc) const {
        validate_id(doc, docs_, "document id");
        const auto b = fwd_indptr_[doc], e = fwd_indptr_[doc + 1];
        return {fwd_ids_.subspan(b, e - b), fwd_values_.subspan(b, e - b)};
    }
    /// Bytes of all arrays (postings, block metadata, forward index).
    [[nodiscard]] std::size_t memory_bytes() const noexcept;

    /// Writes the index to `path` atomically (temporary file + rename).
    void save(const std::string& path) const;
    /// Maps a file written by save(); the arrays stay in the mapping (no copy). Throws Error on a bad file.
    static InvertedIndex load(const std::string& path);

private:
    template <class Fn>
    decltype(auto) with_weights(Fn&& fn) const;
    void check_query(SparseVectorView<float> query, std::size_t k) const;
    [[nodiscard]] float forward_score(std::uint32_t doc, const float* qdense) const noexcept {
        const std::uint64_t b = fwd_indptr_[doc], e = fwd_indptr_[doc + 1];
        const std::uint32_t* ids = fwd_ids_.data();
        const float* v = fwd_values_.data();
        float s = 0.0f;
        for (std::uint64_t p = b; p < e; ++p) s += qdense[ids[p]] * v[p];
        return s;
    }
    void prepare_terms(SparseVectorView<float> query, detail::ExactScratch& s) const;
    void run_taat(SparseVectorView<float> query, detail::ExactScratch& s) const;
    void run_daat(SparseVectorView<float> query, detail::ExactScratch& s) const;
    void run_maxscore(SparseVectorView<float> query, detail::ExactScratch& s) const;
    void run_bmw(SparseVectorView<float> query, detail::ExactScratch& s) const;
    void finish(detail::ExactScratch& s, SearchResults<>& out) const;
    void assign_views();

    friend struct InvertedIndexFile;

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
// Implementation

namespace detail {

struct WeightsF32 {
    const float* w;
    float operator()(std::uint64_t p) const noexcept { return w[p]; }
};
struct WeightsF16 {
    const float16* w;
    float operator()(std::uint64_t p) const noexcept { return w[p].to_float(); }
};
struct WeightsU8 {
    const std::uint8_t* w;
    float offset, step;
    float operator()(std::uint64_t p) const noexcept { return offset + step * static_cast<float>(w[p]); }
};

inline float positive_part_bound(float q, float wmax, float wmin) noexcept {
    return std::max(0.0f, std::max(q * wmax, q * wmin));
}

}  // namespace detail

inline InvertedIndex InvertedIndex::build(CsrMatrixView<float> docs, InvertedIndexBuildParams params) {
    if (params.block_size == 0) raise(ErrorKind::invalid_argument, "InvertedIndex: block_size must be > 0");
    if (params.block_size > (1u << 20)) raise(ErrorKind::invalid_argument, "InvertedIndex: block_size ", params.block_size, " is too large");
    if (params.precision != WeightPrecision::f32 && params.precision != WeightPrecision::f16 && params.precision != WeightPrecision::u8)
        raise(ErrorKind::invalid_argument, "InvertedIndex: unknown weight precision");
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
    const std::size_t nnz = docs.nnz();
    const std::size_t threads = detail::resolve_threads(params.threads);
    const std::size_t B = params.block_size;

    // Forward index (a plain copy).
    std::vector<std::uint64_t> fwd_indptr(docs.indptr.begin(), docs.indptr.end());
    if (fwd_indptr.empty()) fwd_indptr.push_back(0);
    std::vector<std::uint32_t> fwd_ids(docs.indices.begin(), docs.indices.end());
    std::vector<float> fwd_values(docs.values.begin(), docs.values.end());

    // Posting lists in document order.
    auto lists = detail::transpose_csr(docs, dim, threads);
    std::vector<std::uint64_t> term_offsets = std::move(lists.offsets);
    std::vector<std::uint32_t> post_docs = std::move(lists.docs);
    std::vector<float> post_w = std::move(lists.weights);

    // Stored weights, term bounds, blocks.
    std::vector<float> term_quant, term_max(dim, 0.0f), term_min(dim, 0.0f);
    std::vector<float16> w16;
    std::vector<std::uint8_t> w8;
    if (params.precision == WeightPrecision::f16) w16.resize(nnz);
    if (params.precision == WeightPrecision::u8) {
        w8.resize(nnz);
        term_quant.assign(2 * dim, 0.0f);
    }
    std::vector<std::uint64_t> block_begin(dim + 1, 0);
    for (std::size_t t = 0; t < dim; ++t) block_begin[t + 1] = block_begin[t] + (term_offsets[t + 1] - term_offsets[t] + B - 1) / B;
    const std::size_t nblocks = block_begin[dim];
    std::vector<std::uint32_t> block_last(nblocks);
    std::vector<float> block_max(nblocks), block_min(nblocks);
    detail::parallel_for(dim, threads, 512, [&](std::size_t tb, std::size_t te, std::size_t) {
        for (std::size_t t = tb; t < te; ++t) {
            const std::uint64_t b = term_offsets[t], e = term_offsets[t + 1];
            if (b == e) continue;
            ScalarQuantizer<std::uint8_t> quant;
            if (params.precision == WeightPrecision::u8) {
                quant = ScalarQuantizer<std::uint8_t>::fit(std::span<const float>(post_w.data() + b, e - b));
                term_quant[2 * t] = quant.offset;
                term_quant[2 * t + 1] = quant.step;
            }
            auto stored = [&](std::uint64_t p) -> float {
                switch (params.precision) {
                    case WeightPrecision::f16: return w16[p].to_float();
                    case WeightPrecision::u8: return quant.offset + quant.step * static_cast<float>(w8[p]);
                    default: return post_w[p];
                }
            };
            float tmax = std::numeric_limits<float>::lowest(), tmin = std::numeric_limits<float>::max();
            for (std::uint64_t blk = block_begin[t]; blk < block_begin[t + 1]; ++blk) {
                const std::uint64_t pb = b + (blk - block_begin[t]) * B, pe = std::min<std::uint64_t>(e, pb + B);
                float bmax = std::numeric_limits<float>::lowest(), bmin = std::numeric_limits<float>::max();
                for (std::uint64_t p = pb; p < pe; ++p) {
                    if (params.precision == WeightPrecision::f16) w16[p] = float16(post_w[p]);
                    if (params.precision == WeightPrecision::u8) w8[p] = quant.encode(post_w[p]);
                    const float x = post_w[p], y = stored(p);
                    bmax = std::max({bmax, x, y});
                    bmin = std::min({bmin, x, y});
                }
                block_last[blk] = post_docs[pe - 1];
                block_max[blk] = bmax;
                block_min[blk] = bmin;
                tmax = std::max(tmax, bmax);
                tmin = std::min(tmin, bmin);
            }
            term_max[t] = tmax;
            term_min[t] = tmin;
        }
    });

    auto& st = *index.store_;
    index.term_offsets_ = st.adopt(std::move(term_offsets));
    index.post_docs_ = st.adopt(std::move(post_docs));
    if (params.precision == WeightPrecision::f32) index.w_f32_ = st.adopt(std::move(post_w));
    else post_w = {};
    index.w_f16_ = st.adopt(std::move(w16));
    index.w_u8_ = st.adopt(std::move(w8));
    index.term_quant_ = st.adopt(std::move(term_quant));
    index.term_max_ = st.adopt(std::move(term_max));
    index.term_min_ = st.adopt(std::move(term_min));
    index.block_begin_ = st.adopt(std::move(block_begin));
    index.block_last_ = st.adopt(std::move(block_last));
    index.block_max_ = st.adopt(std::move(block_max));
    index.block_min_ = st.adopt(std::move(block_min));
    index.fwd_indptr_ = st.adopt(std::move(fwd_indptr));
    index.fwd_ids_ = st.adopt(std::move(fwd_ids));
    index.fwd_values_ = st.adopt(std::move(fwd_values));
    return index;
}

template <class Fn>
decltype(auto) InvertedIndex::with_weights(Fn&& fn) const {
    switch (precision_) {
        case WeightPrecision::f16: return fn([this](std::uint32_t) { return detail::WeightsF16{w_f16_.data()}; });
        case WeightPrecision::u8:
            return fn([this](std::uint32_t t) { return detail::WeightsU8{w_u8_.data(), term_quant_[2 * t], term_quant_[2 * t + 1]}; });
        default: return fn([this](std::uint32_t) { return detail::WeightsF32{w_f32_.data()}; });
    }
}

inline void InvertedIndex::check_query(SparseVectorView<float> query, std::size_t k) const {
    validate_k(k, "InvertedIndex::search");
    query.validate(dim_ == 0 ? 0 : dim_, -1);
    if (dim_ == 0 && !query.empty()) raise(ErrorKind::out_of_range, "InvertedIndex::search: the index is empty (dimension 0)");
}

inline float InvertedIndex::weight_error_bound(std::uint32_t term) const {
    validate_id(term, dim_, "term id");
    switch (precision_) {
        case WeightPrecision::f16: {
            const float m = std::max(std::fabs(term_max_[term]), std::fabs(term_min_[term]));
            return m * 0x1p-11f + 0x1p-25f;
        }
        case WeightPrecision::u8: return term_quant_.empty() ? 0.0f : term_quant_[2 * term + 1] * 0.5f;
        default: return 0.0f;
    }
}

inline double InvertedIndex::score_error_bound(SparseVectorView<float> query) const {
    query.validate(dim_, -1);
    double e = 0.0;
    for (std::size_t i = 0; i < query.size(); ++i) e += std::fabs(static_cast<double>(query.values[i])) * weight_error_bound(query.ids[i]);
    return e;
}

inline float InvertedIndex::score(SparseVectorView<float> query, std::uint32_t doc) const {
    validate_id(doc, docs_, "InvertedIndex::score: document id");
    query.validate(dim_, -1);
    const auto d = document(doc);
    float s = 0.0f;
    std::size_t i = 0, j = 0;
    while (i < query.size() && j < d.size()) {
        if (query.ids[i] == d.ids[j]) s += query.values[i++] * d.values[j++];
        else if (query.ids[i] < d.ids[j]) ++i;
        else ++j;
    }
    return s;
}

inline std::size_t InvertedIndex::memory_bytes() const noexcept {
    return term_offsets_.size_bytes() + post_docs_.size_bytes() + w_f32_.size_bytes() + w_f16_.size_bytes() + w_u8_.size_bytes() +
           term_quant_.size_bytes() + term_max_.size_bytes() + term_min_.size_bytes() + block_begin_.size_bytes() +
           block_last_.size_bytes() + block_max_.size_bytes() + block_min_.size_bytes() + fwd_indptr_.size_bytes() +
           fwd_ids_.size_bytes() + fwd_values_.size_bytes();
}

inline void InvertedIndex::prepare_terms(SparseVectorView<float> query, detail::ExactScratch& s) const {
    s.terms.clear();
    for (std::size_t i = 0; i < query.size(); ++i) {
        const std::uint32_t t = query.ids[i];
        const std::uint64_t b = term_offsets_[t], e = term_offsets_[t + 1];
        if (b == e) continue;
        const float q = query.values[i];
        detail::ExactScratch::Term term{};
        term.term = t;
        term.q = q;
        term.ub = detail::positive_part_bound(q, term_max_[t], term_min_[t]);
        term.err = std::fabs(q) * weight_error_bound(t);
        term.pos = b;
        term.end = e;
        term.blk = block_begin_[t];
        term.blk_end = block_begin_[t + 1];
        s.terms.push_back(term);
    }
}

inline void InvertedIndex::finish(detail::ExactScratch& s, SearchResults<>& out) const {
    const auto hits = s.top.finalize();
    out.assign(hits.begin(), hits.end());
}

inline void InvertedIndex::run_taat(SparseVectorView<float> query, detail::ExactScratch& s) const {
    (void)query;
    float* acc = s.acc.data();
    std::uint64_t* bits = s.bits.data();
    const std::uint32_t* pd = post_docs_.data();
    with_weights([&](auto weights_of) {
        for (const auto& term : s.terms) {
            const auto w = weights_of(term.term);
            const float q = term.q;
            for (std::uint64_t p = term.pos; p < term.end; ++p) {
                const std::uint32_t d = pd[p];
                acc[d] += q * w(p);
                bits[d >> 6] |= std::uint64_t{1} << (d & 63);
            }
        }
        return 0;
    });
    const std::size_t words = (docs_ + 63) / 64;
    for (std::size_t wi = 0; wi < words; ++wi) {
        std::uint64_t word = bits[wi];
        if (!word) continue;
        bits[wi] = 0;
        while (word) {
            const std::uint32_t d = static_cast<std::uint32_t>(wi * 64 + static_cast<std::size_t>(__builtin_ctzll(word)));
            word &= word - 1;
            const float sc = acc[d];
            acc[d] = 0.0f;
            if (s.top.would_enter(sc)) s.top.push(d, sc);
        }
    }
}

inline void InvertedIndex::run_daat(SparseVectorView<float> query, detail::ExactScratch& s) const {
    (void)query;
    const std::uint32_t* pd = post_docs_.data();
    auto& terms = s.terms;  // in ascending term order (query order)
    with_weights([&](auto weights_of) {
        while (true) {
            std::uint32_t d = std::numeric_limits<std::uint32_t>::max();
            bool any = false;
            for (const auto& t : terms)
                if (t.pos < t.end) {
                    d = std::min(d, pd[t.pos]);
                    any = true;
                }
            if (!any) break;
            float sc = 0.0f;
            for (auto& t : terms)
                if (t.pos < t.end && pd[t.pos] == d) {
                    sc += t.q * weights_of(t.term)(t.pos);
                    ++t.pos;
                }
            if (s.top.would_enter(sc)) s.top.push(d, sc);
        }
        return 0;
    });
}

inline void InvertedIndex::run_maxscore(SparseVectorView<float> query, detail::ExactScratch& s) const {
    auto& terms = s.terms;
    const std::size_t m = terms.size();
    if (m == 0) return;
    // Sort by upper bound (ascending); prefix sums give the non-essential bound.
    std::sort(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.ub < b.ub || (a.ub == b.ub && a.term < b.term); });
    s.prefix.clear();
    double running = 0.0, abs_total = 0.0;
    for (const auto& t : terms) {
        running += t.ub;
        s.prefix.push_back(running);
        abs_total += std::fabs(static_cast<double>(t.q)) *
                     std::max(std::fabs(static_cast<double>(term_max_[t.term])), std::fabs(static_cast<double>(term_min_[t.term])));
    }
    // Float summation error of any score is below this (scores are sums of <= query-size products).
    const double slack = abs_total * static_cast<double>(query.size() + 2) * 0x1p-23;
    float* qd = s.qdense.data();
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = query.values[i];

    const bool exact_partials = precision_ == WeightPrecision::f32;
    std::size_t n_ne = 0;
    double ne_ub = 0.0, ess_err = 0.0;
    auto& ess = s.order;  // essential term indices, in ascending term id
    auto rebuild = [&]() {
        ess.clear();
        for (std::size_t i = n_ne; i < m; ++i) ess.push_back(static_cast<std::uint32_t>(i));
        std::sort(ess.begin(), ess.end(), [&](std::uint32_t a, std::uint32_t b) { return terms[a].term < terms[b].term; });
        ess_err = 0.0;
        for (auto i : ess) ess_err += terms[i].err;
        ne_ub = n_ne ? s.prefix[n_ne - 1] : 0.0;
    };
    auto refresh = [&]() {
        if (!s.top.full()) return;
        const double th = s.top.threshold();
        const std::size_t before = n_ne;
        while (n_ne < m && s.prefix[n_ne] + slack < th) ++n_ne;
        if (n_ne != before) rebuild();
    };
    rebuild();

    float* acc = s.acc.data();
    std::uint64_t* bits = s.bits.data();
    const std::uint32_t* pd = post_docs_.data();
    constexpr std::size_t W = detail::maxscore_window;
    with_weights([&](auto weights_of) {
        while (n_ne < m) {
            std::uint32_t start = std::numeric_limits<std::uint32_t>::max();
            for (auto i : ess)
                if (terms[i].pos < terms[i].end) start = std::min(start, pd[terms[i].pos]);
            if (start == std::numeric_limits<std::uint32_t>::max()) break;
            const std::uint64_t wend = std::min<std::uint64_t>(docs_, std::uint64_t{start} + W);
            for (auto i : ess) {
                auto& t = terms[i];
                const auto w = weights_of(t.term);
                const float q = t.q;
                std::uint64_t p = t.pos;
                for (; p < t.end && pd[p] < wend; ++p) {
                    const std::uint32_t off = pd[p] - start;
                    acc[off] += q * w(p);
                    bits[off >> 6] |= std::uint64_t{1} << (off & 63);
                }
                t.pos = p;
            }
            const bool partials_are_scores = exact_partials && n_ne == 0;
            const double bound_extra = ne_ub + ess_err + slack;
            const std::size_t words = (wend - start + 63) / 64;
            for (std::size_t wi = 0; wi < words; ++wi) {
                std::uint64_t word = bits[wi];
                if (!word) continue;
                bits[wi] = 0;
                while (word) {
                    const std::uint32_t off = static_cast<std::uint32_t>(wi * 64 + static_cast<std::size_t>(__builtin_ctzll(word)));
                    word &= word - 1;
                    const float partial = acc[off];
                    acc[off] = 0.0f;
                    const std::uint32_t d = start + off;
                    if (partials_are_scores) {
                        if (s.top.would_enter(partial)) s.top.push(d, partial);
                    } else if (!s.top.full() || static_cast<double>(partial) + bound_extra >= static_cast<double>(s.top.threshold())) {
                        const float sc = forward_score(d, qd);
                        if (s.top.would_enter(sc)) s.top.push(d, sc);
                    }
                }
            }
            refresh();
        }
        return 0;
    });
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = 0.0f;
}

inline void InvertedIndex::run_bmw(SparseVectorView<float> query, detail::ExactScratch& s) const {
    auto& terms = s.terms;
    const std::size_t m = terms.size();
    if (m == 0) return;
    double abs_total = 0.0;
    for (const auto& t : terms)
        abs_total += std::fabs(static_cast<double>(t.q)) *
                     std::max(std::fabs(static_cast<double>(term_max_[t.term])), std::fabs(static_cast<double>(term_min_[t.term])));
    const double slack = abs_total * static_cast<double>(query.size() + 2) * 0x1p-23;
    float* qd = s.qdense.data();
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = query.values[i];

    constexpr std::uint32_t END = std::numeric_limits<std::uint32_t>::max();
    const std::uint32_t* pd = post_docs_.data();
    const std::size_t B = block_size_;
    auto doc_of = [&](const detail::ExactScratch::Term& t) { return t.pos < t.end ? pd[t.pos] : END; };
    auto shallow = [&](detail::ExactScratch::Term& t, std::uint32_t target) {
        while (t.blk < t.blk_end && block_last_[t.blk] < target) ++t.blk;
    };
    auto next_geq = [&](detail::ExactScratch::Term& t, std::uint32_t target) {
        shallow(t, target);
        if (t.blk == t.blk_end) {
            t.pos = t.end;
            return;
        }
        const std::uint64_t first = term_offsets_[t.term] + (t.blk - block_begin_[t.term]) * B;
        if (t.pos < first) t.pos = first;
        while (t.pos < t.end && pd[t.pos] < target) ++t.pos;
    };
    auto block_ub = [&](const detail::ExactScratch::Term& t) {
        return t.blk < t.blk_end ? detail::positive_part_bound(t.q, block_max_[t.blk], block_min_[t.blk]) : 0.0f;
    };
    auto by_doc = [&](const detail::ExactScratch::Term& a, const detail::ExactScratch::Term& b) { return doc_of(a) < doc_of(b); };
    std::sort(terms.begin(), terms.end(), by_doc);
    while (true) {
        // keep sorted by current doc (insertion sort: few positions change per step)
        for (std::size_t i = 1; i < m; ++i)
            for (std::size_t j = i; j > 0 && by_doc(terms[j], terms[j - 1]); --j) std::swap(terms[j], terms[j - 1]);
        const double th = s.top.full() ? static_cast<double>(s.top.threshold()) : -std::numeric_limits<double>::infinity();
        double bound = 0.0;
        std::size_t p = m;
        for (std::size_t i = 0; i < m; ++i) {
            if (doc_of(terms[i]) == END) break;
            bound += terms[i].ub;
            if (bound + slack >= th) {
                p = i;
                break;
            }
        }
        if (p == m) break;
        const std::uint32_t pivot = doc_of(terms[p]);
        while (p + 1 < m && doc_of(terms[p + 1]) == pivot) ++p;
        double block_bound = 0.0;
        for (std::size_t i = 0; i <= p; ++i) {
            shallow(terms[i], pivot);
            block_bound += block_ub(terms[i]);
        }
        if (block_bound + slack >= th) {
            if (doc_of(terms[0]) == pivot) {
                const float sc = forward_score(pivot, qd);
                if (s.top.would_enter(sc)) s.top.push(pivot, sc);
                for (std::size_t i = 0; i <= p; ++i) ++terms[i].pos;
            } else {
                for (std::size_t i = 0; i < p; ++i)
                    if (doc_of(terms[i]) < pivot) next_geq(terms[i], pivot);
            }
        } else {
            std::uint64_t next = p + 1 < m ? doc_of(terms[p + 1]) : END;
            for (std::size_t i = 0; i <= p; ++i)
                if (terms[i].blk < terms[i].blk_end) next = std::min<std::uint64_t>(next, std::uint64_t{block_last_[terms[i].blk]} + 1);
            if (next <= pivot) next = std::uint64_t{pivot} + 1;  // cannot happen; guards progress
            for (std::size_t i = 0; i <= p; ++i) {
                if (next >= END) terms[i].pos = terms[i].end;
                else if (doc_of(terms[i]) < next) next_geq(terms[i], static_cast<std::uint32_t>(next));
            }
        }
    }
    for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = 0.0f;
}

inline void InvertedIndex::search_into(SparseVectorView<float> query, std::size_t k, SearchResults<>& out, InvertedIndexSearchParams params) const {
    check_query(query, k);
    out.clear();
    if (docs_ == 0 || query.empty()) return;
    k = std::min(k, docs_);  // k = SIZE_MAX means "every document"
    auto& s = detail::exact_scratch();
    s.ensure(dim_, std::max(docs_, detail::maxscore_window), query.size());
    s.top.reset(k);
    prepare_terms(query, s);
    switch (params.algorithm) {
        case ExactAlgorithm::document_at_a_time: run_daat(query, s); break;
        case ExactAlgorithm::block_max_wand: run_bmw(query, s); break;
        case ExactAlgorithm::automatic:
        case ExactAlgorithm::term_at_a_time: run_taat(query, s); break;
        case ExactAlgorithm::maxscore: run_maxscore(query, s); break;
        default: raise(ErrorKind::invalid_argument, "InvertedIndex::search: unknown algorithm ", static_cast<int>(params.algorithm));
    }
    finish(s, out);
}

inline std::vector<SearchResults<>> InvertedIndex::search_batch(CsrMatrixView<float> queries, std::size_t k, InvertedIndexSearchParams params,
                                                                std::size_t threads) const {
    validate_k(k, "InvertedIndex::search_batch");
    if (queries.cols != 0 && dim_ != 0 && queries.cols != dim_)
        raise(ErrorKind::dimension_mismatch, "InvertedIndex::search_batch: queries have dimension ", queries.cols, ", the index ", dim_);
    CsrMatrixView<float> checked = queries;
    checked.cols = dim_;
    checked.validate();
    std::vector<SearchResults<>> out(queries.rows());
    detail::parallel_for(queries.rows(), threads, 16, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params);
    });
    return out;
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
inline constexpr std::uint32_t inverted_index_format_version = 1;

}  // namespace detail

inline void InvertedIndex::save(const std::string& path) const {
    io::SectionWriter w("InvertedIndex", detail::inverted_index_format_version);
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
    const io::SectionReader r(path, "InvertedIndex", detail::inverted_index_format_version, detail::inverted_index_format_version);
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
