// sparsedense/dense/flat_index.hpp
//
// FlatIndex: exact (brute-force) dense search. Vectors are stored in a VectorStore (f32, f16, bf16 or int8 with a
// per-vector or per-dimension scale; see vector_store.hpp) and every query is scored against every row.
//   * search(): one query at a time, rows scanned in chunks with the one-query-many-rows SIMD kernel. This is
//     memory-bound (an f32 dot product does 0.5 FLOP per byte loaded), so f16/bf16/int8 storage speeds it up in
//     proportion to the bytes saved.
//   * search_batch(): a batch of queries against blocks of rows with the register-blocked kernel simd::dot_block
//     (each loaded row feeds several queries), which moves the bound from memory bandwidth to FMA throughput.
//     Non-f32 rows are widened block by block into a small f32 buffer first. Queries can be split over threads.
// Ids are positions in insertion order (0, 1, 2, ...). Scores follow the library convention: inner product,
// cosine similarity, or the negated squared L2 distance; ties go to the smaller id. With f32 storage search() and
// search_batch() compute bit-identical scores (same kernels, same accumulation order).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/top_k_collector.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/dense/metric.hpp"
#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

class FlatIndex {
public:
    FlatIndex() = default;
    FlatIndex(std::size_t dimension, Metric metric, VectorEncoding storage = VectorEncoding::f32)
        : dim_(dimension), metric_(metric), store_(dimension, storage) {}

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
        if (size() + vectors.rows > 0xFFFFFFFFull) raise(ErrorKind::invalid_argument, "flat index: more than 2^32 - 1 vectors");
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

    /// Exact top-k of one query.
    [[nodiscard]] SearchResults<> search(std::span<const float> query, std::size_t k) const {
        require_configured();
        validate_k(k, "FlatIndex::search");
        validate_dimension(dim_, query.size(), "FlatIndex::search: query");
        validate_finite(query, -1, "query");
        Scratch& s = scratch();
        const float* q = prepare_query(query, s.query);
        const float qn = metric_ == Metric::l2 && store_.is_int8() ? simd::dot(q, q, dim_) : 0.0f;
        TopKCollector<> top(std::min(k, std::max<std::size_t>(size(), 1)));
        s.scores.resize(kChunk);
        const bool l2 = metric_ == Metric::l2;
        for (std::size_t first = 0; first < size(); first += kChunk) {
            const std::size_t count = std::min(kChunk, size() - first);
            store_.many(q, first, count, l2, qn, s.scores.data(), scan_hint());
            push_scores(top, s.scores.data(), count, first, l2);
        }
        return top.sorted();
    }

    /// Exact top-k of every query (row) of `queries`; threads = 0 uses every hardware thread.
    [[nodiscard]] std::vector<SearchResults<>> search_batch(DenseMatrixView<const float> queries, std::size_t k, std::size_t threads = 1) const {
        require_configured();
        validate_k(k, "FlatIndex::search_batch");
        validate_dimension(dim_, queries.cols, "FlatIndex::search_batch: queries");
        for (std::size_t i = 0; i < queries.rows; ++i) validate_finite(std::span<const float>(queries.row(i)), static_cast<long long>(i), "queries");
        std::vector<SearchResults<>> out(queries.rows);
        if (queries.rows == 0) return out;
        const std::size_t query_blocks = (queries.rows + kQueryBlock - 1) / kQueryBlock;
        detail::parallel_for(query_blocks, threads, [&](std::size_t b0, std::size_t b1, std::size_t) {
            for (std::size_t b = b0; b < b1; ++b) {
                const std::size_t q0 = b * kQueryBlock, nq = std::min(kQueryBlock, queries.rows - q0);
                search_block(queries.slice(q0, nq), k, std::span<SearchResults<>>(out.data() + q0, nq));
            }
        });
        return out;
    }

    /// Row order of single-query scans, fixed by the store's size so that search() and score() add identically:
    /// interleaved while the vectors fit in cache, sequential once they stream from memory (simd::ScanHint).
    [[nodiscard]] simd::ScanHint scan_hint() const noexcept {
        return store_.memory_bytes() > simd::sequential_scan_bytes ? simd::ScanHint::sequential : simd::ScanHint::interleaved;
    }

