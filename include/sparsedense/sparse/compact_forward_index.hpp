// sparsedense/sparse/compact_forward_index.hpp
//
// CompactForwardIndex: every document's sparse vector in one contiguous array of 4-byte words, compact enough
// that scoring a document costs one short sequential read. This is the forward index of the clustered index
// (Seismic, Bruch et al., SIGIR 2024, evaluates documents exactly from such an index after choosing them through
// the inverted lists).
//
// Record of a document with n terms, starting on a 4-byte boundary:
//   [u8 values only: f32 offset, f32 step]  term ids (u16 when the vocabulary has <= 65,536 terms, else u32),
//   padded to 4 bytes, then the n values (f32, f16, or u8 codes with value = offset + step * code, per document).
// A document is addressed by a 64-bit "location" = word offset << 24 | n, which the clustered index stores in its
// postings, so scoring a posting needs no id -> offset lookup; prefetch(location) pulls the record's cache lines.
// scorer() is the inner product of a record with a dense query (the query scattered once into a dimension-sized
// array): the forward-record kernel of simd/forward_record.hpp at the active SIMD level (the library's one dispatch).
// Limits: up to 2^24 - 1 terms per document and 2^40 words (4 TiB) of records.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/sparse_vector.hpp"
#include "sparsedense/core/value_types.hpp"
#include "sparsedense/simd/dispatch.hpp"
#include "sparsedense/simd/forward_record.hpp"
#include "sparsedense/core/parallel.hpp"

namespace sparsedense {

namespace detail {

inline constexpr unsigned forward_len_bits = 24;
inline constexpr std::uint64_t forward_len_mask = (std::uint64_t{1} << forward_len_bits) - 1;

/// Layout parameters of a record: id width and value type.
struct ForwardLayout {
    bool wide_ids = false;  // u32 ids (else u16)
    WeightPrecision values = WeightPrecision::f16;

    [[nodiscard]] std::size_t header_words() const noexcept { return values == WeightPrecision::u8 ? 2 : 0; }
    [[nodiscard]] std::size_t id_bytes(std::size_t n) const noexcept { return ((wide_ids ? 4 : 2) * n + 3) & ~std::size_t{3}; }
    [[nodiscard]] std::size_t value_bytes(std::size_t n) const noexcept {
        return values == WeightPrecision::f32 ? 4 * n : values == WeightPrecision::f16 ? 2 * n : n;
    }
    [[nodiscard]] std::size_t record_words(std::size_t n) const noexcept {
        return header_words() + (id_bytes(n) + value_bytes(n) + 3) / 4;
    }
    /// 0..5: (u16 | u32 ids) x (f32 | f16 | u8), as simd::forward_record_kind numbers them
    [[nodiscard]] int kind() const noexcept { return simd::forward_record_kind(wide_ids, values); }
};

/// A record scorer of the active SIMD level (simd/forward_record.hpp).
using RecordScorer = simd::ForwardRecordScorer;

}  // namespace detail

class CompactForwardIndex {
public:
    CompactForwardIndex() = default;

    /// Encodes the rows of `docs` (validated by the caller). `dimension` decides the id width. The returned index
    /// views a 64-byte-aligned part of `words_out` (which holds some slack in front): keep its words(), not the vector.
    static CompactForwardIndex build(CsrMatrixView<float> docs, std::size_t dimension, WeightPrecision values, std::size_t threads,
                                     std::vector<std::uint32_t>& words_out, std::vector<std::uint64_t>& locations_out);

    /// Wraps arrays produced by build() or read from a file (not copied; the caller keeps them alive).
    static CompactForwardIndex view(std::span<const std::uint32_t> words, std::span<const std::uint64_t> locations, std::size_t dimension,
                                    WeightPrecision values) {
        CompactForwardIndex f;
        f.words_ = words;
        f.locations_ = locations;
        f.layout_.wide_ids = dimension > 65536;
        f.layout_.values = values;
        return f;
    }

