// sparsedense/dense/vector_store.hpp
//
// VectorStore: n vectors of one dimension kept in a chosen encoding, scored exactly (up to the encoding) against
// f32 queries. It is the payload of FlatIndex and the re-ranking store of IvfPqIndex.
//   f32                 4 bytes/value, exact
//   f16, bf16           2 bytes/value; scored with the SIMD kernels that widen in registers (values are rounded
//                       once when stored: f16 keeps 11 significant bits, bf16 8)
//   int8_per_vector     1 byte/value + one f32 scale per vector: x ~ s_i * c, c in [-127, 127], s_i = max|x_i|/127
//   int8_per_dimension  1 byte/value + one f32 scale per dimension, fitted on the first batch added (later values
//                       outside that range saturate): x_j ~ s_j * c_j
//   int4_per_dimension  half a byte/value + an offset and a scale per dimension, fitted on the first batch added:
//                       x_j ~ o_j + s_j * c_j, c_j in [0, 15], the range [o_j, o_j + 15 s_j] spanning the 0.1% to
//                       99.9% quantiles of dimension j (clipping the extreme 0.2% halves the rounding step of the rest:
//                       glove-100's true top 10 inside the int4 top 32: 0.9987 clipped, 0.9977 min-max). Two codes a
//                       byte: byte i holds dimension i (low nibble) and dimension half + i (high), half = ceil(d / 2),
//                       so one masked load and two nibble masks give contiguous query ranges (simd::dot_u4_i8).
//                       The graph payload that halves int8's bytes (HnswIndex); scored against an int8 query.
// Scores are always computed against the f32 query: dot(q, x) and l2(q, x) = |q|^2 - 2 q.x + |x|^2 for int8 and
// int4 (with |x|^2 of the decoded vector stored per row), the SIMD kernels directly for f32/f16/bf16.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/io/binary_format.hpp"
#include "sparsedense/simd/dense_kernels.hpp"

namespace sparsedense {

enum class VectorEncoding : std::uint32_t { f32 = 0, f16 = 1, bf16 = 2, int8_per_vector = 3, int8_per_dimension = 4, int4_per_dimension = 5 };
/// The largest VectorEncoding value (files and parameters are checked against it).
inline constexpr std::uint32_t kMaxVectorEncoding = 5;

[[nodiscard]] inline const char* vector_encoding_name(VectorEncoding e) noexcept {
    switch (e) {
        case VectorEncoding::f32: return "f32";
        case VectorEncoding::f16: return "f16";
        case VectorEncoding::bf16: return "bf16";
        case VectorEncoding::int8_per_vector: return "int8";
        case VectorEncoding::int8_per_dimension: return "int8-dim";
        case VectorEncoding::int4_per_dimension: return "int4";
    }
    return "?";
}

[[nodiscard]] inline VectorEncoding parse_vector_encoding(std::string_view name) {
    if (name == "f32") return VectorEncoding::f32;
    if (name == "f16") return VectorEncoding::f16;
    if (name == "bf16") return VectorEncoding::bf16;
    if (name == "int8" || name == "int8-vector") return VectorEncoding::int8_per_vector;
    if (name == "int8-dim" || name == "int8-dimension") return VectorEncoding::int8_per_dimension;
    if (name == "int4" || name == "int4-dim" || name == "int4-dimension") return VectorEncoding::int4_per_dimension;
    raise(ErrorKind::invalid_argument, "unknown vector encoding '", name, "' (expected f32, f16, bf16, int8, int8-dim, int4)");
}

/// Bytes per value (int4: 1, two values sharing it; encoded_row_bytes gives a row's size).
[[nodiscard]] inline std::size_t encoding_value_bytes(VectorEncoding e) noexcept {
    switch (e) {
        case VectorEncoding::f32: return 4;
        case VectorEncoding::f16:
        case VectorEncoding::bf16: return 2;
        default: return 1;
    }
}
/// Bytes of one encoded row of `dim` values.
[[nodiscard]] inline std::size_t encoded_row_bytes(VectorEncoding e, std::size_t dim) noexcept {
    return e == VectorEncoding::int4_per_dimension ? (dim + 1) / 2 : dim * encoding_value_bytes(e);
}

class VectorStore {
public:
    VectorStore() = default;
    VectorStore(std::size_t dimension, VectorEncoding encoding) : dim_(dimension), encoding_(encoding) {
        if (dimension == 0) raise(ErrorKind::invalid_argument, "VectorStore: dimension must be > 0");
        if (static_cast<std::uint32_t>(encoding) > kMaxVectorEncoding) raise(ErrorKind::invalid_argument, "VectorStore: unknown encoding ", static_cast<std::uint32_t>(encoding));
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] VectorEncoding encoding() const noexcept { return encoding_; }
    [[nodiscard]] bool is_int8() const noexcept {
        return encoding_ == VectorEncoding::int8_per_vector || encoding_ == VectorEncoding::int8_per_dimension;
    }
    /// int8 or int4 codes: scores are approximate (re-score from an exact copy) and rows keep their norms.
    [[nodiscard]] bool is_quantized() const noexcept { return is_int8() || encoding_ == VectorEncoding::int4_per_dimension; }
    /// Bytes of one stored row's values.
    [[nodiscard]] std::size_t row_bytes() const noexcept { return encoded_row_bytes(encoding_, dim_); }
    /// Bytes per stored vector (values + per-vector scale/norm), per-dimension scales excluded.
    [[nodiscard]] std::size_t bytes_per_vector() const noexcept {
        return row_bytes() + (encoding_ == VectorEncoding::int8_per_vector ? 8 : is_quantized() ? 4 : 0);
    }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return bytes_.size() + row_scale_.size() * 4 + row_norm2_.size() * 4 + dim_scale_.size() * 4;
    }

