// sparsedense/dense/flat_index.hpp
//
// FlatIndex: exact (brute-force) dense search. Vectors are stored in a VectorStore (f32, f16, bf16 or int8 with a
// per-vector or per-dimension scale; see vector_store.hpp) and every query is scored against every row.
//   * search(): one query at a time. This is memory-bound (an f32 dot product does 0.5 FLOP per byte loaded), so
//     rows held in cache go through the interleaved one-query-many-rows kernel and rows streamed from memory through
//     the row-after-row kernel (simd::stream_dot_rows; ScanHint, fixed by the store's size), at 90-95% of the
//     machine's streaming-read bandwidth (kernels_benchmark flat_vs_stream). f16/bf16 storage halves the bytes read;
//     int8 quarters them and is scored in integers against an int16 copy of the query (vector_store.hpp). The top-k
//     is touched only for rows whose score clears its current bar.
//   * search_batch(): blocks of 96 queries against blocks of rows packed (and widened) into 16-row panels once per
//     block, with the GEMM-like kernel simd::panel_dot (each row value loaded feeds 12 queries on AVX-512, no
//     horizontal sums): FMA-bound instead of bandwidth-bound. int8 rows are scored query by query. Queries can be
//     split over threads.
// Ids are positions in insertion order (0, 1, 2, ...). Scores follow the library convention: inner product,
// cosine similarity, or the negated squared L2 distance; ties go to the smaller id. search(), search_batch() and
// score() report bit-identical values: the panel kernel adds in another order (per dimension), so the batch keeps
// max(2k, k + 16) candidates by its own scores and re-scores them as search() does before keeping k.
// Filters (core/id_filter.hpp): the scan tests the filter only for a row whose score would enter the top-k; when
// the filter accepts at most exact_scan_fraction of the rows, only the accepted rows are scored. Both plans are exact
// and report the same scores as the unfiltered scan. load() maps the file: the vectors are not copied (adding to a
// loaded index copies them into memory first).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

struct FlatIndexBuildParams {
    VectorEncoding storage = VectorEncoding::f32;  ///< f32 exact; f16 / bf16 / int8 trade score precision for bytes read
};

struct FlatIndexSearchParams {
    /// With a filter accepting at most this fraction of the rows, only the accepted rows are scored (both plans
    /// are exact; this only chooses the faster one).
    double exact_scan_fraction = 0.05;
};

class FlatIndex {
public:
    using query_type = std::span<const float>;
    using batch_type = DenseMatrixView<const float>;
    using id_type = std::uint32_t;
    using build_params_type = FlatIndexBuildParams;
    using search_params_type = FlatIndexSearchParams;
    class PreparedQuery;

    FlatIndex() = default;
    FlatIndex(std::size_t dimension, Metric metric, const FlatIndexBuildParams& params = {})
        : dim_(dimension), metric_(metric), store_(dimension, params.storage) {}
    FlatIndex(std::size_t dimension, Metric metric, VectorEncoding storage) : FlatIndex(dimension, metric, FlatIndexBuildParams{storage}) {}

    /// An index over the rows of `data` (ids 0..rows-1): construct + add.
    static FlatIndex build(DenseMatrixView<const float> data, Metric metric, const FlatIndexBuildParams& params = {}) {
        FlatIndex index(data.cols, metric, params);
        index.add(data);
        return index;
    }

