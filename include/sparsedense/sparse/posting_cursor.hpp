// sparsedense/sparse/posting_cursor.hpp
//
// The posting-cursor layer the exact query algorithms are written against (term_at_a_time.hpp,
// document_at_a_time.hpp, maxscore.hpp, block_max_wand.hpp), as PISA separates its cursors from its algorithms:
//
//   PostingLists        a read-only view of an index's posting lists: document ids in increasing order, weights at
//                       one precision, and the block-max metadata (per block of `block_size` postings: its last
//                       document id and the max/min weight in it, Ding & Suel, SIGIR 2011).
//   F32Weights, F16Weights, U8Weights
//                       per-precision weight decoders: decoder(position) is the stored weight of a posting as float
//                       (u8 uses the term's affine quantizer: offset + step * code).
//   PostingCursor<W>    a cursor over one query term's list: the current document (docid(), kEndOfList when done),
//                       next() / next_geq(target) (skipping whole blocks by their last id), the term's score bound
//                       max_score() and its block-max counterpart (block_max_geq(target), block_max_score()).
//   open_cursors()      one cursor per query term (PISA's make_*_cursors).
//   ForwardIndexView    every document's terms and f32 weights: the exact score the pruned algorithms rescore with.
//   ScatteredQuery, ForwardScorer
//                       a query scattered into a dense vector, scoring documents from the forward index.
//   score_slack()       the one bound on float summation error the pruned algorithms add to their upper bounds.
//
// Idea. An algorithm only needs "where is this list, what does it score here, how much can it score at most",
// whatever the posting encoding; the decoders are template parameters, so the hot loops are compiled once per
// precision and decode inline. Bounds are taken over both the true and the stored weights (the index builds them
// so), which keeps the pruned algorithms exact when they rescore candidates from the f32 forward index.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "sparsedense/core/value_types.hpp"

namespace sparsedense {

/// docid() of a cursor past the end of its list (greater than every document id).
inline constexpr std::uint32_t kEndOfList = std::numeric_limits<std::uint32_t>::max();

/// Read-only view of the posting lists of an index (term t owns postings offsets[t] .. offsets[t + 1]).
struct PostingLists {
    std::size_t num_docs = 0;
    std::size_t block_size = 64;
    WeightPrecision precision = WeightPrecision::f32;
    std::span<const std::uint64_t> offsets;      // dim + 1
    std::span<const std::uint32_t> docs;         // nnz, increasing within a list
    std::span<const float> w_f32;                // nnz when f32
    std::span<const float16> w_f16;              // nnz when f16
    std::span<const std::uint8_t> w_u8;          // nnz when u8
    std::span<const float> quant;                // u8: (offset, step) per term
    std::span<const float> term_max, term_min;   // per term, over true and stored weights
    std::span<const std::uint64_t> block_begin;  // dim + 1: first block of each term
    std::span<const std::uint32_t> block_last;   // last document id of each block
    std::span<const float> block_max, block_min; // per block, over true and stored weights

    [[nodiscard]] bool empty_list(std::uint32_t t) const noexcept { return offsets[t] == offsets[t + 1]; }
    /// Largest |stored - true| weight of term t (0 for f32; f16 rounds to 11 significant bits; u8 to step / 2).
    [[nodiscard]] float weight_error(std::uint32_t t) const noexcept {
        switch (precision) {
            case WeightPrecision::f16: return std::max(std::fabs(term_max[t]), std::fabs(term_min[t])) * 0x1p-11f + 0x1p-25f;
            case WeightPrecision::u8: return quant.empty() ? 0.0f : quant[2 * t + 1] * 0.5f;
            default: return 0.0f;
        }
    }
};

// ---------------------------------------------------------------------------------------------------------------
// Weight decoders: constructed for one term, decoder(p) = stored weight of posting p as float.

struct F32Weights {
    const float* w;
    F32Weights(const PostingLists& l, std::uint32_t) noexcept : w(l.w_f32.data()) {}
    float operator()(std::uint64_t p) const noexcept { return w[p]; }
};
struct F16Weights {
    const float16* w;
    F16Weights(const PostingLists& l, std::uint32_t) noexcept : w(l.w_f16.data()) {}
    float operator()(std::uint64_t p) const noexcept { return w[p].to_float(); }
};
struct U8Weights {
    const std::uint8_t* w;
    float offset, step;
    U8Weights(const PostingLists& l, std::uint32_t t) noexcept : w(l.w_u8.data()), offset(l.quant[2 * t]), step(l.quant[2 * t + 1]) {}
    float operator()(std::uint64_t p) const noexcept { return offset + step * static_cast<float>(w[p]); }
};

/// fn(std::type_identity<Decoder>{}) with the decoder of `precision` (one instantiation per precision).
template <class Fn>
decltype(auto) with_weight_decoder(WeightPrecision precision, Fn&& fn) {
    switch (precision) {
        case WeightPrecision::f16: return fn(std::type_identity<F16Weights>{});
        case WeightPrecision::u8: return fn(std::type_identity<U8Weights>{});
        default: return fn(std::type_identity<F32Weights>{});
    }
}

/// Largest contribution max(0, q * w) of a term whose weights lie in [wmin, wmax].
inline float positive_part_bound(float q, float wmax, float wmin) noexcept {
    return std::max(0.0f, std::max(q * wmax, q * wmin));
}

// ---------------------------------------------------------------------------------------------------------------

/// Cursor over the posting list of one query term (query weight q), with the term's bounds and its blocks.
template <class Weights>
class PostingCursor {
public:
    using weights_type = Weights;