    void reserve(std::size_t n) {
        bytes_.modify([&](auto& v) { v.reserve(n * row_bytes()); });
    }

    /// Appends rows (already validated and, for cosine, normalised by the caller). A loaded (mapped) store is
    /// copied into memory first.
    void append(DenseMatrixView<const float> rows) {
        if (rows.cols != dim_) raise(ErrorKind::dimension_mismatch, "VectorStore: rows have dimension ", rows.cols, ", expected ", dim_);
        if (encoding_ == VectorEncoding::int8_per_dimension && dim_scale_.empty()) fit_dimension_scales(rows);
        if (encoding_ == VectorEncoding::int4_per_dimension && dim_scale_.empty() && rows.rows > 0) fit_int4_ranges(rows);
        const std::size_t rb = row_bytes(), old = bytes_.size();
        bytes_.modify([&](auto& bytes) {
            bytes.resize(old + rows.rows * rb);
            for (std::size_t i = 0; i < rows.rows; ++i) encode_row(rows.row_data(i), bytes.data() + old + i * rb);
        });
        size_ += rows.rows;
    }

    /// A query made ready for scoring rows of this store, by id or by range: for int8 and int4 stores its integer
    /// codes and scale are computed once by prepare() (the raw-query dot(), l2_squared() and many() redo that on every
    /// call, O(dimension) each); for float encodings it only points at the query. The query must outlive it.
    struct PreparedQuery {
        const float* q = nullptr;
        float q_norm2 = 0.0f;               ///< |q|^2: the L2 scores of quantized stores use it
        /// Codes made for this encoding with the store's fitted scales. A query prepared before a per-dimension
        /// store had rows (no scales yet) or for another store does not fit: score() and many() then prepare it anew
        /// per call (VectorStore::fits).
        bool has_codes = false;
        VectorEncoding encoding = VectorEncoding::f32;
        const float* scales = nullptr;  ///< the per-dimension scales the codes were made with (identifies the store)
        std::vector<std::int16_t> codes16;  ///< int8 stores: q (x per-dimension scales) ~ scale * codes16
        std::vector<std::int8_t> codes8;    ///< int4 stores: q x scales ~ scale * codes8 (nibble layout)
        double scale = 1.0, offset_dot = 0.0;
    };
    /// A query kept by value together with its PreparedQuery, which points into it: copies and moves point theirs at
    /// their own values (the prepared scorers of the dense indexes hold one).
    class OwnedQuery {
    public:
        OwnedQuery() = default;
        explicit OwnedQuery(std::span<const float> values) : values_(values.begin(), values.end()) {}
        OwnedQuery(const OwnedQuery& o) : values_(o.values_), prepared_(o.prepared_) { prepared_.q = values_.data(); }
        OwnedQuery(OwnedQuery&& o) noexcept : values_(std::move(o.values_)), prepared_(std::move(o.prepared_)) { prepared_.q = values_.data(); }
        OwnedQuery& operator=(const OwnedQuery& o) { return *this = OwnedQuery(o); }
        OwnedQuery& operator=(OwnedQuery&& o) noexcept {
            values_ = std::move(o.values_);
            prepared_ = std::move(o.prepared_);
            prepared_.q = values_.data();
            return *this;
        }
        /// The values, to transform in place (normalize, rotate) before prepare().
        [[nodiscard]] std::span<float> values() noexcept { return values_; }
        void prepare(const VectorStore& store, bool l2) { store.prepare(values_.data(), l2, prepared_); }
        [[nodiscard]] const PreparedQuery& prepared() const noexcept { return prepared_; }

