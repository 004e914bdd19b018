// sparsedense/io/memory_map.hpp
//
// MappedFile: a read-only memory map of a whole file (POSIX mmap), owned RAII-style and shared through
// std::shared_ptr so that an index loaded "by memory map" can hand out spans into the file and keep the mapping
// alive as long as any of them is in use. Nothing is copied: pages are read from the page cache on first touch.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "sparsedense/core/error.hpp"

namespace sparsedense::io {

/// Access pattern hint passed to madvise().
enum class MapAdvice { normal, sequential, random, will_need };

class MappedFile {
public:
    /// Maps `path` read-only. Throws Error(io) when it cannot be opened or mapped.
    explicit MappedFile(const std::string& path, MapAdvice advice = MapAdvice::normal) : path_(path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) raise(ErrorKind::io, "cannot open '", path, "' for reading: ", std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int e = errno;
            ::close(fd);
            raise(ErrorKind::io, "cannot stat '", path, "': ", std::strerror(e));
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                const int e = errno;
                ::close(fd);
                raise(ErrorKind::io, "cannot memory-map '", path, "' (", size_, " bytes): ", std::strerror(e));
            }
            data_ = static_cast<const std::byte*>(p);
            int a = MADV_NORMAL;
            if (advice == MapAdvice::sequential) a = MADV_SEQUENTIAL;
            else if (advice == MapAdvice::random) a = MADV_RANDOM;
            else if (advice == MapAdvice::will_need) a = MADV_WILLNEED;
            if (a != MADV_NORMAL) ::madvise(const_cast<std::byte*>(data_), size_, a);
        }
        ::close(fd);
    }
    ~MappedFile() {
        if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    static std::shared_ptr<const MappedFile> open(const std::string& path, MapAdvice advice = MapAdvice::normal) {
        return std::make_shared<const MappedFile>(path, advice);
    }

    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace sparsedense::io