    PostingCursor(const PostingLists& lists, std::uint32_t term, float q) noexcept
        : docs_(lists.docs.data()),
          weights_(lists, term),
          pos_(lists.offsets[term]),
          end_(lists.offsets[term + 1]),
          list_begin_(lists.offsets[term]),
          blk_(lists.block_begin[term]),
          blk_end_(lists.block_begin[term + 1]),
          first_blk_(lists.block_begin[term]),
          block_size_(lists.block_size),
          block_last_(lists.block_last.data()),
          block_max_(lists.block_max.data()),
          block_min_(lists.block_min.data()),
          term_(term),
          q_(q),
          max_score_(positive_part_bound(q, lists.term_max[term], lists.term_min[term])),
          error_(std::fabs(q) * lists.weight_error(term)),
          abs_bound_(std::fabs(static_cast<double>(q)) *
                     std::max(std::fabs(static_cast<double>(lists.term_max[term])), std::fabs(static_cast<double>(lists.term_min[term])))) {
        sync();
    }

    // --- the term
    [[nodiscard]] std::uint32_t term() const noexcept { return term_; }
    [[nodiscard]] float query_weight() const noexcept { return q_; }
    /// Upper bound of q * w over the list (true and stored weights), at least 0.
    [[nodiscard]] float max_score() const noexcept { return max_score_; }
    /// |q| * largest |stored - true| weight of the term: how far a partial score from stored weights can be off.
    [[nodiscard]] float score_error() const noexcept { return error_; }
    /// |q| * largest |w| of the term (feeds score_slack()).
    [[nodiscard]] double abs_bound() const noexcept { return abs_bound_; }

    // --- position in the list
    /// Current document (cached, as PISA's cursors do: the pruned algorithms compare it far more often than they move).
    [[nodiscard]] std::uint32_t docid() const noexcept { return cur_; }
    /// q * stored weight of the current posting (the cursor must not be done).
    [[nodiscard]] float score() const noexcept { return q_ * weights_(pos_); }
    void next() noexcept {
        ++pos_;
        sync();
    }
    /// Moves to the first posting with document >= target, skipping whole blocks whose last id is below it.
    void next_geq(std::uint32_t target) noexcept {
        block_max_geq(target);
        if (blk_ == blk_end_) {
            exhaust();
            return;
        }
        const std::uint64_t first = list_begin_ + (blk_ - first_blk_) * block_size_;
        if (pos_ < first) pos_ = first;
        while (pos_ < end_ && docs_[pos_] < target) ++pos_;
        sync();
    }
    /// Moves past the last posting.
    void exhaust() noexcept {
        pos_ = end_;
        cur_ = kEndOfList;
    }
    /// Raw access for the exhaustive loops: postings position() .. end() of doc_ids() decoded by weights().
    [[nodiscard]] std::uint64_t position() const noexcept { return pos_; }
    [[nodiscard]] std::uint64_t end() const noexcept { return end_; }
    void set_position(std::uint64_t p) noexcept {
        pos_ = p;
        sync();
    }
    [[nodiscard]] const std::uint32_t* doc_ids() const noexcept { return docs_; }
    [[nodiscard]] const Weights& weights() const noexcept { return weights_; }

    // --- block-max metadata (a "shallow" cursor: moving it reads no posting)
    /// Moves the block pointer to the first block whose last document is >= target.
    void block_max_geq(std::uint32_t target) noexcept {
        while (blk_ < blk_end_ && block_last_[blk_] < target) ++blk_;
    }
    [[nodiscard]] bool in_blocks() const noexcept { return blk_ < blk_end_; }
    /// Upper bound of q * w in the current block (0 past the last block).
    [[nodiscard]] float block_max_score() const noexcept {
        return blk_ < blk_end_ ? positive_part_bound(q_, block_max_[blk_], block_min_[blk_]) : 0.0f;
    }
    /// Last document id of the current block (the cursor must be in_blocks()).
    [[nodiscard]] std::uint32_t block_last_docid() const noexcept { return block_last_[blk_]; }

private:
    void sync() noexcept { cur_ = pos_ < end_ ? docs_[pos_] : kEndOfList; }

