// sparsedense/core/sparse_vector.hpp
//
// SparseVectorView: a non-owning view of one sparse vector, as parallel spans of strictly increasing u32 term ids
// and their values (float, float16, bfloat16, u8, ...). SparseVector owns the same data. Nothing is copied when
// wrapping caller memory; validate() checks the invariants the kernels rely on.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sparsedense/core/validation.hpp"

namespace sparsedense {

template <class Value = float>
struct SparseVectorView {
    using value_type = Value;
    std::span<const std::uint32_t> ids;
    std::span<const Value> values;

    constexpr SparseVectorView() = default;
    constexpr SparseVectorView(std::span<const std::uint32_t> term_ids, std::span<const Value> term_values)
        : ids(term_ids), values(term_values) {}

    [[nodiscard]] constexpr std::size_t size() const noexcept { return ids.size(); }
    [[nodiscard]] constexpr bool empty() const noexcept { return ids.empty(); }

    /// Throws Error on length mismatch, unsorted/duplicate ids, ids >= dimension (if dimension > 0), NaN/inf.
    void validate(std::size_t dimension = 0, long long row = -1) const { validate_sparse(ids, values, dimension, row); }
};

/// Owning sparse vector (ids + values).
template <class Value = float>
struct SparseVector {
    using value_type = Value;
    std::vector<std::uint32_t> ids;
    std::vector<Value> values;

    SparseVector() = default;
    SparseVector(std::vector<std::uint32_t> term_ids, std::vector<Value> term_values)
        : ids(std::move(term_ids)), values(std::move(term_values)) {}
    explicit SparseVector(SparseVectorView<Value> view)
        : ids(view.ids.begin(), view.ids.end()), values(view.values.begin(), view.values.end()) {}

    [[nodiscard]] SparseVectorView<Value> view() const noexcept { return {ids, values}; }
    operator SparseVectorView<Value>() const noexcept { return view(); }  // NOLINT: views are cheap
    [[nodiscard]] std::size_t size() const noexcept { return ids.size(); }
    void validate(std::size_t dimension = 0, long long row = -1) const { view().validate(dimension, row); }
};

}  // namespace sparsedense
