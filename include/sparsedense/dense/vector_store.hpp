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
// Scores are always computed against the f32 query: dot(q, x) and l2(q, x) = |q|^2 - 2 q.x + |x|^2 for int8 (with
// |x|^2 of the decoded vector stored per row), the SIMD kernels directly for f32/f16/bf16.
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

enum class VectorEncoding : std::uint32_t { f32 = 0, f16 = 1, bf16 = 2, int8_per_vector = 3, int8_per_dimension = 4 };

[[nodiscard]] inline const char* vector_encoding_name(VectorEncoding e) noexcept {
    switch (e) {
        case VectorEncoding::f32: return "f32";
        case VectorEncoding::f16: return "f16";
        case VectorEncoding::bf16: return "bf16";
        case VectorEncoding::int8_per_vector: return "int8";
        case VectorEncoding::int8_per_dimension: return "int8-dim";
    }
    return "?";
}

[[nodiscard]] inline VectorEncoding parse_vector_encoding(std::string_view name) {
    if (name == "f32") return VectorEncoding::f32;
    if (name == "f16") return VectorEncoding::f16;
    if (name == "bf16") return VectorEncoding::bf16;
    if (name == "int8" || name == "int8-vector") return VectorEncoding::int8_per_vector;
    if (name == "int8-dim" || name == "int8-dimension") return VectorEncoding::int8_per_dimension;
    raise(ErrorKind::invalid_argument, "unknown vector encoding '", name, "' (expected f32, f16, bf16, int8, int8-dim)");
}

[[nodiscard]] inline std::size_t encoding_value_bytes(VectorEncoding e) noexcept {
    switch (e) {
        case VectorEncoding::f32: return 4;
        case VectorEncoding::f16:
        case VectorEncoding::bf16: return 2;
        default: return 1;
    }
}

class VectorStore {
public:
    VectorStore() = default;
    VectorStore(std::size_t dimension, VectorEncoding encoding) : dim_(dimension), encoding_(encoding) {
        if (dimension == 0) raise(ErrorKind::invalid_argument, "vector store: dimension must be > 0");
        if (static_cast<std::uint32_t>(encoding) > 4) raise(ErrorKind::invalid_argument, "vector store: unknown encoding");
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t dimension() const noexcept { return dim_; }
    [[nodiscard]] VectorEncoding encoding() const noexcept { return encoding_; }
    [[nodiscard]] bool is_int8() const noexcept {
        return encoding_ == VectorEncoding::int8_per_vector || encoding_ == VectorEncoding::int8_per_dimension;
    }
    /// Bytes per stored vector (values + per-vector scale/norm), per-dimension scales excluded.
    [[nodiscard]] std::size_t bytes_per_vector() const noexcept {
        return dim_ * encoding_value_bytes(encoding_) + (is_int8() ? 8 : 0);
    }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return bytes_.size() + row_scale_.size() * 4 + row_norm2_.size() * 4 + dim_scale_.size() * 4;
    }

    void reserve(std::size_t n) { bytes_.reserve(n * dim_ * encoding_value_bytes(encoding_)); }

