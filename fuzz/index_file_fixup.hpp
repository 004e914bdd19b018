// fuzz/index_file_fixup.hpp
//
// The index-loader targets feed Index::load() with mutated index files. Mutations almost always break a section
// checksum, and the container reader (io/binary_format.hpp) rightly stops there, so half of the inputs get their
// checksums, table checksum and size field recomputed first: those mutated but self-consistent containers reach
// the loaders' own checks. Kept apart from fuzz_support.hpp (no sanitizer interface) so the Catch2 regression test
// (tests/io/fuzz_regressions.cpp) turns a committed input into the same file the target loaded.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "sparsedense/io/binary_format.hpp"

namespace sparsedense::fuzz {

// ---- index files --------------------------------------------------------------------------------------------------

/// Recomputes the section checksums, the table checksum and the file-size field of an index file (when the header
/// and table are present), so that a mutated file reaches the loader's own checks. Sections outside the file are
/// left alone (the reader rejects them).
inline void fix_section_checksums(std::vector<std::uint8_t>& bytes) {
    using io::detail::FileHeader;
    using io::detail::SectionEntry;
    if (bytes.size() < sizeof(FileHeader)) return;
    FileHeader h;
    std::memcpy(&h, bytes.data(), sizeof h);
    h.file_size = bytes.size();
    const std::size_t count = h.section_count;
    if (count > 0 && count <= 4096 && sizeof(FileHeader) + count * sizeof(SectionEntry) <= bytes.size()) {
        std::vector<SectionEntry> table(count);
        std::memcpy(table.data(), bytes.data() + sizeof(FileHeader), count * sizeof(SectionEntry));
        for (auto& s : table)
            if (s.offset <= bytes.size() && s.bytes <= bytes.size() - s.offset)
                s.checksum = io::checksum64(std::as_bytes(std::span<const std::uint8_t>(bytes.data() + s.offset, s.bytes)));
        std::memcpy(bytes.data() + sizeof(FileHeader), table.data(), count * sizeof(SectionEntry));
        h.table_checksum = io::checksum64(std::as_bytes(std::span<const SectionEntry>(table)));
    }
    std::memcpy(bytes.data(), &h, sizeof h);
}

/// The index file an input stands for: inputs whose last byte is odd are used as they are (random bytes, bad
/// checksums, truncation); the others get their checksums fixed first (mutated but self-consistent containers).
/// Files written by the library end in zero padding, so seeds take the fixed path.
inline std::vector<std::uint8_t> index_file_bytes(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> bytes(data, data + size);
    if (size > 0 && (data[size - 1] & 1) == 0) fix_section_checksums(bytes);
    return bytes;
}

}  // namespace sparsedense::fuzz
