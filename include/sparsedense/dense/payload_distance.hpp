// sparsedense/dense/payload_distance.hpp
//
// PayloadDistance: the distance from one query to stored vectors of a VectorStore, prepared once per query for a
// graph walk that scores a few thousand rows in random order. It picks the run-time dispatched kernel of the
// store's encoding once (simd::kernels(): f32, f16 and bf16 rows are widened in registers), so scoring a row is one
// indirect call on the row's bytes. Lower is better: -<q, x> for inner product and cosine (vectors and query
// normalised by the caller), |q - x|^2 for L2.
//
// int8 payloads are scored in integers, as graph libraries with SQ8 payloads do (glass, USearch i8): the query is
// folded with the per-dimension scales (w_j = q_j s_j) and quantized symmetrically to int8 once, so a row costs one
// i8 . i8 dot product (AVX-512 VNNI where the CPU has it): <q, x> ~ s_w s_row <w_q, c>. That adds the query's own
// rounding (relative ~1/254 per value) to the payload's, which the walk tolerates and the exact re-ranking removes.
// L2 on int8 uses |q|^2 - 2 <q, x> + |x|^2 with the row norms the store keeps.
// int4 payloads (half the bytes: a glove-100 row is 50 bytes, one or two cache lines instead of two or three) the
// same way: <q, x> = <q, o> + <q * s, c> with the per-dimension offsets o and scales s, the folded query rounded to
// int8, the 4-bit codes summed against it in integers (simd::dot_u4_i8).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sparsedense/dense/vector_store.hpp"
#include "sparsedense/simd/dispatch.hpp"

namespace sparsedense::detail {

class PayloadDistance {
public:
    /// Prepares distances from `q` (dimension values; for cosine already normalised) to the rows of `store`.
    /// `q` must stay alive while this object is used.
    void prepare(const VectorStore& store, const float* q, bool l2) {
        const simd::KernelTable& k = simd::kernels();
        dim_ = store.dimension();
        l2_ = l2;
        base_ = store.raw_bytes().data();
        row_bytes_ = store.row_bytes();
        q_ = q;
        row_scale_ = row_norm2_ = nullptr;
        prefetch_bytes_ = std::min<std::size_t>(row_bytes_, 768);
        switch (store.encoding()) {
            case VectorEncoding::f32:
                kind_ = Kind::f32;
                f32_ = l2 ? k.l2_f32 : k.dot_f32;
                break;
            case VectorEncoding::f16:
                kind_ = Kind::f16;
                f16_ = l2 ? k.l2_f16 : k.dot_f16;
                break;
            case VectorEncoding::bf16:
                kind_ = Kind::bf16;
                bf16_ = l2 ? k.l2_bf16 : k.dot_bf16;
                break;
            case VectorEncoding::int4_per_dimension: prepare_int4(store, q, k); break;
            default: prepare_int8(store, q, k);
        }
    }
    /// Prepares distances from stored row `id` to the other rows (f32 rows are used in place, others decoded).
    void prepare_row(const VectorStore& store, std::uint32_t id, bool l2) {
        if (store.encoding() == VectorEncoding::f32) {
            prepare(store, store.f32_data() + std::size_t{id} * store.dimension(), l2);
            return;
        }
        own_.resize(store.dimension());
        store.decode(id, own_.data());
        prepare(store, own_.data(), l2);
    }