    /// Appends rows (already validated and, for cosine, normalised by the caller).
    void append(DenseMatrixView<const float> rows) {
        if (rows.cols != dim_) raise(ErrorKind::dimension_mismatch, "vector store: rows have dimension ", rows.cols, ", expected ", dim_);
        const std::size_t vb = encoding_value_bytes(encoding_);
        if (encoding_ == VectorEncoding::int8_per_dimension && dim_scale_.empty()) fit_dimension_scales(rows);
        const std::size_t old = bytes_.size();
        bytes_.resize(old + rows.rows * dim_ * vb);
        for (std::size_t i = 0; i < rows.rows; ++i) {
            const float* x = rows.row_data(i);
            std::uint8_t* dst = bytes_.data() + old + i * dim_ * vb;
            switch (encoding_) {
                case VectorEncoding::f32: std::memcpy(dst, x, dim_ * 4); break;
                case VectorEncoding::f16: {
                    auto* d = reinterpret_cast<float16*>(dst);
                    for (std::size_t j = 0; j < dim_; ++j) d[j] = float16(x[j]);
                    break;
                }
                case VectorEncoding::bf16: {
                    auto* d = reinterpret_cast<bfloat16*>(dst);
                    for (std::size_t j = 0; j < dim_; ++j) d[j] = bfloat16(x[j]);
                    break;
                }
                case VectorEncoding::int8_per_vector: {
                    float m = 0.0f;
                    for (std::size_t j = 0; j < dim_; ++j) m = std::max(m, std::fabs(x[j]));
                    const float s = m > 0.0f ? m / 127.0f : 1.0f;
                    auto* d = reinterpret_cast<std::int8_t*>(dst);
                    double n2 = 0.0;
                    for (std::size_t j = 0; j < dim_; ++j) {
                        d[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(x[j] / s), -127.0f, 127.0f));
                        const double v = static_cast<double>(d[j]) * s;
                        n2 += v * v;
                    }
                    row_scale_.push_back(s);
                    row_norm2_.push_back(static_cast<float>(n2));
                    break;
                }
                case VectorEncoding::int8_per_dimension: {
                    auto* d = reinterpret_cast<std::int8_t*>(dst);
                    double n2 = 0.0;
                    for (std::size_t j = 0; j < dim_; ++j) {
                        d[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(x[j] / dim_scale_[j]), -127.0f, 127.0f));
                        const double v = static_cast<double>(d[j]) * dim_scale_[j];
                        n2 += v * v;
                    }
                    row_norm2_.push_back(static_cast<float>(n2));
                    break;
                }
            }
        }
        size_ += rows.rows;
    }

    /// Inner product of the query with row i.
    [[nodiscard]] float dot(const float* q, std::size_t i) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32: return simd::dot(q, f32_row(i), dim_);
            case VectorEncoding::f16: return simd::dot(q, typed_row<float16>(i), dim_);
            case VectorEncoding::bf16: return simd::dot(q, typed_row<bfloat16>(i), dim_);
            case VectorEncoding::int8_per_vector: return row_scale_[i] * dot_i8(q, typed_row<std::int8_t>(i), nullptr);
            case VectorEncoding::int8_per_dimension: return dot_i8(q, typed_row<std::int8_t>(i), dim_scale_.data());
        }
        return 0.0f;
    }
    /// Squared Euclidean distance of the query to row i (q_norm2 = |q|^2, used by the int8 encodings only).
    [[nodiscard]] float l2_squared(const float* q, std::size_t i, float q_norm2) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32: return simd::l2_squared(q, f32_row(i), dim_);
            case VectorEncoding::f16: return simd::l2_squared(q, typed_row<float16>(i), dim_);
            case VectorEncoding::bf16: return simd::l2_squared(q, typed_row<bfloat16>(i), dim_);
            default: return std::max(0.0f, q_norm2 - 2.0f * dot(q, i) + row_norm2_[i]);
        }
    }
    /// out[r] = dot (or squared L2) of the query with rows [first, first + count).
    /// `hint` chooses interleaved (in-cache) or sequential (out-of-cache) row order; see simd::ScanHint.
    void many(const float* q, std::size_t first, std::size_t count, bool l2, float q_norm2, float* out,
              simd::ScanHint hint = simd::ScanHint::automatic) const noexcept {
        switch (encoding_) {
            case VectorEncoding::f32:
                if (l2) simd::l2_squared_many(q, f32_row(first), count, dim_, dim_, out, hint);
                else simd::dot_many(q, f32_row(first), count, dim_, dim_, out, hint);
                return;
            case VectorEncoding::f16:
                if (l2) simd::l2_squared_many(q, typed_row<float16>(first), count, dim_, dim_, out, hint);
                else simd::dot_many(q, typed_row<float16>(first), count, dim_, dim_, out, hint);
                return;
            case VectorEncoding::bf16:
                if (l2) simd::l2_squared_many(q, typed_row<bfloat16>(first), count, dim_, dim_, out, hint);
                else simd::dot_many(q, typed_row<bfloat16>(first), count, dim_, dim_, out, hint);
                return;
            default:
                for (std::size_t r = 0; r < count; ++r) out[r] = l2 ? l2_squared(q, first + r, q_norm2) : dot(q, first + r);
        }
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
        }
    }

    /// Prefetches the first cache lines of row i (re-ranking touches rows in random order).
    void prefetch(std::size_t i) const noexcept {
        const std::size_t vb = encoding_value_bytes(encoding_);
        const auto* p = reinterpret_cast<const char*>(bytes_.data() + i * dim_ * vb);
        const std::size_t bytes = std::min<std::size_t>(dim_ * vb, 512);
        for (std::size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o);
    }

    /// Raw f32 rows (only for the f32 encoding), e.g. for block kernels.
    [[nodiscard]] const float* f32_data() const noexcept { return reinterpret_cast<const float*>(bytes_.data()); }

    // ---- raw state, for save/load
    [[nodiscard]] std::span<const std::uint8_t> raw_bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::span<const float> row_scales() const noexcept { return row_scale_; }
    [[nodiscard]] std::span<const float> row_norms() const noexcept { return row_norm2_; }
    [[nodiscard]] std::span<const float> dimension_scales() const noexcept { return dim_scale_; }
    /// Rebuilds a store from raw state; sizes are checked (throws Error{corrupt_file} on mismatch).
    static VectorStore from_raw(std::size_t dimension, VectorEncoding encoding, std::size_t count, std::span<const std::uint8_t> bytes,
                                std::span<const float> row_scales, std::span<const float> row_norms, std::span<const float> dim_scales) {
        VectorStore s(dimension, encoding);
        const std::size_t vb = encoding_value_bytes(encoding);
        auto check = [](bool ok, const char* what) {
            if (!ok) raise(ErrorKind::corrupt_file, "vector store: inconsistent ", what);
        };
        check(bytes.size() % (dimension * vb) == 0 && bytes.size() / (dimension * vb) == count, "value bytes");
        check(row_scales.size() == (encoding == VectorEncoding::int8_per_vector ? count : 0), "row scales");
        check(row_norms.size() == (s.is_int8() ? count : 0), "row norms");
        check(dim_scales.size() == (encoding == VectorEncoding::int8_per_dimension && count ? dimension : 0), "dimension scales");
        s.bytes_.assign(bytes.begin(), bytes.end());
        s.row_scale_.assign(row_scales.begin(), row_scales.end());
        s.row_norm2_.assign(row_norms.begin(), row_norms.end());
        s.dim_scale_.assign(dim_scales.begin(), dim_scales.end());
        s.size_ = count;
        return s;
    }

    /// Adds this store's arrays to a file being written (names prefixed by `prefix`, at most 5 characters).
    void add_sections(io::SectionWriter& w, const std::string& prefix) const {
        w.add<std::uint8_t>(prefix + "values", std::span<const std::uint8_t>(bytes_.data(), bytes_.size()));
        w.add<float>(prefix + "rscale", row_scale_);
        w.add<float>(prefix + "rnorm", row_norm2_);
        w.add<float>(prefix + "dscale", dim_scale_);
    }
    /// Reads a store written by add_sections (copied out of the validated mapping).
    static VectorStore read_sections(const io::SectionReader& r, const std::string& prefix, std::size_t dimension, VectorEncoding encoding,
                                     std::size_t count) {
        return from_raw(dimension, encoding, count, r.span<std::uint8_t>(prefix + "values"), r.span<float>(prefix + "rscale"),
                        r.span<float>(prefix + "rnorm"), r.span<float>(prefix + "dscale"));
    }