    private:
        std::vector<float> values_;
        PreparedQuery prepared_;
    };
    /// Prepares `q` for inner products, or for squared L2 distances when `l2` (a quantized store then also keeps
    /// |q|^2), into `out`, reusing its memory.
    void prepare(const float* q, bool l2, PreparedQuery& out) const {
        prepare_with_norm(q, l2 && is_quantized() ? simd::dot(q, q, dim_) : 0.0f, out);
    }
    [[nodiscard]] PreparedQuery prepare(const float* q, bool l2) const {
        PreparedQuery p;
        prepare(q, l2, p);
        return p;
    }
    /// Inner product (l2 = false) or squared Euclidean distance of a prepared query with row i; bit for bit what
    /// many() gives for that row.
    [[nodiscard]] float score(const PreparedQuery& pq, std::size_t i, bool l2) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32: return l2 ? simd::l2_squared(pq.q, f32_row(i), dim_) : simd::dot(pq.q, f32_row(i), dim_);
            case VectorEncoding::f16:
                return l2 ? simd::l2_squared(pq.q, typed_row<float16>(i), dim_) : simd::dot(pq.q, typed_row<float16>(i), dim_);
            case VectorEncoding::bf16:
                return l2 ? simd::l2_squared(pq.q, typed_row<bfloat16>(i), dim_) : simd::dot(pq.q, typed_row<bfloat16>(i), dim_);
            default: {
                float d = 0.0f;
                many(pq, i, 1, l2, &d);
                return d;
            }
        }
    }
    /// Whether a prepared query's codes serve this store (always, for float encodings).
    [[nodiscard]] bool fits(const PreparedQuery& pq) const noexcept {
        return !is_quantized() || (pq.has_codes && pq.encoding == encoding_ && pq.scales == dim_scale_.data() &&
                                   (is_int8() ? pq.codes16.size() == dim_ : pq.codes8.size() == 2 * row_bytes()));
    }
    /// out[r] = dot (or squared L2) of a prepared query with rows [first, first + count); `hint` as below.
    void many(const PreparedQuery& pq, std::size_t first, std::size_t count, bool l2, float* out,
              simd::ScanHint hint = simd::ScanHint::automatic) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32: return many_typed<float>(pq.q, first, count, l2, out, hint);
            case VectorEncoding::f16: return many_typed<float16>(pq.q, first, count, l2, out, hint);
            case VectorEncoding::bf16: return many_typed<bfloat16>(pq.q, first, count, l2, out, hint);
            default: break;
        }
        const PreparedQuery& use = fits(pq) ? pq : raw_query(pq.q, pq.q_norm2);
        if (encoding_ == VectorEncoding::int4_per_dimension) many_i4(use, first, count, l2, out);
        else many_i8(use, first, count, l2, out);
    }

    /// Inner product of the query with row i (a quantized store prepares the query on every call: see PreparedQuery).
    [[nodiscard]] float dot(const float* q, std::size_t i) const noexcept { return score(raw_query(q, 0.0f), i, false); }
    /// Squared Euclidean distance of the query to row i (q_norm2 = |q|^2, used by the quantized encodings only).
    [[nodiscard]] float l2_squared(const float* q, std::size_t i, float q_norm2) const noexcept { return score(raw_query(q, q_norm2), i, true); }
    /// out[r] = dot (or squared L2) of the query with rows [first, first + count).
    /// `hint` chooses interleaved (in-cache) or sequential (out-of-cache) row order; see simd::ScanHint.
    /// Sequential order streams the rows with the prefetching kernels (simd::stream_dot_rows); int8 rows always do.
    void many(const float* q, std::size_t first, std::size_t count, bool l2, float q_norm2, float* out,
              simd::ScanHint hint = simd::ScanHint::automatic) const noexcept {
        many(raw_query(q, q_norm2), first, count, l2, out, hint);
    }

    /// Decodes row i into out[dimension].
    void decode(std::size_t i, float* out) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32: std::memcpy(out, f32_row(i), dim_ * 4); return;
            case VectorEncoding::f16:
                for (std::size_t j = 0; j < dim_; ++j) out[j] = typed_row<float16>(i)[j].to_float();
                return;
            case VectorEncoding::bf16:
                for (std::size_t j = 0; j < dim_; ++j) out[j] = typed_row<bfloat16>(i)[j].to_float();
                return;
            case VectorEncoding::int8_per_vector:
                for (std::size_t j = 0; j < dim_; ++j) out[j] = row_scale_[i] * typed_row<std::int8_t>(i)[j];
                return;
            case VectorEncoding::int8_per_dimension:
                for (std::size_t j = 0; j < dim_; ++j) out[j] = dim_scale_[j] * typed_row<std::int8_t>(i)[j];
                return;
            case VectorEncoding::int4_per_dimension: {
                const std::uint8_t* row = bytes_.data() + i * row_bytes();
                const std::size_t half = row_bytes();
                for (std::size_t j = 0; j < dim_; ++j) {
                    const unsigned c = j < half ? row[j] & 15u : row[j - half] >> 4;
                    out[j] = dim_scale_[dim_ + j] + dim_scale_[j] * static_cast<float>(c);
                }
                return;
            }
        }
    }

    /// Prefetches the first cache lines of row i (re-ranking touches rows in random order).
    void prefetch(std::size_t i) const noexcept {
        const auto* p = reinterpret_cast<const char*>(bytes_.data() + i * row_bytes());
        const std::size_t bytes = std::min<std::size_t>(row_bytes(), 512);
        for (std::size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o);
    }

    /// Raw f32 rows (only for the f32 encoding), e.g. for block kernels.
    [[nodiscard]] const float* f32_data() const noexcept { return reinterpret_cast<const float*>(bytes_.data()); }

    // ---- raw state, for save/load
    [[nodiscard]] std::span<const std::uint8_t> raw_bytes() const noexcept { return bytes_.span(); }
    [[nodiscard]] std::span<const float> row_scales() const noexcept { return row_scale_.span(); }
    [[nodiscard]] std::span<const float> row_norms() const noexcept { return row_norm2_.span(); }
    /// int8_per_dimension: the d scales; int4_per_dimension: the d scales, then the d offsets.
    [[nodiscard]] std::span<const float> dimension_scales() const noexcept { return dim_scale_.span(); }

    /// An int4 store's query: <q, x> = offset_dot + scale * dot_u4_i8(row, codes, row_bytes()).
    struct Int4Query {
        double scale;       ///< of the int8 codes of q * s
        double offset_dot;  ///< <q, per-dimension offsets>
    };
    /// Folds q with the per-dimension scales and rounds it to int8 codes laid out as the rows' nibbles (dimension j
    /// at j, 2 * row_bytes() values, zero padded), in double (a loaded scale times the query may exceed float).
    Int4Query quantize_int4_query(const float* q, std::vector<std::int8_t>& codes) const {
        const float* scale = dim_scale_.data();
        const float* offset = scale + dim_;
        double wmax = 0.0, offset_dot = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) {
            wmax = std::max(wmax, std::fabs(static_cast<double>(q[j]) * scale[j]));
            offset_dot += static_cast<double>(q[j]) * offset[j];
        }
        const double sw = wmax > 0.0 ? wmax / 127.0 : 1.0;
        codes.assign(2 * row_bytes(), 0);
        for (std::size_t j = 0; j < dim_; ++j)
            codes[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(static_cast<double>(q[j]) * scale[j] / sw), -127.0, 127.0));
        return {sw, offset_dot};
    }
    /// Rebuilds a store from raw state (copied); sizes are checked (throws Error{corrupt_file} on mismatch).
    static VectorStore from_raw(std::size_t dimension, VectorEncoding encoding, std::size_t count, std::span<const std::uint8_t> bytes,
                                std::span<const float> row_scales, std::span<const float> row_norms, std::span<const float> dim_scales) {
        auto own = [](auto values) {
            using T = typename decltype(values)::value_type;
            return io::Buffer<T>(std::vector<T>(values.begin(), values.end()));
        };
        return from_buffers(dimension, encoding, count, own(bytes), own(row_scales), own(row_norms), own(dim_scales));
    }
    /// Whether the values are views into a mapped file (a loaded store) rather than owned memory.
    [[nodiscard]] bool is_mapped() const noexcept { return bytes_.is_mapped(); }

    /// Adds this store's arrays to a file being written (names prefixed by `prefix`, at most 5 characters).
    void add_sections(io::SectionWriter& w, const std::string& prefix) const {
        w.add<std::uint8_t>(prefix + "values", bytes_.span());
        w.add<float>(prefix + "rscale", row_scale_.span());
        w.add<float>(prefix + "rnorm", row_norm2_.span());
        w.add<float>(prefix + "dscale", dim_scale_.span());
    }
    /// Reads a store written by add_sections as views into the validated mapping (no copy; sizes checked).
    static VectorStore read_sections(const io::SectionReader& r, const std::string& prefix, std::size_t dimension, VectorEncoding encoding,
                                     std::size_t count) {
        return from_buffers(dimension, encoding, count, r.buffer<std::uint8_t>(prefix + "values"), r.buffer<float>(prefix + "rscale"),
                            r.buffer<float>(prefix + "rnorm"), r.buffer<float>(prefix + "dscale"));
    }