    /// Exact score of the query against stored vector `id` (the same value search() reports for it).
    [[nodiscard]] float score(std::span<const float> query, std::uint32_t id) const {
        require_configured();
        validate_dimension(dim_, query.size(), "FlatIndex::score: query");
        validate_id(id, size());
        validate_finite(query, -1, "query");
        Scratch& s = scratch();
        const float* q = prepare_query(query, s.query);
        // Score the aligned group of 4 rows holding `id`, as search() does, so the value is bit-identical.
        const bool l2 = metric_ == Metric::l2;
        const float qn = l2 && store_.is_int8() ? simd::dot(q, q, dim_) : 0.0f;
        const std::size_t first = id & ~std::size_t{3}, count = std::min<std::size_t>(4, size() - first);
        float d[4];
        store_.many(q, first, count, l2, qn, d, scan_hint());
        return l2 ? -d[id - first] : d[id - first];
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
        if (meta.dimension == 0 || meta.dimension > (1u << 24) || meta.metric > 2 || meta.encoding > 4)
            r.fail(ErrorKind::corrupt_file, "invalid index header (dimension ", meta.dimension, ", metric ", meta.metric, ", encoding ", meta.encoding, ")");
        const auto enc = static_cast<VectorEncoding>(meta.encoding);
        if (meta.count > r.span<std::uint8_t>("values").size()) r.fail(ErrorKind::corrupt_file, "vector count ", meta.count, " exceeds the data");
        return from_store(static_cast<Metric>(meta.metric), VectorStore::read_sections(r, "", meta.dimension, enc, meta.count));
    }

private:
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

    static constexpr std::size_t kChunk = 1024;       // rows per single-query chunk (multiple of 4)
    static constexpr std::size_t kQueryBlock = 32;    // queries per batch block
    static constexpr std::size_t kRowBlock = 256;     // rows per batch block (multiple of 4)

    struct Scratch {
        std::vector<float> query;
        std::vector<float> scores;
    };
    static Scratch& scratch() {
        static thread_local Scratch s;
        return s;
    }

    const float* prepare_query(std::span<const float> query, std::vector<float>& buffer) const {
        if (metric_ != Metric::cosine) return query.data();
        buffer.assign(query.begin(), query.end());
        detail::normalize_in_place(buffer);
        return buffer.data();
    }

    static void push_scores(TopKCollector<>& top, const float* scores, std::size_t count, std::size_t first, bool l2) {
        for (std::size_t r = 0; r < count; ++r) {
            const float sc = l2 ? -scores[r] : scores[r];
            if (top.would_enter(sc)) top.push(static_cast<std::uint32_t>(first + r), sc);
        }
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
        for (std::size_t i = 0; i < nq; ++i) tops.emplace_back(std::min(k, std::max<std::size_t>(size(), 1)));
        if (store_.is_int8()) {  // no block kernel for int8 rows: score query by query
            std::vector<float> scores(kChunk);
            for (std::size_t i = 0; i < nq; ++i) {
                const float* q = qbuf.row(i).data();
                const float qn = l2 ? simd::dot(q, q, dim_) : 0.0f;
                for (std::size_t first = 0; first < size(); first += kChunk) {
                    const std::size_t count = std::min(kChunk, size() - first);
                    store_.many(q, first, count, l2, qn, scores.data());
                    push_scores(tops[i], scores.data(), count, first, l2);
                }
            }
        } else {
            DenseMatrix<float> rows_f32;
            if (store_.encoding() != VectorEncoding::f32) rows_f32.resize(kRowBlock, dim_);
            std::vector<float> scores(nq * kRowBlock);
            for (std::size_t first = 0; first < size(); first += kRowBlock) {
                const std::size_t count = std::min(kRowBlock, size() - first);
                const float* rows = nullptr;
                if (store_.encoding() == VectorEncoding::f32) {
                    rows = store_.f32_data() + first * dim_;
                } else {
                    for (std::size_t r = 0; r < count; ++r) store_.decode(first + r, rows_f32.row(r).data());
                    rows = rows_f32.data();
                }
                if (l2) simd::l2_squared_block(qbuf.data(), nq, dim_, rows, count, dim_, dim_, scores.data(), kRowBlock);
                else simd::dot_block(qbuf.data(), nq, dim_, rows, count, dim_, dim_, scores.data(), kRowBlock);
                for (std::size_t i = 0; i < nq; ++i) push_scores(tops[i], scores.data() + i * kRowBlock, count, first, l2);
            }
        }
        for (std::size_t i = 0; i < nq; ++i) out[i] = tops[i].sorted();
    }

    std::size_t dim_ = 0;
    Metric metric_ = Metric::inner_product;
    VectorStore store_;
};

}  // namespace sparsedense