    [[nodiscard]] std::size_t size() const noexcept { return locations_.size(); }
    [[nodiscard]] std::uint64_t location(std::uint32_t doc) const noexcept { return locations_[doc]; }
    [[nodiscard]] static std::size_t length_of(std::uint64_t location) noexcept { return static_cast<std::size_t>(location & detail::forward_len_mask); }
    [[nodiscard]] const std::uint32_t* record(std::uint64_t location) const noexcept { return words_.data() + (location >> detail::forward_len_bits); }
    [[nodiscard]] const detail::ForwardLayout& layout() const noexcept { return layout_; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept { return words_.size_bytes() + locations_.size_bytes(); }
    [[nodiscard]] std::span<const std::uint32_t> words() const noexcept { return words_; }
    [[nodiscard]] std::span<const std::uint64_t> locations() const noexcept { return locations_; }

    /// Pulls every cache line of a record towards L1 (records are 4-byte aligned, so a record not starting on a line
    /// boundary also touches the line of its last byte).
    void prefetch(std::uint64_t location) const noexcept {
        const auto* first = reinterpret_cast<const char*>(record(location));
        const char* last = first + 4 * layout_.record_words(length_of(location)) - 1;
        for (const char* line = first; line <= last; line += 64) __builtin_prefetch(line, 0, 3);
        __builtin_prefetch(last, 0, 3);
    }

    /// The scoring kernel for this layout at the active SIMD level.
    [[nodiscard]] detail::RecordScorer scorer() const noexcept { return simd::kernels().forward_record->by_kind[layout_.kind()]; }

    /// Calls fn(term id, stored value as float) for every term of a document, in ascending term order.
    template <class Fn>
    void for_each_term(std::uint32_t doc, Fn&& fn) const {
        const std::uint64_t loc = locations_[doc];
        const std::size_t n = length_of(loc);
        const std::uint32_t* rec = record(loc);
        auto run = [&](auto id_tag, auto value_tag) {
            using Id = decltype(id_tag);
            using Value = decltype(value_tag);
            const auto r = simd::forward_record_view<Id, Value>(rec, n);
            for (std::size_t i = 0; i < n; ++i) {
                if constexpr (std::is_same_v<Value, std::uint8_t>) fn(static_cast<std::uint32_t>(r.ids[i]), r.offset + r.step * static_cast<float>(r.values[i]));
                else fn(static_cast<std::uint32_t>(r.ids[i]), to_float(r.values[i]));
            }
        };
        switch (layout_.kind()) {
            case 0: run(std::uint16_t{}, float{}); break;
            case 1: run(std::uint16_t{}, float16{}); break;
            case 2: run(std::uint16_t{}, std::uint8_t{}); break;
            case 3: run(std::uint32_t{}, float{}); break;
            case 4: run(std::uint32_t{}, float16{}); break;
            default: run(std::uint32_t{}, std::uint8_t{}); break;
        }
    }

    /// Decoded document vector.
    [[nodiscard]] SparseVector<float> document(std::uint32_t doc) const {
        SparseVector<float> v;
        for_each_term(doc, [&](std::uint32_t id, float x) {
            v.ids.push_back(id);
            v.values.push_back(x);
        });
        return v;
    }

private:
    std::span<const std::uint32_t> words_;
    std::span<const std::uint64_t> locations_;
    detail::ForwardLayout layout_;
};

inline CompactForwardIndex CompactForwardIndex::build(CsrMatrixView<float> docs, std::size_t dimension, WeightPrecision values,
                                                      std::size_t threads, std::vector<std::uint32_t>& words,
                                                      std::vector<std::uint64_t>& locations) {
    detail::ForwardLayout layout;
    layout.wide_ids = dimension > 65536;
    layout.values = values;
    const std::size_t n = docs.rows();
    locations.assign(n, 0);
    // Records are packed, except that one which would touch one cache line more than its size needs starts on the
    // next line (so a 240-byte record reads 4 lines, not 5). Offsets count from the first 64-byte-aligned word of
    // `words` (the vector holds up to 15 words of slack in front): the returned index views the words from there.
    constexpr std::uint64_t line_words = 16;
    std::uint64_t total = 0;
    for (std::size_t d = 0; d < n; ++d) {
        const std::size_t len = static_cast<std::size_t>(docs.indptr[d + 1] - docs.indptr[d]);
        if (len > detail::forward_len_mask)
            raise(ErrorKind::out_of_range, "forward index: document ", d, " has ", len, " terms (limit ", detail::forward_len_mask, ")");
        const std::uint64_t size = layout.record_words(len), in_line = total % line_words;
        if ((in_line + size + line_words - 1) / line_words > (size + line_words - 1) / line_words) total += line_words - in_line;
        locations[d] = (total << detail::forward_len_bits) | len;
        total += size;
    }
    if (total >= (std::uint64_t{1} << (64 - detail::forward_len_bits)))
        raise(ErrorKind::out_of_range, "forward index: ", total, " words exceed the 2^40 limit");
    words.assign(total + line_words - 1, 0);
    const std::size_t skew = ((64 - reinterpret_cast<std::uintptr_t>(words.data()) % 64) % 64) / 4;
    const std::span<std::uint32_t> aligned(words.data() + skew, total);
    detail::parallel_for(n, threads, 4096, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t d = b; d < e; ++d) {
            const auto row = docs.row(d);
            const std::size_t len = row.size();
            std::uint32_t* rec = aligned.data() + (locations[d] >> detail::forward_len_bits);
            std::size_t header = 0;
            float offset = 0.0f, step = 1.0f;
            if (values == WeightPrecision::u8) {
                const auto q = ScalarQuantizer<std::uint8_t>::fit(row.values);
                offset = q.offset;
                step = q.step;
                std::memcpy(rec, &offset, 4);
                std::memcpy(rec + 1, &step, 4);
                header = 2;
            }
            auto* base = reinterpret_cast<unsigned char*>(rec + header);
            for (std::size_t i = 0; i < len; ++i) {
                if (layout.wide_ids) std::memcpy(base + 4 * i, &row.ids[i], 4);
                else {
                    const auto id16 = static_cast<std::uint16_t>(row.ids[i]);
                    std::memcpy(base + 2 * i, &id16, 2);
                }
            }
            unsigned char* vals = base + layout.id_bytes(len);
            for (std::size_t i = 0; i < len; ++i) {
                const float x = row.values[i];
                switch (values) {
                    case WeightPrecision::f32: std::memcpy(vals + 4 * i, &x, 4); break;
                    case WeightPrecision::f16: {
                        const float16 h(x);
                        std::memcpy(vals + 2 * i, &h.bits, 2);
                        break;
                    }
                    default: {
                        ScalarQuantizer<std::uint8_t> q;
                        q.offset = offset;
                        q.step = step;
                        vals[i] = q.encode(x);
                        break;
                    }
                }
            }
        }
    });
    CompactForwardIndex f;
    f.layout_ = layout;
    f.words_ = aligned;
    f.locations_ = locations;
    return f;
}

}  // namespace sparsedense
