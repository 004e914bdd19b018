// sparsedense/core/error.hpp
//
// The one exception type the library throws for bad input, bad files and misuse: sparsedense::Error.
// Messages name what is wrong and where (row, term, dimension, file offset), so a caller can act on them.
// Helpers here build those messages without iostreams: raise() turns its arguments into type-erased MessageParts
// and hands them to one non-template function, so a translation unit compiles one message builder, not one
// std::ostringstream chain per distinct raise() signature (a string literal's length alone makes a new one; the
// 150-odd call sites used to emit 165 functions, 51 KB of code, in a TU that only loads and searches each index).
#pragma once

#include <concepts>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

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

/// One piece of an error message: text, or a number formatted as `std::ostream <<` would (integers in decimal,
/// floating point as %g with 6 significant digits, bool as 1 / 0, char as the character). signed char / unsigned
/// char (std::int8_t / std::uint8_t) are printed as numbers. Holds a view: use it within the full expression.
class MessagePart {
public:
    template <class T>
        requires std::is_convertible_v<const T&, std::string_view>
    MessagePart(const T& text) noexcept : kind_(Kind::text), text_(std::string_view(text)) {}  // NOLINT: implicit
    MessagePart(char c) noexcept : kind_(Kind::character), c_(c) {}                              // NOLINT: implicit
    MessagePart(bool b) noexcept : kind_(Kind::unsigned_integer), u_(b ? 1u : 0u) {}               // NOLINT: implicit
    template <std::signed_integral T>
        requires(!std::is_same_v<T, char>)
    MessagePart(T v) noexcept : kind_(Kind::signed_integer), i_(static_cast<long long>(v)) {}  // NOLINT: implicit
    template <std::unsigned_integral T>
        requires(!std::is_same_v<T, bool> && !std::is_same_v<T, char>)
    MessagePart(T v) noexcept : kind_(Kind::unsigned_integer), u_(static_cast<unsigned long long>(v)) {}  // NOLINT
    template <std::floating_point T>
    MessagePart(T v) noexcept : kind_(Kind::floating), d_(static_cast<double>(v)) {}  // NOLINT: implicit

    void append_to(std::string& out) const {
        char buf[64];
        int n = 0;
        switch (kind_) {
            case Kind::text: out.append(text_); return;
            case Kind::character: out.push_back(c_); return;
            case Kind::signed_integer: n = std::snprintf(buf, sizeof buf, "%lld", i_); break;
            case Kind::unsigned_integer: n = std::snprintf(buf, sizeof buf, "%llu", u_); break;
            case Kind::floating: n = std::snprintf(buf, sizeof buf, "%.6g", d_); break;
        }
        if (n > 0) out.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
    }

private:
    enum class Kind : unsigned char { text, character, signed_integer, unsigned_integer, floating };
    Kind kind_;
    union {
        std::string_view text_;
        char c_;
        long long i_;
        unsigned long long u_;
        double d_;
    };
};

/// The concatenation of the parts (one non-template function whatever the parts' types).
[[nodiscard]] inline std::string join_parts(std::initializer_list<MessagePart> parts) {
    std::string out;
    for (const MessagePart& p : parts) p.append_to(out);
    return out;
}

[[noreturn]] [[gnu::cold]] [[gnu::noinline]] inline void raise_parts(ErrorKind kind, std::initializer_list<MessagePart> parts) {
    throw Error(kind, join_parts(parts));
}

/// The concatenation of the parts, formatted as by std::ostream (see MessagePart).
template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
    return join_parts({MessagePart(parts)...});
}

}  // namespace detail

/// Throws Error(kind, concatenation of parts): text (anything convertible to std::string_view) and numbers, see
/// detail::MessagePart. Marked cold so checks stay cheap on the hot path.
template <class... Parts>
[[noreturn]] [[gnu::cold]] inline void raise(ErrorKind kind, const Parts&... parts) {
    detail::raise_parts(kind, {detail::MessagePart(parts)...});
}

}  // namespace sparsedense
