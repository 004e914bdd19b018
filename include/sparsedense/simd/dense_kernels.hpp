// sparsedense/simd/dense_kernels.hpp
//
// Dense distance kernels, dispatched at run time (see dispatch.hpp) to AVX-512, AVX2, SSE or scalar code:
//   dot / l2_squared            f32 query . stored f32, f16 or bf16 vector (stored side widened in registers)
//   dot_many / l2_squared_many  one query against many rows (rows share each query load)
//   dot_block / l2_squared_block  a block of queries against a block of rows, register-blocked (4x4 on AVX-512),
//                               the flat-scan kernel for query batches
//   stream_dot_rows / stream_l2_rows  one query against contiguous rows in address order with software prefetch:
//                               the out-of-cache flat scan (ScanHint::sequential); same per-row values as dot()
//   dot_i16_i8_rows             int16 query . int8 rows in integers (vpmaddwd), FlatIndex's int8 storage
//   dot_i8 / dot_u8 / dot_u8_i8 integer dot products, exact in i32 (VNNI vpdpwssd where the CPU has it)
//   dot_u4_i8       packed 4-bit codes against an int8 query (VectorEncoding::int4_per_dimension rows)
// Accumulation is in f32 with several independent accumulators, so results differ from the sequential scalar
// reference by rounding only: |simd - scalar| <= ~n * 2^-23 * sum|a_i * b_i|. Integer results are exact while
// n * 255 * 255 < 2^31 (u8 . u8: n <= 33,025).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/simd/dispatch.hpp"

