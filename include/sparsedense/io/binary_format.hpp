// sparsedense/io/binary_format.hpp
//
// The container format every index file uses: a fixed header, a table of named sections, and the sections'
// bytes, each 64-byte aligned so that a memory-mapped file can be viewed in place as typed arrays (no copy).
//
//   header  (64 bytes)  magic "SPRSDNS\0" | kind[16] (which index, e.g. "InvertedIndex") | u32 format version |
//                       u32 section count | u64 file size | u64 section-table checksum | reserved
//   table   (48 bytes per section) name[16] | u64 offset | u64 size in bytes | u32 element size | u32 reserved |
//                       u64 checksum of the section's bytes
//   payload sections, 64-byte aligned
//
// SectionWriter collects (name, span) pairs -- the spans are not copied, so they must outlive write() -- and
// writes them atomically (temp file + fsync + rename). SectionReader maps a file and validates everything before
// handing out a span: magic, kind, version, file size against the header (truncation), the table's checksum,
// every section's bounds and alignment, element size and (by default) every section's checksum. Any failure is a
// sparsedense::Error (corrupt_file, version_mismatch or io) naming the file and the problem; nothing is trusted
// before it is checked. Little-endian only (static_assert). Buffer<T> is the array type indexes keep: either an
// owned vector or a span into a mapped file plus a reference that keeps the mapping alive.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/io/atomic_file.hpp"
#include "sparsedense/io/memory_map.hpp"

namespace sparsedense::io {

static_assert(std::endian::native == std::endian::little, "sparsedense index files are little-endian");

inline constexpr char file_magic[8] = {'S', 'P', 'R', 'S', 'D', 'N', 'S', '\0'};
inline constexpr std::size_t section_alignment = 64;

/// 64-bit checksum (multiply-xorshift over 8-byte words; fast, not cryptographic).
inline std::uint64_t checksum64(std::span<const std::byte> bytes) noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
    std::size_t i = 0;
    auto mix = [](std::uint64_t x) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        return x;
    };
    std::uint64_t h1 = h, h2 = ~h, h3 = h * 31, h4 = h ^ 0x5555555555555555ull;
    for (; i + 32 <= bytes.size(); i += 32) {
        std::uint64_t w[4];
        std::memcpy(w, bytes.data() + i, 32);
        h1 = (h1 ^ mix(w[0])) * 0x100000001b3ull;
        h2 = (h2 ^ mix(w[1])) * 0x100000001b3ull;
        h3 = (h3 ^ mix(w[2])) * 0x100000001b3ull;
        h4 = (h4 ^ mix(w[3])) * 0x100000001b3ull;
    }
    h = mix(h1) ^ std::rotl(mix(h2), 17) ^ std::rotl(mix(h3), 31) ^ std::rotl(mix(h4), 47);
    for (; i < bytes.size(); ++i) h = (h ^ static_cast<std::uint64_t>(bytes[i])) * 0x100000001b3ull;
    return mix(h);
}

namespace detail {
struct FileHeader {
    char magic[8];
    char kind[16];
    std::uint32_t version;
    std::uint32_t section_count;
    std::uint64_t file_size;
    std::uint64_t table_checksum;
    std::uint8_t reserved[16];
};
struct SectionEntry {
    char name[16];
    std::uint64_t offset;
    std::uint64_t bytes;
    std::uint32_t element_size;
    std::uint32_t reserved;
    std::uint64_t checksum;
};
static_assert(sizeof(FileHeader) == 64 && sizeof(SectionEntry) == 48);

inline void copy_name(char (&dst)[16], std::string_view name, const char* what) {
    if (name.empty() || name.size() > 15) raise(ErrorKind::invalid_argument, what, " name '", name, "' must have 1 to 15 characters");
    std::memset(dst, 0, sizeof dst);
    std::memcpy(dst, name.data(), name.size());
}
inline std::string_view name_of(const char (&src)[16]) { return {src, strnlen(src, sizeof src)}; }
}  // namespace detail

