// sparsedense/simd/forward_record.hpp
//
// The forward-record kernel family: the inner product of a dense query (scattered once into a dimension-sized
// array) with one record of sparsedense::CompactForwardIndex (sparse/compact_forward_index.hpp), the exact
// document scoring step of the clustered index (Seismic, Bruch et al., SIGIR 2024).
//
// Record of a document with n terms, starting on a 4-byte boundary:
//   [u8 values only: f32 offset, f32 step]  term ids (u16 or u32), padded to 4 bytes, then the n values
//   (f32, f16, or u8 codes with value = offset + step * code).
// ForwardRecordKind numbers the six layouts (u16 | u32 ids) x (f32 | f16 | u8).
//
//   score(rec, n, qdense) = sum_i qdense[id_i] * value_i                        (f32, f16)
//                         = offset * sum_i qdense[id_i] + step * sum_i qdense[id_i] * code_i   (u8)
// Accumulation in f32. Per level (simd/detail/forward_record_kernels.hpp, dispatched with every other kernel through
// simd::kernels().forward_record):
//   scalar, sse  one product at a time in ascending term order (f16 converted in software);
//   avx2         four independent accumulators, hardware f16 conversion (F16C);
//   avx512       16 terms per step: query values from 16 scalar loads (a masked gather for the tail), one FMA.
// The caller guarantees every term id of the record indexes qdense.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "sparsedense/core/value_types.hpp"

namespace sparsedense::simd {

/// Record scorer: (record words, term count, dense query) -> inner product.
using ForwardRecordScorer = float (*)(const std::uint32_t*, std::size_t, const float*) noexcept;

/// The six record layouts: 3 x (u32 ids) + value precision (f32 = 0, f16 = 1, u8 = 2).
inline constexpr int forward_record_kind(bool wide_ids, WeightPrecision values) noexcept {
    return (wide_ids ? 3 : 0) + static_cast<int>(values);
}

/// One level's record scorers, indexed by forward_record_kind().
struct ForwardRecordKernels {
    ForwardRecordScorer by_kind[6];
};

/// The ids and values of a record (offset and step for u8 values only).
template <class Id, class Value>
struct ForwardRecordView {
    const Id* ids;
    const Value* values;
    float offset, step;
};

template <class Id, class Value>
inline ForwardRecordView<Id, Value> forward_record_view(const std::uint32_t* rec, std::size_t n) noexcept {
    ForwardRecordView<Id, Value> r{};
    std::size_t header = 0;
    if constexpr (std::is_same_v<Value, std::uint8_t>) {
        std::memcpy(&r.offset, rec, 4);
        std::memcpy(&r.step, rec + 1, 4);
        header = 2;
    }
    const auto* base = reinterpret_cast<const unsigned char*>(rec + header);
    r.ids = reinterpret_cast<const Id*>(base);
    r.values = reinterpret_cast<const Value*>(base + ((sizeof(Id) * n + 3) & ~std::size_t{3}));
    return r;
}

}  // namespace sparsedense::simd