namespace sparsedense::simd {

namespace detail {
inline void validate_many(std::size_t q, std::size_t cols, std::size_t rows, std::size_t out) {
    if (q != cols) raise(ErrorKind::dimension_mismatch, "query has dimension ", q, ", rows have ", cols);
    if (out != rows) raise(ErrorKind::dimension_mismatch, "output has ", out, " slots for ", rows, " rows");
}
inline void validate_block(DenseMatrixView<const float> queries, DenseMatrixView<const float> rows, DenseMatrixView<float> out) {
    if (queries.cols != rows.cols) raise(ErrorKind::dimension_mismatch, "queries have dimension ", queries.cols, ", rows have ", rows.cols);
    if (out.rows != queries.rows || out.cols != rows.rows)
        raise(ErrorKind::dimension_mismatch, "output is ", out.rows, "x", out.cols, ", expected ", queries.rows, "x", rows.rows);
}
}  // namespace detail

inline float dot(const float* a, const float* b, std::size_t n) noexcept { return kernels().dot_f32(a, b, n); }
inline float dot(const float* a, const float16* b, std::size_t n) noexcept { return kernels().dot_f16(a, b, n); }
inline float dot(const float* a, const bfloat16* b, std::size_t n) noexcept { return kernels().dot_bf16(a, b, n); }
inline float l2_squared(const float* a, const float* b, std::size_t n) noexcept { return kernels().l2_f32(a, b, n); }
inline float l2_squared(const float* a, const float16* b, std::size_t n) noexcept { return kernels().l2_f16(a, b, n); }
inline float l2_squared(const float* a, const bfloat16* b, std::size_t n) noexcept { return kernels().l2_bf16(a, b, n); }

inline std::int32_t dot(const std::int8_t* a, const std::int8_t* b, std::size_t n) noexcept { return kernels().dot_i8(a, b, n); }
/// Packed 4-bit codes . int8 query: byte i holds code i (low nibble) and code half + i (high nibble); q has 2 * half
/// values (exact in i32 for half <= 2^20).
inline std::int32_t dot_u4_i8(const std::uint8_t* codes, const std::int8_t* q, std::size_t half) noexcept { return kernels().dot_u4_i8(codes, q, half); }
inline std::int32_t dot(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept { return kernels().dot_u8(a, b, n); }
inline std::int32_t dot(const std::uint8_t* a, const std::int8_t* b, std::size_t n) noexcept { return kernels().dot_u8_i8(a, b, n); }

/// Span forms: check lengths (throws Error on mismatch).
template <class T>
inline float dot(std::span<const float> a, std::span<const T> b) {
    if (a.size() != b.size()) raise(ErrorKind::dimension_mismatch, "dot: lengths ", a.size(), " and ", b.size());
    return dot(a.data(), b.data(), a.size());
}
template <class T>
inline float l2_squared(std::span<const float> a, std::span<const T> b) {
    if (a.size() != b.size()) raise(ErrorKind::dimension_mismatch, "l2_squared: lengths ", a.size(), " and ", b.size());
    return l2_squared(a.data(), b.data(), a.size());
}

/// How dot_many / l2_squared_many walk the rows.
///  - interleaved: several rows per pass sharing each query load (8 on AVX-512). Fastest while the rows are in
///    cache (up to 1.5x at 512 KiB), but from DRAM the interleaved streams defeat the hardware prefetcher
///    (measured: 45% of the streaming-read bandwidth at 1 GiB).
///  - sequential: one row after another; 85-100% of the streaming-read bandwidth out of cache.
///  - automatic: sequential when this call's rows exceed sequential_scan_bytes, else interleaved. A caller that
///    scans a large set in small chunks knows better and should pass `sequential` itself (FlatIndex does).
enum class ScanHint { automatic, interleaved, sequential };

/// Row-set size above which a scan is expected to come from DRAM (the measured crossover is 8-24 MiB on Zen 4).
inline constexpr std::size_t sequential_scan_bytes = std::size_t{12} << 20;

namespace detail {
template <class T>
inline bool scan_sequentially(ScanHint hint, std::size_t count, std::size_t stride) noexcept {
    return hint == ScanHint::sequential || (hint == ScanHint::automatic && count * stride * sizeof(T) > sequential_scan_bytes);
}
template <class T, class Many, class One>
inline void scan_rows(const float* q, const T* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out, ScanHint hint,
                      Many many, One one) noexcept {
    if (scan_sequentially<T>(hint, count, stride)) {
        for (std::size_t r = 0; r < count; ++r) out[r] = one(q, rows + r * stride, dim);
    } else {
        many(q, rows, count, dim, stride, out);
    }
}
}  // namespace detail

/// One query against `count` contiguous rows (stride = dim), row after row in address order (the hardware prefetcher
/// follows one stream; software prefetch measured slower): out[r] is
/// the value dot() / l2_squared() gives for row r, bit for bit (the same per-row code).
inline void stream_dot_rows(const float* q, const float* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_dot_f32(q, rows, count, dim, out);
}
inline void stream_dot_rows(const float* q, const float16* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_dot_f16(q, rows, count, dim, out);
}
inline void stream_dot_rows(const float* q, const bfloat16* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_dot_bf16(q, rows, count, dim, out);
}
inline void stream_l2_rows(const float* q, const float* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_l2_f32(q, rows, count, dim, out);
}
inline void stream_l2_rows(const float* q, const float16* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_l2_f16(q, rows, count, dim, out);
}
inline void stream_l2_rows(const float* q, const bfloat16* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->stream_l2_bf16(q, rows, count, dim, out);
}
/// out[r] = sum_j q[j] * row_r[j] over `count` contiguous int8 rows and an int16 query: int32 lane sums, exact
/// (flushed every 2,048 values), converted to f32 and added; levels differ by that f32 rounding only (none while
/// every partial sum stays below 2^24).
inline void dot_i16_i8_rows(const std::int16_t* q, const std::int8_t* rows, std::size_t count, std::size_t dim, float* out) noexcept {
    kernels().flat_scan->dot_i16_i8_rows(q, rows, count, dim, out);
}

/// Packs `count` rows (dim values, `stride` apart) into 16-row panels for panel_dot / panel_l2: value j of row r goes
/// to panels[(r / 16) * 16 * dim + j * 16 + r % 16]; rows up to the next multiple of 16 are zero. `panels` holds
/// round_up(count, 16) * dim floats. T = float, float16 or bfloat16 (widened here).
template <class T>
inline void pack_panels(const T* rows, std::size_t count, std::size_t dim, std::size_t stride, float* panels) {
    const std::size_t padded = (count + 15) / 16 * 16;
    std::vector<float> wide(std::is_same_v<T, float> ? 0 : dim);
    for (std::size_t p = 0; p < padded; p += 16) {
        float* dst = panels + p * dim;
        for (std::size_t lane = 0; lane < 16; ++lane) {
            if (p + lane < count) {
                const float* src = nullptr;
                if constexpr (std::is_same_v<T, float>) {
                    src = rows + (p + lane) * stride;
                } else {
                    if constexpr (std::is_same_v<T, float16>) kernels().flat_scan->widen_f16(rows + (p + lane) * stride, dim, wide.data());
                    else kernels().flat_scan->widen_bf16(rows + (p + lane) * stride, dim, wide.data());
                    src = wide.data();
                }
                for (std::size_t j = 0; j < dim; ++j) dst[j * 16 + lane] = src[j];
            } else {
                for (std::size_t j = 0; j < dim; ++j) dst[j * 16 + lane] = 0.0f;
            }
        }
    }
}
/// out[i * out_stride + r] = dot (squared L2) of query i and packed row r, for nr = a multiple of 16 packed rows:
/// the register-blocked batch kernel (each row value loaded feeds 12 queries on AVX-512; no horizontal sums).
inline void panel_dot(const float* queries, std::size_t nq, std::size_t q_stride, const float* panels, std::size_t nr, std::size_t dim,
                      float* out, std::size_t out_stride) noexcept {
    kernels().flat_scan->panel_dot(queries, nq, q_stride, panels, nr, dim, out, out_stride);
}
inline void panel_l2(const float* queries, std::size_t nq, std::size_t q_stride, const float* panels, std::size_t nr, std::size_t dim,
                     float* out, std::size_t out_stride) noexcept {
    kernels().flat_scan->panel_l2(queries, nq, q_stride, panels, nr, dim, out, out_stride);
}

inline void dot_many(const float* q, const float* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                     ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.dot_many_f32, k.dot_f32);
}
inline void dot_many(const float* q, const float16* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                     ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.dot_many_f16, k.dot_f16);
}
inline void dot_many(const float* q, const bfloat16* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                     ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.dot_many_bf16, k.dot_bf16);
}
inline void l2_squared_many(const float* q, const float* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                            ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.l2_many_f32, k.l2_f32);
}
inline void l2_squared_many(const float* q, const float16* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                            ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.l2_many_f16, k.l2_f16);
}
inline void l2_squared_many(const float* q, const bfloat16* rows, std::size_t count, std::size_t dim, std::size_t stride, float* out,
                            ScanHint hint = ScanHint::automatic) noexcept {
    const KernelTable& k = kernels();
    detail::scan_rows(q, rows, count, dim, stride, out, hint, k.l2_many_bf16, k.l2_bf16);
}

