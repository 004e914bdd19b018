// sparsedense/core/validation.hpp
//
// Input checks shared by every index: they throw sparsedense::Error with a message naming the row, term,
// position or dimension at fault. Indexes call them before touching their own state, so a rejected input
// leaves the index as it was.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sparsedense/core/error.hpp"
#include "sparsedense/core/value_types.hpp"

namespace sparsedense {

/// k must be positive (size_t callers pass 0 for "none"; signed callers may pass negatives).
template <class Integer>
inline void validate_k(Integer k, std::string_view where = "search") {
    if (k <= 0) raise(ErrorKind::invalid_argument, where, ": k must be > 0, got ", static_cast<long long>(k));
}

inline void validate_dimension(std::size_t expected, std::size_t actual, std::string_view what = "vector") {
    if (expected != actual)
        raise(ErrorKind::dimension_mismatch, what, " has dimension ", actual, ", expected ", expected);
}

template <class Id>
inline void validate_id(Id id, std::size_t count, std::string_view what = "id") {
    if (static_cast<std::size_t>(id) >= count)
        raise(ErrorKind::out_of_range, what, " ", static_cast<unsigned long long>(id), " is out of range (size ", count, ")");
}

/// All values finite (no NaN, no inf). `row` is reported in the message when given (>= 0).
template <class T>
inline void validate_finite(std::span<const T> values, long long row = -1, std::string_view what = "vector") {
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float v = to_float(values[i]);
        if (!std::isfinite(v)) {
            if (row >= 0) raise(ErrorKind::invalid_data, what, " row ", row, ": value at position ", i, " is ", v, " (not finite)");
            raise(ErrorKind::invalid_data, what, ": value at position ", i, " is ", v, " (not finite)");
        }
    }
}

/// Sparse vector invariants: equal lengths, strictly increasing term ids, ids < dimension (when dimension > 0),
/// finite values.
template <class T>
inline void validate_sparse(std::span<const std::uint32_t> ids, std::span<const T> values, std::size_t dimension = 0,
                            long long row = -1, std::string_view what = "sparse vector") {
    auto where = [&]() { return row >= 0 ? detail::concat(what, " row ", row) : std::string(what); };
    if (ids.size() != values.size())
        raise(ErrorKind::dimension_mismatch, where(), ": ", ids.size(), " term ids but ", values.size(), " values");
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0 && ids[i] <= ids[i - 1]) {
            if (ids[i] == ids[i - 1]) raise(ErrorKind::invalid_data, where(), ": duplicate term id ", ids[i], " at position ", i);
            raise(ErrorKind::invalid_data, where(), ": term ids not strictly increasing at position ", i, " (", ids[i - 1], " then ", ids[i], ")");
        }
        if (dimension > 0 && ids[i] >= dimension)
            raise(ErrorKind::out_of_range, where(), ": term id ", ids[i], " at position ", i, " is >= dimension ", dimension);
        const float v = to_float(values[i]);
        if (!std::isfinite(v))
            raise(ErrorKind::invalid_data, where(), ": weight of term ", ids[i], " is ", v, " (not finite)");
    }
}

}  // namespace sparsedense
