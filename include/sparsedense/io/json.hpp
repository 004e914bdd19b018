// sparsedense/io/json.hpp
//
// JsonCursor: a small validating JSON scanner for JSON Lines files (BEIR corpora and queries, Seismic-style sparse
// vectors), so the library reads them without a JSON dependency. It walks one text token by token -- strings
// (escapes decoded, \uXXXX with UTF-16 surrogate pairs to UTF-8), number / true / false / null literals (checked
// against the JSON grammar), punctuation -- and can skip any value, nested objects and arrays included (at most
// max_depth = 256 levels deep, so hostile input cannot exhaust the stack). Readers
// drive it directly, so they never build a document tree. Errors are sparsedense::Error(invalid_data) reading
// "<context>, column <c>: <problem>", where the caller sets the context (e.g. "'corpus.jsonl' line 12").
// append_json_string() is the writing side.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "sparsedense/core/error.hpp"

namespace sparsedense::io {

class JsonCursor {
public:
    explicit JsonCursor(std::string_view text, std::string context = "json") : s_(text), context_(std::move(context)) {}

    /// Skips whitespace.
    void ws() noexcept {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
    }
    /// True when the next non-blank character is c (not consumed).
    [[nodiscard]] bool peek(char c) noexcept {
        ws();
        return i_ < s_.size() && s_[i_] == c;
    }
    /// True when only whitespace is left.
    [[nodiscard]] bool at_end() noexcept {
        ws();
        return i_ >= s_.size();
    }
    /// Consumes c (after whitespace) or fails.
    void expect(char c) {
        ws();
        if (i_ >= s_.size() || s_[i_] != c) fail("expected '", std::string(1, c), "'");
        ++i_;
    }
    /// Consumes a ',' if it comes next.
    bool comma() noexcept {
        if (!peek(',')) return false;
        ++i_;
        return true;
    }

    /// A string, decoded.
    std::string string() {
        expect('"');
        std::string out;
        while (true) {
            if (i_ >= s_.size()) fail("unterminated string");
            const char c = s_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (i_ >= s_.size()) fail("unterminated escape");
            const char e = s_[i_++];
            switch (e) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    std::uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
                        if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                            i_ += 2;
                            const std::uint32_t lo = hex4();
                            if (lo < 0xDC00 || lo > 0xDFFF) fail("high surrogate not followed by a low surrogate");
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else {
                            fail("unpaired high surrogate");
                        }
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        fail("unpaired low surrogate");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: fail("bad escape '\\", std::string(1, e), "'");
            }
        }
    }

    /// A number, true, false or null, as its source text (validated against the JSON grammar).
    std::string literal() {
        ws();
        const std::size_t start = i_;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
            ++i_;
        }
        const std::string_view lit = s_.substr(start, i_ - start);
        if (lit == "true" || lit == "false" || lit == "null" || is_number(lit)) return std::string(lit);
        i_ = start;
        fail(lit.empty() ? std::string("expected a value") : sparsedense::detail::concat("expected a value, found '", lit, "'"));
    }

    /// A number as double; its source text in `text` when given.
    double number(std::string* text = nullptr) {
        ws();
        const std::size_t start = i_;
        const std::string token = literal();
        if (!is_number(token)) {
            i_ = start;
            fail("expected a number, found '", token, "'");
        }
        if (text) *text = token;
        return std::strtod(token.c_str(), nullptr);
    }

    /// Deepest nesting of objects and arrays skip_value() accepts (deeper input is an Error, not a stack overflow).
    static constexpr std::size_t max_depth = 256;

    /// Skips one value of any kind (nested objects and arrays are checked, not kept).
    void skip_value() { skip_value(0); }

    /// Throws Error(invalid_data): "<context>, column <c>: <parts>".
    template <class... Parts>
    [[noreturn]] void fail(Parts&&... parts) const {
        raise(ErrorKind::invalid_data, context_, ", column ", i_ + 1, ": ", std::forward<Parts>(parts)...);
    }

private:
    void skip_value(std::size_t depth) {
        ws();
        if (i_ >= s_.size()) fail("expected a value");
        const char c = s_[i_];
        if (c == '"') {
            (void)string();
        } else if (c == '{' || c == '[') {
            if (depth >= max_depth) fail("objects and arrays nested more than ", max_depth, " deep");
            const char close = c == '{' ? '}' : ']';
            ++i_;
            if (peek(close)) {
                ++i_;
                return;
            }
            do {
                if (c == '{') {
                    (void)string();
                    expect(':');
                }
                skip_value(depth + 1);
            } while (comma());
            expect(close);
        } else {
            (void)literal();
        }
    }

    static bool is_number(std::string_view lit) noexcept {  // -? int [. digits] [e [+-] digits]
        std::size_t j = 0;
        const auto digits = [&]() {
            const std::size_t b = j;
            while (j < lit.size() && lit[j] >= '0' && lit[j] <= '9') ++j;
            return j > b;
        };
        if (j < lit.size() && lit[j] == '-') ++j;
        bool ok = digits();
        if (ok && j < lit.size() && lit[j] == '.') {
            ++j;
            ok = digits();
        }
        if (ok && j < lit.size() && (lit[j] == 'e' || lit[j] == 'E')) {
            ++j;
            if (j < lit.size() && (lit[j] == '+' || lit[j] == '-')) ++j;
            ok = digits();
        }
        return ok && j == lit.size();
    }
    std::uint32_t hex4() {
        if (i_ + 4 > s_.size()) fail("truncated \\u escape");
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            v <<= 4;
            if (h >= '0' && h <= '9') v |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') v |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') v |= static_cast<std::uint32_t>(h - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        return v;
    }
    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string context_;
};

/// Appends `s` to `out` as a JSON string literal (quotes, escapes for '"', '\\' and control characters; UTF-8 kept).
inline void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out.push_back(hex[(c >> 4) & 0xF]);
                    out.push_back(hex[c & 0xF]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

}  // namespace sparsedense::io