/// View forms: query length must equal rows.cols, out.size() must equal rows.rows.
template <class T>
inline void dot_many(std::span<const float> q, DenseMatrixView<const T> rows, std::span<float> out, ScanHint hint = ScanHint::automatic) {
    detail::validate_many(q.size(), rows.cols, rows.rows, out.size());
    dot_many(q.data(), rows.data, rows.rows, rows.cols, rows.stride, out.data(), hint);
}
template <class T>
inline void l2_squared_many(std::span<const float> q, DenseMatrixView<const T> rows, std::span<float> out,
                            ScanHint hint = ScanHint::automatic) {
    detail::validate_many(q.size(), rows.cols, rows.rows, out.size());
    l2_squared_many(q.data(), rows.data, rows.rows, rows.cols, rows.stride, out.data(), hint);
}

inline void dot_block(const float* queries, std::size_t nq, std::size_t q_stride, const float* rows, std::size_t nr,
                      std::size_t r_stride, std::size_t dim, float* out, std::size_t out_stride) noexcept {
    kernels().dot_block_f32(queries, nq, q_stride, rows, nr, r_stride, dim, out, out_stride);
}
inline void l2_squared_block(const float* queries, std::size_t nq, std::size_t q_stride, const float* rows, std::size_t nr,
                             std::size_t r_stride, std::size_t dim, float* out, std::size_t out_stride) noexcept {
    kernels().l2_block_f32(queries, nq, q_stride, rows, nr, r_stride, dim, out, out_stride);
}

/// View form: out is queries.rows x rows.rows (out.cols == rows.rows).
inline void dot_block(DenseMatrixView<const float> queries, DenseMatrixView<const float> rows, DenseMatrixView<float> out) {
    detail::validate_block(queries, rows, out);
    dot_block(queries.data, queries.rows, queries.stride, rows.data, rows.rows, rows.stride, rows.cols, out.data, out.stride);
}
inline void l2_squared_block(DenseMatrixView<const float> queries, DenseMatrixView<const float> rows, DenseMatrixView<float> out) {
    detail::validate_block(queries, rows, out);
    l2_squared_block(queries.data, queries.rows, queries.stride, rows.data, rows.rows, rows.stride, rows.cols, out.data, out.stride);
}


}  // namespace sparsedense::simd