/// Collects sections and writes them in one atomic operation.
class SectionWriter {
public:
    SectionWriter(std::string_view kind, std::uint32_t version) : kind_(kind), version_(version) {
        char check[16];
        detail::copy_name(check, kind, "file kind");
    }

    /// Adds a typed array section (trivially copyable T). The span is written at write() time: keep it alive.
    template <class T>
    void add(std::string_view name, std::span<const T> values) {
        static_assert(std::is_trivially_copyable_v<T>);
        add_bytes(name, std::as_bytes(values), sizeof(T));
    }
    template <class T, class A>
    void add(std::string_view name, const std::vector<T, A>& values) { add(name, std::span<const T>(values)); }
    /// Adds one trivially copyable value (copied now, so a temporary is fine).
    template <class T>
    void add_value(std::string_view name, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        auto& store = owned_.emplace_back(sizeof(T));
        std::memcpy(store.data(), &value, sizeof(T));
        add_bytes(name, std::span<const std::byte>(store.data(), store.size()), sizeof(T));
    }

    /// Writes everything to `path` atomically.
    void write(const std::string& path) const {
        std::vector<detail::SectionEntry> table(sections_.size());
        std::uint64_t offset = align(sizeof(detail::FileHeader) + table.size() * sizeof(detail::SectionEntry));
        for (std::size_t i = 0; i < sections_.size(); ++i) {
            auto& e = table[i];
            std::memset(&e, 0, sizeof e);
            detail::copy_name(e.name, sections_[i].name, "section");
            e.offset = offset;
            e.bytes = sections_[i].bytes.size();
            e.element_size = static_cast<std::uint32_t>(sections_[i].element_size);
            e.checksum = checksum64(sections_[i].bytes);
            offset = align(offset + e.bytes);
        }
        detail::FileHeader header{};
        std::memcpy(header.magic, file_magic, sizeof header.magic);
        detail::copy_name(header.kind, kind_, "file kind");
        header.version = version_;
        header.section_count = static_cast<std::uint32_t>(table.size());
        header.file_size = offset;
        header.table_checksum = checksum64(std::as_bytes(std::span<const detail::SectionEntry>(table)));

        AtomicFileWriter out(path);
        out.write(&header, sizeof header);
        out.write(table.data(), table.size() * sizeof(detail::SectionEntry));
        for (std::size_t i = 0; i < sections_.size(); ++i) {
            out.pad_to(section_alignment);
            out.write(sections_[i].bytes.data(), sections_[i].bytes.size());
        }
        out.pad_to(section_alignment);
        if (out.bytes_written() != header.file_size)
            raise(ErrorKind::io, "internal error writing '", path, "': wrote ", out.bytes_written(), " bytes, expected ", header.file_size);
        out.commit();
    }

private:
    struct Section {
        std::string name;
        std::span<const std::byte> bytes;
        std::size_t element_size;
    };
    static std::uint64_t align(std::uint64_t x) { return (x + section_alignment - 1) / section_alignment * section_alignment; }
    void add_bytes(std::string_view name, std::span<const std::byte> bytes, std::size_t element_size) {
        for (const auto& s : sections_)
            if (s.name == name) raise(ErrorKind::invalid_argument, "section '", name, "' added twice");
        char check[16];
        detail::copy_name(check, name, "section");
        sections_.push_back({std::string(name), bytes, element_size});
    }
    std::string kind_;
    std::uint32_t version_;
    std::vector<Section> sections_;
    std::vector<std::vector<std::byte>> owned_;
};