    /// Distance to row `id` (lower is closer).
    [[nodiscard]] float operator()(std::uint32_t id) const noexcept {
        const std::uint8_t* row = base_ + std::size_t{id} * row_bytes_;
        float r = 0.0f;
        switch (kind_) {
            case Kind::f32: r = f32_(q_, reinterpret_cast<const float*>(row), dim_); break;
            case Kind::f16: r = f16_(q_, reinterpret_cast<const float16*>(row), dim_); break;
            case Kind::bf16: r = bf16_(q_, reinterpret_cast<const bfloat16*>(row), dim_); break;
            case Kind::int8: {
                const float ip = wscale_ * (row_scale_ ? row_scale_[id] : 1.0f) *
                                 static_cast<float>(i8_(wq_.data(), reinterpret_cast<const std::int8_t*>(row), dim_));
                return l2_ ? q_norm2_ - 2.0f * ip + row_norm2_[id] : -ip;
            }
            case Kind::int4: {
                const float ip = q_offset_ + wscale_ * static_cast<float>(u4_(row, wq_.data(), row_bytes_));
                return l2_ ? q_norm2_ - 2.0f * ip + row_norm2_[id] : -ip;
            }
        }
        return l2_ ? r : -r;
    }
    /// Prefetches row `id` (the lines of its first 768 bytes: a whole int8 row of d = 768, a whole f32 row of d = 192; measured on bge-768
    /// as good as or better than 256 or 3,072 bytes) and its per-row scale / norm when the distance reads them.
    /// (Keeping only a few rows prefetched ahead of the one scored, about 16-32 lines in flight, measured the same as
    /// prefetching every unvisited neighbour at once on bge-768, interleaved in one process.)
    /// Every cache line the first prefetch_bytes of the row touch is fetched: a row whose size is not a multiple of
    /// 64 starts mid-line (glove-100 int8: 100 bytes, half the rows span three lines, not two).
    void prefetch(std::uint32_t id) const noexcept {
        const auto first = reinterpret_cast<std::uintptr_t>(base_ + std::size_t{id} * row_bytes_);
        for (std::uintptr_t a = first & ~std::uintptr_t{63}; a < first + prefetch_bytes_; a += 64) __builtin_prefetch(reinterpret_cast<const void*>(a));
        if (row_scale_) __builtin_prefetch(row_scale_ + id);
        if (l2_ && row_norm2_) __builtin_prefetch(row_norm2_ + id);
    }
    [[nodiscard]] std::size_t row_bytes() const noexcept { return row_bytes_; }

private:
    enum class Kind : std::uint8_t { f32, f16, bf16, int8, int4 };

    /// int4: the query quantized as the store scores it (VectorStore::quantize_int4_query), its norm for L2.
    void prepare_int4(const VectorStore& store, const float* q, const simd::KernelTable& k) {
        kind_ = Kind::int4;
        u4_ = k.dot_u4_i8;
        row_norm2_ = store.row_norms().data();
        const VectorStore::Int4Query fq = store.quantize_int4_query(q, wq_);
        double n2 = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) n2 += static_cast<double>(q[j]) * q[j];
        wscale_ = static_cast<float>(fq.scale);
        q_offset_ = static_cast<float>(std::clamp(fq.offset_dot, -3.0e38, 3.0e38));
        q_norm2_ = static_cast<float>(n2);
    }

    void prepare_int8(const VectorStore& store, const float* q, const simd::KernelTable& k) {
        kind_ = Kind::int8;
        i8_ = k.dot_i8;
        const auto dscale = store.dimension_scales();
        row_scale_ = store.encoding() == VectorEncoding::int8_per_vector ? store.row_scales().data() : nullptr;
        row_norm2_ = store.row_norms().data();
        std::vector<float>& w = scratch_;
        w.assign(q, q + dim_);
        if (!dscale.empty())
            for (std::size_t j = 0; j < dim_; ++j) w[j] *= dscale[j];
        float m = 0.0f;
        double n2 = 0.0;
        for (std::size_t j = 0; j < dim_; ++j) {
            m = std::max(m, std::fabs(w[j]));
            n2 += static_cast<double>(q[j]) * q[j];
        }
        q_norm2_ = static_cast<float>(n2);
        wscale_ = m > 0.0f ? m / 127.0f : 1.0f;
        wq_.resize(dim_);
        for (std::size_t j = 0; j < dim_; ++j) wq_[j] = static_cast<std::int8_t>(std::clamp(std::nearbyint(w[j] / wscale_), -127.0f, 127.0f));
    }

    Kind kind_ = Kind::f32;
    bool l2_ = false;
    std::size_t dim_ = 0, row_bytes_ = 0, prefetch_bytes_ = 0;
    const std::uint8_t* base_ = nullptr;
    const float* q_ = nullptr;
    float (*f32_)(const float*, const float*, std::size_t) noexcept = nullptr;
    float (*f16_)(const float*, const float16*, std::size_t) noexcept = nullptr;
    float (*bf16_)(const float*, const bfloat16*, std::size_t) noexcept = nullptr;
    std::int32_t (*i8_)(const std::int8_t*, const std::int8_t*, std::size_t) noexcept = nullptr;
    std::int32_t (*u4_)(const std::uint8_t*, const std::int8_t*, std::size_t) noexcept = nullptr;
    // int8 and int4
    std::vector<std::int8_t> wq_;
    float wscale_ = 1.0f, q_norm2_ = 0.0f, q_offset_ = 0.0f;
    const float* row_scale_ = nullptr;
    const float* row_norm2_ = nullptr;
    std::vector<float> scratch_, own_;
};

}  // namespace sparsedense::detail