    [[nodiscard]] std::size_t size() const noexcept { return store_.size(); }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] Metric metric() const noexcept { return metric_; }
    [[nodiscard]] VectorEncoding storage() const noexcept { return store_.encoding(); }
    [[nodiscard]] std::size_t bytes_per_vector() const noexcept { return store_.bytes_per_vector(); }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return store_.memory_bytes(); }
    [[nodiscard]] const VectorStore& store() const noexcept { return store_; }

    /// Appends vectors (ids continue from size()). Validates the dimension and finiteness of every value first,
    /// so a rejected batch leaves the index unchanged.
    void add(DenseMatrixView<const float> vectors) {
        require_configured();
        validate_dimension(dim_, vectors.cols, "FlatIndex::add: vectors");
        for (std::size_t i = 0; i < vectors.rows; ++i) validate_finite(std::span<const float>(vectors.row(i)), static_cast<long long>(i), "added vectors");
        if (size() + vectors.rows > 0xFFFFFFFFull) raise(ErrorKind::invalid_argument, "FlatIndex: more than 2^32 - 1 vectors");
        if (metric_ == Metric::cosine) {
            DenseMatrix<float> normalized(vectors);
            for (std::size_t i = 0; i < normalized.rows(); ++i) detail::normalize_in_place(normalized.row(i));
            store_.append(normalized.view());
        } else {
            store_.append(vectors);
        }
    }
    /// Convenience: a flat span of rows * dimension values.
    void add(std::span<const float> values) { add(DenseMatrixView<const float>::from_span(values, dim_)); }

    /// Exact top-k of one query among the rows the filter accepts.
    [[nodiscard]] SearchResults<> search(std::span<const float> query, std::size_t k, const FlatIndexSearchParams& params = {},
                                         const IdFilter& filter = {}) const {
        SearchResults<> out;
        search_into(query, k, out, params, filter);
        return out;
    }

    /// As search(), into `out` (its capacity is reused: no allocation once warm).
    void search_into(std::span<const float> query, std::size_t k, SearchResults<>& out, const FlatIndexSearchParams& params = {},
                     const IdFilter& filter = {}) const {
        check_query(query, k, "FlatIndex::search");
        check_params(params);
        Scratch& s = scratch();
        const float* q = prepare_query(query, s.query);
        store_.prepare(q, metric_ == Metric::l2, s.prepared);
        s.top.reset(std::min(k, std::max<std::size_t>(size(), 1)));
        if (use_exact_scan(filter, size(), params.exact_scan_fraction)) {
            filter.for_each_accepted(size(), [&](std::uint64_t id) {
                const float sc = row_score(s.prepared, static_cast<std::uint32_t>(id));
                if (s.top.would_enter(sc)) s.top.push(static_cast<std::uint32_t>(id), sc);
            });
        } else {
            filter.visit([&](auto accept) { scan(s.prepared, accept, s); });
        }
        const auto best = s.top.finalize();
        out.assign(best.begin(), best.end());
    }

    /// Exact top-k of every query (row) of `queries` (threads = 0: every hardware thread). Unfiltered batches use
    /// the packed-panel kernel; filtered ones run search() per query.
    [[nodiscard]] std::vector<SearchResults<>> search_batch(DenseMatrixView<const float> queries, std::size_t k,
                                                            const FlatIndexSearchParams& params = {}, std::size_t threads = 0,
                                                            const IdFilter& filter = {}) const {
        require_configured();
        validate_k(k, "FlatIndex::search_batch");
        check_params(params);
        validate_dimension(dim_, queries.cols, "FlatIndex::search_batch: queries");
        for (std::size_t i = 0; i < queries.rows; ++i) validate_finite(std::span<const float>(queries.row(i)), static_cast<long long>(i), "queries");
        std::vector<SearchResults<>> out(queries.rows);
        if (queries.rows == 0) return out;
        if (!filter.accepts_all()) {
            detail::parallel_for(queries.rows, threads, 16, [&](std::size_t b, std::size_t e, std::size_t) {
                for (std::size_t i = b; i < e; ++i) search_into(queries.row(i), k, out[i], params, filter);
            });
            return out;
        }
        const std::size_t query_blocks = (queries.rows + kQueryBlock - 1) / kQueryBlock;
        detail::parallel_for(query_blocks, threads, [&](std::size_t b0, std::size_t b1, std::size_t) {
            for (std::size_t b = b0; b < b1; ++b) {
                const std::size_t q0 = b * kQueryBlock, nq = std::min(kQueryBlock, queries.rows - q0);
                search_block(queries.slice(q0, nq), k, std::span<SearchResults<>>(out.data() + q0, nq));
            }
        });
        return out;
    }

    /// The query prepared for scoring many ids (normalized once for cosine): scorer(id) is the exact score search()
    /// reports for id.
    [[nodiscard]] PreparedQuery prepare(std::span<const float> query) const;

    /// Exact score of the query against stored vector `id` (the same value search() reports for it).
    [[nodiscard]] float score(std::span<const float> query, std::uint32_t id) const;

    /// Row order of single-query scans, fixed by the store's size so that search() and score() add identically:
    /// interleaved while the vectors fit in cache, sequential once they stream from memory (simd::ScanHint).
    [[nodiscard]] simd::ScanHint scan_hint() const noexcept {
        return store_.memory_bytes() > simd::sequential_scan_bytes ? simd::ScanHint::sequential : simd::ScanHint::interleaved;
    }

    /// Decoded (as stored: normalised for cosine, rounded for reduced precision) vector `id`.
    [[nodiscard]] std::vector<float> vector(std::uint32_t id) const {
        validate_id(id, size());
        std::vector<float> v(dim_);
        store_.decode(id, v.data());
        return v;
    }

    /// Rebuilds an index from raw parts (used by load()).
    static FlatIndex from_store(Metric metric, VectorStore store) {
        FlatIndex index;
        index.dim_ = store.dimension();
        index.metric_ = metric;
        index.store_ = std::move(store);
        return index;
    }

    static constexpr std::uint32_t kFormatVersion = 1;

    /// Writes the index atomically (temp file + fsync + rename) in the section format of io/binary_format.hpp.
    void save(const std::string& path) const {
        const FileMeta meta{dim_, static_cast<std::uint32_t>(metric_), static_cast<std::uint32_t>(store_.encoding()), store_.size()};
        io::SectionWriter w("FlatIndex", kFormatVersion);
        w.add_value("meta", meta);
        store_.add_sections(w, "");
        w.write(path);
    }
    /// Maps and validates a file written by save() (throws Error on a corrupt, truncated or foreign file).
    static FlatIndex load(const std::string& path) {
        const io::SectionReader r(path, "FlatIndex", kFormatVersion, kFormatVersion);
        const auto meta = r.value<FileMeta>("meta");
        if (meta.dimension == 0 || meta.dimension > (1u << 24) || meta.metric > 2 || meta.encoding > kMaxVectorEncoding)
            r.fail(ErrorKind::corrupt_file, "invalid index header (dimension ", meta.dimension, ", metric ", meta.metric, ", encoding ", meta.encoding, ")");
        const auto enc = static_cast<VectorEncoding>(meta.encoding);
        if (meta.count > r.span<std::uint8_t>("values").size()) r.fail(ErrorKind::corrupt_file, "vector count ", meta.count, " exceeds the data");
        return from_store(static_cast<Metric>(meta.metric), VectorStore::read_sections(r, "", meta.dimension, enc, meta.count));
    }