/// An array that is either owned (built in memory) or a view into a memory-mapped file kept alive by `keep_alive`.
template <class T>
class Buffer {
public:
    Buffer() = default;
    explicit Buffer(std::vector<T, AlignedAllocator<T>> owned) : owned_(std::move(owned)), view_(owned_) {}
    explicit Buffer(std::vector<T> owned) : owned_(owned.begin(), owned.end()), view_(owned_) {}
    Buffer(std::span<const T> mapped, std::shared_ptr<const void> keep_alive) : view_(mapped), keep_alive_(std::move(keep_alive)) {}
    Buffer(const Buffer& other) { *this = other; }
    Buffer(Buffer&& other) noexcept { *this = std::move(other); }
    Buffer& operator=(const Buffer& other) {
        if (this == &other) return *this;
        keep_alive_ = other.keep_alive_;
        if (other.is_mapped()) {
            owned_.clear();
            view_ = other.view_;
        } else {
            owned_ = other.owned_;
            view_ = owned_;
        }
        return *this;
    }
    Buffer& operator=(Buffer&& other) noexcept {
        if (this == &other) return *this;
        const bool mapped = other.is_mapped();
        keep_alive_ = std::move(other.keep_alive_);
        if (mapped) {
            owned_.clear();
            view_ = other.view_;
        } else {
            owned_ = std::move(other.owned_);
            view_ = owned_;
        }
        other.view_ = {};
        other.owned_.clear();
        return *this;
    }

    [[nodiscard]] std::span<const T> span() const noexcept { return view_; }
    [[nodiscard]] const T* data() const noexcept { return view_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return view_.size(); }
    [[nodiscard]] bool empty() const noexcept { return view_.empty(); }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return view_[i]; }
    [[nodiscard]] auto begin() const noexcept { return view_.begin(); }
    [[nodiscard]] auto end() const noexcept { return view_.end(); }
    /// True when the data lives in a mapped file (not owned).
    [[nodiscard]] bool is_mapped() const noexcept { return keep_alive_ != nullptr; }
    /// Changes the contents through fn(std::vector<T, AlignedAllocator<T>>&). A mapped buffer is first copied into
    /// owned memory (copy on write: the file is never written through).
    template <class Fn>
    void modify(Fn&& fn) {
        if (is_mapped()) {
            owned_.assign(view_.begin(), view_.end());
            keep_alive_.reset();
        }
        fn(owned_);
        view_ = owned_;
    }
    [[nodiscard]] std::size_t size_bytes() const noexcept { return view_.size_bytes(); }

private:
    std::vector<T, AlignedAllocator<T>> owned_;
    std::span<const T> view_;
    std::shared_ptr<const void> keep_alive_;
};