private:
    static VectorStore from_buffers(std::size_t dimension, VectorEncoding encoding, std::size_t count, io::Buffer<std::uint8_t> bytes,
                                    io::Buffer<float> row_scales, io::Buffer<float> row_norms, io::Buffer<float> dim_scales) {
        VectorStore s(dimension, encoding);
        const std::size_t rb = encoded_row_bytes(encoding, dimension);
        auto check = [](bool ok, const char* what) {
            if (!ok) raise(ErrorKind::corrupt_file, "VectorStore: inconsistent ", what);
        };
        check(bytes.size() % rb == 0 && bytes.size() / rb == count, "value bytes");
        check(row_scales.size() == (encoding == VectorEncoding::int8_per_vector ? count : 0), "row scales");
        check(row_norms.size() == (s.is_quantized() ? count : 0), "row norms");
        const std::size_t per_dimension = encoding == VectorEncoding::int8_per_dimension ? 1 : encoding == VectorEncoding::int4_per_dimension ? 2 : 0;
        check(dim_scales.size() == (count ? per_dimension * dimension : 0), "dimension scales");
        check(std::all_of(dim_scales.begin(), dim_scales.begin() + static_cast<std::ptrdiff_t>(dim_scales.size() ? dimension : 0),
                          [](float x) { return x > 0.0f; }),
              "dimension scales (not positive)");
        check(reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) == 0, "value alignment");
        check(all_finite(encoding, bytes.span()) && all_finite(row_scales.span()) && all_finite(row_norms.span()) &&
                  all_finite(dim_scales.span()),
              "values (not finite)");
        s.bytes_ = std::move(bytes);
        s.row_scale_ = std::move(row_scales);
        s.row_norm2_ = std::move(row_norms);
        s.dim_scale_ = std::move(dim_scales);
        s.size_ = count;
        return s;
    }

    /// Stored values beyond this magnitude are refused on load: sums of their squares over 2^24 dimensions would
    /// overflow float (and inf - inf makes NaN scores).
    static constexpr float kMaxValue = 1e15f;
    static bool all_finite(std::span<const float> values) noexcept {
        return std::all_of(values.begin(), values.end(), [](float x) { return std::fabs(x) <= kMaxValue; });
    }
    /// Whether every stored value is finite (f32 / f16 / bf16; int8 codes always are).
    static bool all_finite(VectorEncoding encoding, std::span<const std::uint8_t> bytes) noexcept {
        switch (encoding) {
            case VectorEncoding::f32:
                for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
                    float x;
                    std::memcpy(&x, bytes.data() + i, 4);
                    if (!(std::fabs(x) <= kMaxValue)) return false;
                }
                return true;
            case VectorEncoding::f16:
            case VectorEncoding::bf16: {
                const std::uint16_t exponent = encoding == VectorEncoding::f16 ? 0x7c00 : 0x7f80;  // all ones: inf or NaN
                for (std::size_t i = 0; i + 2 <= bytes.size(); i += 2) {
                    std::uint16_t h;
                    std::memcpy(&h, bytes.data() + i, 2);
                    if ((h & exponent) == exponent) return false;
                    // bf16 reaches 3e38: bound its magnitude like f32's (f16 tops out at 65504)
                    if (encoding == VectorEncoding::bf16 && !(std::fabs(bfloat16::from_bits(h).to_float()) <= kMaxValue)) return false;
                }
                return true;
            }
            default: return true;
        }
    }

    /// Encodes one row into dst (dimension x value bytes); int8 encodings also append the row's scale and norm.
    void encode_row(const float* x, std::uint8_t* dst) {
        switch (encoding_) {
            case VectorEncoding::f32: std::memcpy(dst, x, dim_ * 4); return;
            case VectorEncoding::f16: {
                auto* d = reinterpret_cast<float16*>(dst);
                for (std::size_t j = 0; j < dim_; ++j) d[j] = float16(x[j]);
                return;
            }
            case VectorEncoding::bf16: {
                auto* d = reinterpret_cast<bfloat16*>(dst);
                for (std::size_t j = 0; j < dim_; ++j) d[j] = bfloat16(x[j]);
                return;
            }
            case VectorEncoding::int8_per_vector: {
                float m = 0.0f;
                for (std::size_t j = 0; j < dim_; ++j) m = std::max(m, std::fabs(x[j]));
                const float s = m > 0.0f ? m / 127.0f : 1.0f;
                row_scale_.modify([&](auto& v) { v.push_back(s); });
                encode_int8(x, reinterpret_cast<std::int8_t*>(dst), nullptr, s);
                return;
            }
            case VectorEncoding::int8_per_dimension: encode_int8(x, reinterpret_cast<std::int8_t*>(dst), dim_scale_.data(), 1.0f); return;
            case VectorEncoding::int4_per_dimension: encode_int4(x, dst); return;
        }
    }
    /// Packed 4-bit codes (the layout above), appending |decoded x|^2 to the row norms.
    void encode_int4(const float* x, std::uint8_t* dst) {
        const std::size_t half = row_bytes();
        std::fill(dst, dst + half, std::uint8_t{0});
        double n2 = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) {
            const float s = dim_scale_[j], o = dim_scale_[dim_ + j];
            const float t = std::nearbyint((x[j] - o) / s);
            const auto c = static_cast<unsigned>(t > 0.0f ? std::min(t, 15.0f) : 0.0f);  // NaN (x = o = inf) too
            if (j < half) dst[j] = static_cast<std::uint8_t>(dst[j] | c);
            else dst[j - half] = static_cast<std::uint8_t>(dst[j - half] | (c << 4));
            const double v = static_cast<double>(o) + static_cast<double>(s) * c;
            n2 += v * v;
        }
        row_norm2_.modify([&](auto& v) { v.push_back(static_cast<float>(n2)); });
    }
    /// Symmetric int8 codes with per-dimension scales (or one scale), appending |decoded x|^2 to the row norms.
    void encode_int8(const float* x, std::int8_t* d, const float* dim_scales, float scale) {
        double n2 = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) {
            const float s = dim_scales ? dim_scales[j] : scale;
            d[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(x[j] / s), -127.0f, 127.0f));
            const double v = static_cast<double>(d[j]) * s;
            n2 += v * v;
        }
        row_norm2_.modify([&](auto& v) { v.push_back(static_cast<float>(n2)); });
    }

    template <class T>
    [[nodiscard]] const T* typed_row(std::size_t i) const noexcept {
        return reinterpret_cast<const T*>(bytes_.data()) + i * dim_;
    }
    [[nodiscard]] const float* f32_row(std::size_t i) const noexcept { return typed_row<float>(i); }

    template <class T>
    void many_typed(const float* q, std::size_t first, std::size_t count, bool l2, float* out, simd::ScanHint hint) const noexcept {
        const T* rows = typed_row<T>(first);
        if (simd::detail::scan_sequentially<T>(hint, count, dim_)) {
            if (l2) simd::stream_l2_rows(q, rows, count, dim_, out);
            else simd::stream_dot_rows(q, rows, count, dim_, out);
        } else if (l2) {
            simd::l2_squared_many(q, rows, count, dim_, dim_, out, simd::ScanHint::interleaved);
        } else {
            simd::dot_many(q, rows, count, dim_, dim_, out, simd::ScanHint::interleaved);
        }
    }
    /// The raw-query calls' prepared query: a view for float encodings; for quantized ones a per-thread one, prepared
    /// anew (it allocates only while its buffers grow).
    const PreparedQuery& raw_query(const float* q, float q_norm2) const noexcept {
        static thread_local PreparedQuery pq;
        prepare_with_norm(q, q_norm2, pq);
        return pq;
    }
    /// prepare() with |q|^2 given (the raw-query calls take it from their caller).
    void prepare_with_norm(const float* q, float q_norm2, PreparedQuery& out) const {
        out.q = q;
        out.q_norm2 = q_norm2;
        out.encoding = encoding_;
        out.scales = dim_scale_.data();
        const bool per_dimension = encoding_ == VectorEncoding::int8_per_dimension || encoding_ == VectorEncoding::int4_per_dimension;
        out.has_codes = is_quantized() && !(per_dimension && dim_scale_.empty());
        if (!out.has_codes) return;
        if (is_int8()) prepare_i8(q, out);
        else {
            const Int4Query fq = quantize_int4_query(q, out.codes8);
            out.scale = fq.scale;
            out.offset_dot = fq.offset_dot;
        }
    }
    /// int8 rows: the query (times the per-dimension scales) is rounded once (prepare) to int16 codes with one scale
    /// (q ~ sq * q16, sq = max|q| / 32767: relative error <= 2^-16 per value, far below the int8 rounding of the
    /// rows), the dot products are integer sums (simd::dot_i16_i8_rows), then x sq and the per-vector scale; L2 as
    /// |q|^2 - 2 q.x + |x|^2. Every int8 score goes through here (score() and many() agree bit for bit).
    void prepare_i8(const float* q, PreparedQuery& out) const {
        out.codes16.resize(dim_);
        const float* dscale = encoding_ == VectorEncoding::int8_per_dimension ? dim_scale_.data() : nullptr;
        // in double: a finite float query times a loaded scale (<= 1e15) can overflow float, and inf / inf is a NaN
        // that no int16 represents
        auto scaled = [&](std::size_t j) { return dscale ? static_cast<double>(q[j]) * dscale[j] : static_cast<double>(q[j]); };
        double qmax = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) qmax = std::max(qmax, std::fabs(scaled(j)));
        const double sq = qmax > 0.0 ? qmax / 32767.0 : 1.0;
        for (std::size_t j = 0; j < dim_; ++j)
            out.codes16[j] = static_cast<std::int16_t>(std::clamp(std::nearbyint(scaled(j) / sq), -32767.0, 32767.0));
        out.scale = sq;
    }
    void many_i8(const PreparedQuery& pq, std::size_t first, std::size_t count, bool l2, float* out) const noexcept {
        simd::dot_i16_i8_rows(pq.codes16.data(), typed_row<std::int8_t>(first), count, dim_, out);
        for (std::size_t r = 0; r < count; ++r) {
            const double dd = encoding_ == VectorEncoding::int8_per_vector ? out[r] * pq.scale * row_scale_[first + r] : out[r] * pq.scale;
            const float d = static_cast<float>(std::clamp(dd, -3.0e38, 3.0e38));  // in float range (the conversion is defined)
            out[r] = l2 ? std::max(0.0f, pq.q_norm2 - 2.0f * d + row_norm2_[first + r]) : d;
        }
    }

    /// int4 rows: <q, x> = <q, o> + <q * s, c>; q * s is rounded to int8 codes with one scale (in double, as for
    /// int8: quantize_int4_query, via prepare) and the code sums are integer (simd::dot_u4_i8).
    void many_i4(const PreparedQuery& pq, std::size_t first, std::size_t count, bool l2, float* out) const noexcept {
        const std::size_t half = row_bytes();
        for (std::size_t r = 0; r < count; ++r) {
            const double ip = pq.offset_dot + pq.scale * simd::dot_u4_i8(bytes_.data() + (first + r) * half, pq.codes8.data(), half);
            const float d = static_cast<float>(std::clamp(ip, -3.0e38, 3.0e38));
            out[r] = l2 ? std::max(0.0f, pq.q_norm2 - 2.0f * d + row_norm2_[first + r]) : d;
        }
    }
    /// int4: per dimension, the 0.1% and 99.9% quantiles of the first batch bound the 16 levels (a constant
    /// dimension keeps its value exactly: scale 1, offset the value, code 0).
    void fit_int4_ranges(DenseMatrixView<const float> rows) {
        std::vector<float> column(rows.rows);
        dim_scale_.modify([&](auto& ranges) {
            ranges.assign(2 * dim_, 0.0f);
            const std::size_t lo_rank = (rows.rows - 1) / 1000, hi_rank = rows.rows - 1 - lo_rank;
            for (std::size_t j = 0; j < dim_; ++j) {
                for (std::size_t i = 0; i < rows.rows; ++i) column[i] = rows.row_data(i)[j];
                std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(lo_rank), column.end());
                const float lo = column[lo_rank];
                std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(hi_rank), column.end());
                const float hi = column[hi_rank];
                const float step = (hi - lo) / 15.0f;
                ranges[j] = step > 0.0f ? step : 1.0f;  // a constant dimension (or a range too small for a float step)
                ranges[dim_ + j] = lo;
            }
        });
    }

    void fit_dimension_scales(DenseMatrixView<const float> rows) {
        dim_scale_.modify([&](auto& scales) {
            scales.assign(dim_, 0.0f);
            for (std::size_t i = 0; i < rows.rows; ++i)
                for (std::size_t j = 0; j < dim_; ++j) scales[j] = std::max(scales[j], std::fabs(rows.row_data(i)[j]));
            for (float& s : scales) s = s > 0.0f ? s / 127.0f : 1.0f;
        });
    }

    std::size_t dim_ = 0;
    VectorEncoding encoding_ = VectorEncoding::f32;
    std::size_t size_ = 0;
    // owned (built) or views into a mapped file (loaded); see io::Buffer
    io::Buffer<std::uint8_t> bytes_;
    io::Buffer<float> row_scale_;   // int8_per_vector
    io::Buffer<float> row_norm2_;   // int8 and int4 encodings: |decoded x|^2
    io::Buffer<float> dim_scale_;   // int8_per_dimension: d scales; int4_per_dimension: d scales, then d offsets
};

}  // namespace sparsedense