private:
    template <class T>
    [[nodiscard]] const T* typed_row(std::size_t i) const noexcept {
        return reinterpret_cast<const T*>(bytes_.data()) + i * dim_;
    }
    [[nodiscard]] const float* f32_row(std::size_t i) const noexcept { return typed_row<float>(i); }

    float dot_i8(const float* q, const std::int8_t* c, const float* scales) const noexcept {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        std::size_t j = 0;
        if (scales) {
            for (; j + 4 <= dim_; j += 4) {
                s0 += q[j] * scales[j] * c[j];
                s1 += q[j + 1] * scales[j + 1] * c[j + 1];
                s2 += q[j + 2] * scales[j + 2] * c[j + 2];
                s3 += q[j + 3] * scales[j + 3] * c[j + 3];
            }
            for (; j < dim_; ++j) s0 += q[j] * scales[j] * c[j];
        } else {
            for (; j + 4 <= dim_; j += 4) {
                s0 += q[j] * c[j];
                s1 += q[j + 1] * c[j + 1];
                s2 += q[j + 2] * c[j + 2];
                s3 += q[j + 3] * c[j + 3];
            }
            for (; j < dim_; ++j) s0 += q[j] * c[j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    void fit_dimension_scales(DenseMatrixView<const float> rows) {
        dim_scale_.assign(dim_, 0.0f);
        for (std::size_t i = 0; i < rows.rows; ++i)
            for (std::size_t j = 0; j < dim_; ++j) dim_scale_[j] = std::max(dim_scale_[j], std::fabs(rows.row_data(i)[j]));
        for (float& s : dim_scale_) s = s > 0.0f ? s / 127.0f : 1.0f;
    }

    std::size_t dim_ = 0;
    VectorEncoding encoding_ = VectorEncoding::f32;
    std::size_t size_ = 0;
    aligned_vector<std::uint8_t> bytes_;
    std::vector<float> row_scale_;   // int8_per_vector
    std::vector<float> row_norm2_;   // int8 encodings: |decoded x|^2
    std::vector<float> dim_scale_;   // int8_per_dimension
};

}  // namespace sparsedense
