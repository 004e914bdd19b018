// sparsedense/core/error.hpp
//
// The one exception type the library throws for bad input, bad files and misuse: sparsedense::Error.
// Messages name what is wrong and where (row, term, dimension, file offset), so a caller can act on them.
// Helpers here build those messages without iostreams on the happy path.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sparsedense {

/// What kind of problem an Error reports; lets callers branch without parsing messages.
enum class ErrorKind {
    invalid_argument,  ///< a parameter out of its domain (k <= 0, bad option)
    invalid_data,      ///< input vectors violate an invariant (unsorted ids, NaN, ...)
    dimension_mismatch,///< sizes of two inputs disagree
    out_of_range,      ///< an id or index beyond the valid range
    io,                ///< a file could not be opened, read or written
    corrupt_file,      ///< a file is truncated, has a bad magic/checksum or inconsistent sizes
    version_mismatch,  ///< a file written by an incompatible format version
    unsupported,       ///< a valid request this build or CPU cannot serve
};

inline const char* error_kind_name(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::invalid_argument: return "invalid argument";
        case ErrorKind::invalid_data: return "invalid data";
        case ErrorKind::dimension_mismatch: return "dimension mismatch";
        case ErrorKind::out_of_range: return "out of range";
        case ErrorKind::io: return "i/o error";
        case ErrorKind::corrupt_file: return "corrupt file";
        case ErrorKind::version_mismatch: return "version mismatch";
        case ErrorKind::unsupported: return "unsupported";
    }
    return "error";
}

/// The library's exception. what() reads "sparsedense: <kind>: <message>".
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(std::string("sparsedense: ") + error_kind_name(kind) + ": " + message), kind_(kind) {}
    [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}
}  // namespace detail

/// Throws Error(kind, concatenation of parts). Marked cold so checks stay cheap on the hot path.
template <class... Parts>
[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void raise(ErrorKind kind, Parts&&... parts) {
    throw Error(kind, detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace sparsedense
