// sparsedense/io/atomic_file.hpp
//
// AtomicFileWriter: writes a file so that readers see either the old file or the complete new one, never a
// partial write. Data goes to a temporary file in the same directory (mkstemp), is fsync()ed, then rename()d over
// the destination; if anything fails (or the writer is destroyed without commit()) the temporary file is removed
// and the destination is untouched.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/error.hpp"

namespace sparsedense::io {

class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
        std::string pattern = path_ + ".tmp-XXXXXX";
        std::vector<char> buffer(pattern.begin(), pattern.end());
        buffer.push_back('\0');
        fd_ = ::mkstemp(buffer.data());
        if (fd_ < 0) raise(ErrorKind::io, "cannot create a temporary file next to '", path_, "': ", std::strerror(errno));
        temp_path_ = buffer.data();
    }
    ~AtomicFileWriter() { abandon(); }
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    /// Appends bytes. Throws Error(io) on failure (e.g. disk full).
    void write(const void* data, std::size_t bytes) {
        const auto* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::write(fd_, p, bytes);
            if (n < 0) {
                if (errno == EINTR) continue;
                raise(ErrorKind::io, "writing '", temp_path_, "' failed: ", std::strerror(errno));
            }
            p += n;
            bytes -= static_cast<std::size_t>(n);
            written_ += static_cast<std::size_t>(n);
        }
    }
    template <class T>
    void write_span(std::span<const T> values) { write(values.data(), values.size_bytes()); }
    /// Appends zero bytes up to the next multiple of `alignment`.
    void pad_to(std::size_t alignment) {
        static constexpr char zeros[64] = {};
        while (written_ % alignment != 0) write(zeros, std::min<std::size_t>(alignment - written_ % alignment, sizeof zeros));
    }
    [[nodiscard]] std::size_t bytes_written() const noexcept { return written_; }

    /// Flushes to disk and renames over the destination.
    void commit() {
        if (::fsync(fd_) != 0) raise(ErrorKind::io, "fsync of '", temp_path_, "' failed: ", std::strerror(errno));
        if (::close(fd_) != 0) {
            fd_ = -1;
            raise(ErrorKind::io, "closing '", temp_path_, "' failed: ", std::strerror(errno));
        }
        fd_ = -1;
        if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
            raise(ErrorKind::io, "renaming '", temp_path_, "' to '", path_, "' failed: ", std::strerror(errno));
        temp_path_.clear();
    }

private:
    void abandon() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
        temp_path_.clear();
    }
    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
    std::size_t written_ = 0;
};

}  // namespace sparsedense::io