/// Reads a file written by SectionWriter, validating before trusting.
class SectionReader {
public:
    /// Opens and validates `path`: it must hold `kind` at a version in [min_version, max_version].
    SectionReader(const std::string& path, std::string_view kind, std::uint32_t min_version, std::uint32_t max_version,
                  bool verify_checksums = true)
        : file_(MappedFile::open(path)) {
        const auto bytes = file_->bytes();
        if (bytes.size() < sizeof(detail::FileHeader))
            fail(ErrorKind::corrupt_file, "file is ", bytes.size(), " bytes, shorter than the ", sizeof(detail::FileHeader), "-byte header (truncated?)");
        detail::FileHeader header;
        std::memcpy(&header, bytes.data(), sizeof header);
        if (std::memcmp(header.magic, file_magic, sizeof header.magic) != 0) fail(ErrorKind::corrupt_file, "not a sparsedense index file (bad magic)");
        const std::string_view found_kind = detail::name_of(header.kind);
        if (found_kind != kind) fail(ErrorKind::invalid_data, "file holds a '", found_kind, "', expected a '", kind, "'");
        if (header.version < min_version || header.version > max_version)
            fail(ErrorKind::version_mismatch, "format version ", header.version, " is not supported (this build reads versions ", min_version,
                 " to ", max_version, ")");
        if (header.file_size != bytes.size())
            fail(ErrorKind::corrupt_file, "file is ", bytes.size(), " bytes but its header says ", header.file_size, " (truncated or extended)");
        const std::uint64_t table_bytes = static_cast<std::uint64_t>(header.section_count) * sizeof(detail::SectionEntry);
        if (header.section_count > 4096 || sizeof(detail::FileHeader) + table_bytes > bytes.size())
            fail(ErrorKind::corrupt_file, "section table (", header.section_count, " sections) does not fit in the file");
        sections_.resize(header.section_count);
        if (table_bytes > 0) std::memcpy(sections_.data(), bytes.data() + sizeof(detail::FileHeader), table_bytes);  // (never from/to null)
        if (checksum64(std::as_bytes(std::span<const detail::SectionEntry>(sections_))) != header.table_checksum)
            fail(ErrorKind::corrupt_file, "section table checksum mismatch");
        for (const auto& s : sections_) {
            if (s.offset % section_alignment != 0 || s.offset > bytes.size() || s.bytes > bytes.size() - s.offset)
                fail(ErrorKind::corrupt_file, "section '", detail::name_of(s.name), "' lies outside the file");
            if (s.element_size == 0 || s.bytes % s.element_size != 0)
                fail(ErrorKind::corrupt_file, "section '", detail::name_of(s.name), "' size ", s.bytes, " is not a multiple of its element size ", s.element_size);
            if (verify_checksums && checksum64(bytes.subspan(s.offset, s.bytes)) != s.checksum)
                fail(ErrorKind::corrupt_file, "checksum mismatch in section '", detail::name_of(s.name), "'");
        }
        version_ = header.version;
    }

    [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
    [[nodiscard]] const std::string& path() const noexcept { return file_->path(); }
    [[nodiscard]] bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
    /// The mapping (share it to keep spans alive).
    [[nodiscard]] const std::shared_ptr<const MappedFile>& file() const noexcept { return file_; }

    /// A typed view of a section; checks element size and, when expected_count is given, the element count.
    template <class T>
    [[nodiscard]] std::span<const T> span(std::string_view name, std::size_t expected_count = npos) const {
        static_assert(std::is_trivially_copyable_v<T>);
        const detail::SectionEntry* s = find(name);
        if (!s) fail(ErrorKind::corrupt_file, "missing section '", name, "'");
        if (s->element_size != sizeof(T))
            fail(ErrorKind::corrupt_file, "section '", name, "' has elements of ", s->element_size, " bytes, expected ", sizeof(T));
        const std::size_t count = s->bytes / sizeof(T);
        if (expected_count != npos && count != expected_count)
            fail(ErrorKind::corrupt_file, "section '", name, "' has ", count, " elements, expected ", expected_count);
        if (count == 0) return {};
        return {reinterpret_cast<const T*>(file_->data() + s->offset), count};
    }
    /// A section as a Buffer that keeps the mapping alive (zero copy).
    template <class T>
    [[nodiscard]] Buffer<T> buffer(std::string_view name, std::size_t expected_count = npos) const {
        return Buffer<T>(span<T>(name, expected_count), file_);
    }
    /// A single value section.
    template <class T>
    [[nodiscard]] T value(std::string_view name) const {
        T out;
        std::memcpy(&out, span<T>(name, 1).data(), sizeof(T));
        return out;
    }

    /// Throws Error(kind) with the file's path prefixed.
    template <class... Parts>
    [[noreturn]] void fail(ErrorKind kind, Parts&&... parts) const {
        raise(kind, "'", file_->path(), "': ", std::forward<Parts>(parts)...);
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    const detail::SectionEntry* find(std::string_view name) const noexcept {
        for (const auto& s : sections_)
            if (detail::name_of(s.name) == name) return &s;
        return nullptr;
    }
    std::shared_ptr<const MappedFile> file_;
    std::vector<detail::SectionEntry> sections_;
    std::uint32_t version_ = 0;
};

}  // namespace sparsedense::io