    std::uint32_t cur_ = kEndOfList;
    const std::uint32_t* docs_;
    Weights weights_;
    std::uint64_t pos_, end_, list_begin_;
    std::uint64_t blk_, blk_end_, first_blk_;
    std::size_t block_size_;
    const std::uint32_t* block_last_;
    const float* block_max_;
    const float* block_min_;
    std::uint32_t term_;
    float q_, max_score_, error_;
    double abs_bound_;
};

/// Opens one cursor per query term with a non-empty list, in query order (ascending term id), into `cursors`
/// (cleared first; reserve the query size once and this allocates nothing).
template <class Cursor, class Query>
void open_cursors(const PostingLists& lists, const Query& query, std::vector<Cursor>& cursors) {
    cursors.clear();
    for (std::size_t i = 0; i < query.size(); ++i)
        if (!lists.empty_list(query.ids[i])) cursors.emplace_back(lists, query.ids[i], query.values[i]);
}

/// Bound on the float rounding error of any score the cursors can sum: a score is a sum of at most `query_size`
/// products, each at most abs_bound() in magnitude, so its error is below sum(abs_bound) * (query_size + 2) * 2^-23.
/// The pruned algorithms add it to every upper bound before comparing with the k-th score, so a document whose
/// exact float score ties the threshold is never skipped.
template <class Cursors>
[[nodiscard]] double score_slack(const Cursors& cursors, std::size_t query_size) noexcept {
    double abs_total = 0.0;
    for (const auto& c : cursors) abs_total += c.abs_bound();
    return abs_total * static_cast<double>(query_size + 2) * 0x1p-23;
}

// ---------------------------------------------------------------------------------------------------------------

/// The f32 forward index: document d's terms and weights at indptr[d] .. indptr[d + 1] (terms increasing).
struct ForwardIndexView {
    std::span<const std::uint64_t> indptr;
    std::span<const std::uint32_t> ids;
    std::span<const float> values;

    /// Exact score of `doc` against a query scattered into `qdense` (zero off the query terms). The products are
    /// summed one at a time in ascending term order, as brute_force_search does, so the f32 result is the same bit
    /// for bit (simd::sparse_dot_dense would sum in SIMD lanes, in another order, and break that).
    [[nodiscard]] float score(std::uint32_t doc, const float* qdense) const noexcept {
        const std::uint64_t b = indptr[doc], e = indptr[doc + 1];
        const std::uint32_t* t = ids.data();
        const float* v = values.data();
        float s = 0.0f;
        for (std::uint64_t p = b; p < e; ++p) s += qdense[t[p]] * v[p];
        return s;
    }
    /// Same, also telling whether the document has any query term (`query_terms`: bitset over term ids).
    [[nodiscard]] float score(std::uint32_t doc, const float* qdense, const std::uint64_t* query_terms, bool& overlap) const noexcept {
        const std::uint64_t b = indptr[doc], e = indptr[doc + 1];
        const std::uint32_t* t = ids.data();
        const float* v = values.data();
        float s = 0.0f;
        std::uint64_t any = 0;
        for (std::uint64_t p = b; p < e; ++p) {
            s += qdense[t[p]] * v[p];
            any |= query_terms[t[p] >> 6] >> (t[p] & 63);
        }
        overlap = (any & 1u) != 0;
        return s;
    }
};

/// Scatters a sparse query into a dense vector (and, when given, its terms into a bitset) for the lifetime of the
/// object, and zeroes them again afterwards (also on an exception): buffers stay all zero between queries.
class ScatteredQuery {
public:
    template <class Query>
    ScatteredQuery(const Query& query, std::span<float> dense, std::span<std::uint64_t> term_bits = {})
        : ids_(query.ids), dense_(dense), bits_(term_bits) {
        for (std::size_t i = 0; i < query.size(); ++i) dense_[ids_[i]] = query.values[i];
        if (!bits_.empty())
            for (auto t : ids_) bits_[t >> 6] |= std::uint64_t{1} << (t & 63);
    }
    ~ScatteredQuery() {
        for (auto t : ids_) dense_[t] = 0.0f;
        if (!bits_.empty())
            for (auto t : ids_) bits_[t >> 6] = 0;
    }
    ScatteredQuery(const ScatteredQuery&) = delete;
    ScatteredQuery& operator=(const ScatteredQuery&) = delete;
    [[nodiscard]] const float* dense() const noexcept { return dense_.data(); }
    [[nodiscard]] const std::uint64_t* term_bits() const noexcept { return bits_.data(); }

private:
    std::span<const std::uint32_t> ids_;
    std::span<float> dense_;
    std::span<std::uint64_t> bits_;
};

/// A query scattered into a dense vector, scoring documents exactly from the forward index (the pruned
/// algorithms' rescoring step).
struct ForwardScorer {
    ForwardIndexView forward;
    const float* qdense;
    float operator()(std::uint32_t doc) const noexcept { return forward.score(doc, qdense); }
};

}  // namespace sparsedense