private:
    static constexpr std::size_t kChunk = 4096;       // rows per single-query chunk (multiple of 4)
    static constexpr std::size_t kQueryBlock = 96;    // queries per batch block (each packed row block serves them all)

    struct Scratch {
        std::vector<float> query;
        VectorStore::PreparedQuery prepared;  // the query as the store scores it (int8/int4 codes made once)
        std::vector<float> scores = std::vector<float>(kChunk);
        TopKCollector<> top{1};
    };
    static Scratch& scratch() {
        static thread_local Scratch s;
        return s;
    }

    void check_query(std::span<const float> query, std::size_t k, const char* where) const {
        require_configured();
        validate_k(k, where);
        validate_dimension(dim_, query.size(), "FlatIndex: query");
        validate_finite(query, -1, "query");
    }
    static void check_params(const FlatIndexSearchParams& p) {
        if (!(p.exact_scan_fraction >= 0.0 && p.exact_scan_fraction <= 1.0))
            raise(ErrorKind::invalid_argument, "FlatIndex: exact_scan_fraction = ", p.exact_scan_fraction, " must be in [0, 1]");
    }

    /// Score of one row computed as the scan computes it, so the value is bit-identical to search()'s: float rows
    /// through the same kernel in the aligned group of 4 rows holding `id`; quantized rows alone (integer sums).
    [[nodiscard]] float row_score(const VectorStore::PreparedQuery& pq, std::uint32_t id) const noexcept {
        const bool l2 = metric_ == Metric::l2;
        if (store_.is_quantized()) {
            const float d = store_.score(pq, id, l2);
            return l2 ? -d : d;
        }
        const std::size_t first = id & ~std::size_t{3}, count = std::min<std::size_t>(4, size() - first);
        float d[4];
        store_.many(pq, first, count, l2, d, scan_hint());
        return l2 ? -d[id - first] : d[id - first];
    }

    /// The single-query scan over every row; `accept` is tested only for rows whose score would enter the top-k.
    template <class Accept>
    void scan(const VectorStore::PreparedQuery& pq, const Accept& accept, Scratch& s) const {
        const bool l2 = metric_ == Metric::l2;
        for (std::size_t first = 0; first < size(); first += kChunk) {
            const std::size_t count = std::min(kChunk, size() - first);
            store_.many(pq, first, count, l2, s.scores.data(), scan_hint());
            push_scores(s.top, s.scores.data(), count, first, l2, accept);
        }
    }

    void require_configured() const {
        if (dim_ == 0)
            raise(ErrorKind::invalid_argument, "FlatIndex: this index was default-constructed (dimension 0); construct it with "
                                               "FlatIndex(dimension, metric) or load() one");
    }

    struct FileMeta {
        std::uint64_t dimension;
        std::uint32_t metric;
        std::uint32_t encoding;
        std::uint64_t count;
    };

    const float* prepare_query(std::span<const float> query, std::vector<float>& buffer) const {
        if (metric_ != Metric::cosine) return query.data();
        buffer.assign(query.begin(), query.end());
        detail::normalize_in_place(buffer);
        return buffer.data();
    }

    /// Offers a block's scores to the top-k, 16 at a time behind a vectorizable count of the scores that clear the
    /// current bar: the heap is touched only for groups holding a candidate.
    static void push_scores(TopKCollector<>& top, const float* scores, std::size_t count, std::size_t first, bool l2) {
        push_scores(top, scores, count, first, l2, [](std::uint32_t) { return true; });
    }
    /// As above, `accept` tested only for a score that would enter.
    template <class Accept>
    static void push_scores(TopKCollector<>& top, const float* scores, std::size_t count, std::size_t first, bool l2, const Accept& accept) {
        for (std::size_t b = 0; b < count; b += 16) {
            const std::size_t e = std::min(count, b + 16);
            if (top.full()) {
                const float bar = l2 ? -top.threshold() : top.threshold();
                int passing = 0;
                if (l2) {
                    for (std::size_t r = b; r < e; ++r) passing += scores[r] <= bar;
                } else {
                    for (std::size_t r = b; r < e; ++r) passing += scores[r] >= bar;
                }
                if (passing == 0) continue;
            }
            for (std::size_t r = b; r < e; ++r) {
                const float sc = l2 ? -scores[r] : scores[r];
                const auto id = static_cast<std::uint32_t>(first + r);
                if (top.would_enter(sc) && accept(id)) top.push(id, sc);
            }
        }
    }

    /// Rows per batch block: a multiple of 16 whose packed panels take about 256 KiB (L2-resident with the queries).
    [[nodiscard]] std::size_t row_block() const noexcept {
        return std::clamp<std::size_t>((std::size_t{65536} / dim_) / 16 * 16, 16, 1024);
    }

    void search_block(DenseMatrixView<const float> queries, std::size_t k, std::span<SearchResults<>> out) const {
        const std::size_t nq = queries.rows;
        const bool l2 = metric_ == Metric::l2;
        DenseMatrix<float> qbuf(nq, dim_);
        for (std::size_t i = 0; i < nq; ++i) {
            std::copy(queries.row(i).begin(), queries.row(i).end(), qbuf.row(i).begin());
            if (metric_ == Metric::cosine) detail::normalize_in_place(qbuf.row(i));
        }
        std::vector<TopKCollector<>> tops;
        tops.reserve(nq);
        // the panel kernel adds in another order than search(): keep a margin of candidates, re-score them as search()
        // does (row_score) and keep the k best, so that search_batch() reports exactly search()'s results
        const bool rescore = !store_.is_quantized();
        const std::size_t kept = rescore && k < size() / 2 ? std::max(2 * k, k + 16) : k;
        for (std::size_t i = 0; i < nq; ++i) tops.emplace_back(std::min(kept, std::max<std::size_t>(size(), 1)));
        if (store_.is_quantized()) {  // no block kernel for int8 rows: score query by query (integer kernel)
            std::vector<float> scores(kChunk);
            for (std::size_t i = 0; i < nq; ++i) {
                const auto pq = store_.prepare(qbuf.row(i).data(), l2);  // codes made once per query, not per chunk
                for (std::size_t first = 0; first < size(); first += kChunk) {
                    const std::size_t count = std::min(kChunk, size() - first);
                    store_.many(pq, first, count, l2, scores.data());
                    push_scores(tops[i], scores.data(), count, first, l2);
                }
            }
        } else {
            // rows packed (and widened) into 16-row panels once per block, then every query of the block against them
            const std::size_t rb = row_block();
            aligned_vector<float> panels(rb * dim_);
            std::vector<float> scores(nq * rb);
            const std::uint8_t* raw = store_.raw_bytes().data();
            for (std::size_t first = 0; first < size(); first += rb) {
                const std::size_t count = std::min(rb, size() - first), padded = (count + 15) / 16 * 16;
                switch (store_.encoding()) {
                    case VectorEncoding::f16:
                        simd::pack_panels(reinterpret_cast<const float16*>(raw) + first * dim_, count, dim_, dim_, panels.data());
                        break;
                    case VectorEncoding::bf16:
                        simd::pack_panels(reinterpret_cast<const bfloat16*>(raw) + first * dim_, count, dim_, dim_, panels.data());
                        break;
                    default: simd::pack_panels(store_.f32_data() + first * dim_, count, dim_, dim_, panels.data());
                }
                if (l2) simd::panel_l2(qbuf.data(), nq, dim_, panels.data(), padded, dim_, scores.data(), rb);
                else simd::panel_dot(qbuf.data(), nq, dim_, panels.data(), padded, dim_, scores.data(), rb);
                for (std::size_t i = 0; i < nq; ++i) push_scores(tops[i], scores.data() + i * rb, count, first, l2);
            }
        }
        for (std::size_t i = 0; i < nq; ++i) {
            if (!rescore) {
                out[i] = tops[i].sorted();
                continue;
            }
            TopKCollector<> best(std::min(k, std::max<std::size_t>(size(), 1)));
            const auto pq = store_.prepare(qbuf.row(i).data(), l2);
            for (const auto& c : tops[i].unordered()) best.push(c.id, row_score(pq, c.id));
            out[i] = best.sorted();
        }
    }

    std::size_t dim_ = 0;
    Metric metric_ = Metric::inner_product;
    VectorStore store_;
};

/// A query prepared for scoring many ids of one FlatIndex (it refers to the index, which must outlive it).
class FlatIndex::PreparedQuery {
public:
    PreparedQuery(const FlatIndex& index, std::span<const float> query) : index_(&index), query_(query) {
        index.require_configured();
        validate_dimension(index.dim_, query.size(), "FlatIndex::prepare: query");
        validate_finite(query, -1, "query");
        const auto q = query_.values();
        if (index.metric_ == Metric::cosine) detail::normalize_in_place(q);
        query_.prepare(index.store_, index.metric_ == Metric::l2);
    }
    /// Exact score of row `id`; throws Error(out_of_range) for an id >= size().
    [[nodiscard]] float operator()(std::uint32_t id) const {
        validate_id(id, index_->size(), "FlatIndex: document id");
        return index_->row_score(query_.prepared(), id);
    }

private:
    const FlatIndex* index_;
    VectorStore::OwnedQuery query_;  // int8/int4 codes made once, not per id
};

inline FlatIndex::PreparedQuery FlatIndex::prepare(std::span<const float> query) const { return PreparedQuery(*this, query); }
inline float FlatIndex::score(std::span<const float> query, std::uint32_t id) const { return prepare(query)(id); }

}  // namespace sparsedense
