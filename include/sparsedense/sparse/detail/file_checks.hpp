// sparsedense/sparse/detail/file_checks.hpp
//
// Structural checks the sparse indexes run on a loaded file before trusting it: offset arrays must start at 0,
// never decrease and end at the size of the array they index; ids must be below their limit. A failure is a
// sparsedense::Error(corrupt_file) naming the file and the array.
#pragma once

#include <cstdint>
#include <span>

#include "sparsedense/io/binary_format.hpp"

namespace sparsedense::detail {

inline void check_offsets(const io::SectionReader& r, std::span<const std::uint64_t> offsets, std::uint64_t total, const char* what) {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != total)
        r.fail(ErrorKind::corrupt_file, what, ": offsets do not span the ", total, " entries");
    for (std::size_t i = 1; i < offsets.size(); ++i)
        if (offsets[i] < offsets[i - 1]) r.fail(ErrorKind::corrupt_file, what, ": offsets decrease at ", i);
}

template <class T>
inline void check_below(const io::SectionReader& r, std::span<const T> values, std::uint64_t limit, const char* what) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (static_cast<std::uint64_t>(values[i]) >= limit) r.fail(ErrorKind::corrupt_file, what, "[", i, "] = ", values[i], " is out of range (< ", limit, ")");
}

}  // namespace sparsedense::detail
