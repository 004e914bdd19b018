// sparsedense/eval/json.hpp
//
// A small JSON reader for JSON Lines records such as BEIR's corpus.jsonl / queries.jsonl: parse_json_object()
// reads one object and returns its members whose values are strings (escapes decoded, including \uXXXX and UTF-16
// surrogate pairs to UTF-8), numbers, booleans or null (kept as their literal text, e.g. an "_id" written as a
// number); nested objects and arrays are checked and skipped (BEIR's "metadata": {}). It validates the syntax it
// reads and throws sparsedense::Error(invalid_data) naming the byte offset; readers add the line number. No
// dependency on a JSON library: the library stays header-only with no extra package.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sparsedense/core/error.hpp"

namespace sparsedense::eval {

/// One member of a parsed object: key and, for scalar values, the value (strings decoded; numbers, true, false,
/// null as literal text). is_string tells strings from literals; skipped (object/array) members are not listed.
struct JsonMember {
    std::string key;
    std::string value;
    bool is_string = true;
};

namespace detail {

class JsonParser {
public:
    explicit JsonParser(std::string_view text) : s_(text) {}

    std::vector<JsonMember> object_members() {
        std::vector<JsonMember> out;
        skip_ws();
        expect('{');
        skip_ws();
        if (peek() == '}') {
            ++i_;
        } else {
            while (true) {
                skip_ws();
                if (peek() != '"') fail("expected a string key");
                JsonMember m;
                m.key = string();
                skip_ws();
                expect(':');
                skip_ws();
                const char c = peek();
                if (c == '"') {
                    m.value = string();
                    out.push_back(std::move(m));
                } else if (c == '{' || c == '[') {
                    skip_value();
                } else {
                    m.value = literal();
                    m.is_string = false;
                    out.push_back(std::move(m));
                }
                skip_ws();
                if (peek() == ',') { ++i_; continue; }
                if (peek() == '}') { ++i_; break; }
                fail("expected ',' or '}'");
            }
        }
        skip_ws();
        if (i_ != s_.size()) fail("unexpected text after the object");
        return out;
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        raise(ErrorKind::invalid_data, "json: ", what, " at byte ", i_);
    }
    [[nodiscard]] char peek() const {
        if (i_ >= s_.size()) fail("unexpected end of input");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++i_;
    }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
    }
    std::uint32_t hex4() {
        if (i_ + 4 > s_.size()) fail("truncated \\u escape");
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else { --i_; fail("bad hex digit in \\u escape"); }
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
    std::string string() {
        expect('"');
        std::string out;
        while (true) {
            const char c = peek();
            ++i_;
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) { --i_; fail("control character in string"); }
            if (c != '\\') { out.push_back(c); continue; }
            const char e = peek();
            ++i_;
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
                        if (i_ + 2 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
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
                default: --i_; fail("bad escape character");
            }
        }
    }
    std::string literal() {
        const std::size_t start = i_;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
            ++i_;
        }
        const std::string_view lit = s_.substr(start, i_ - start);
        if (lit == "true" || lit == "false" || lit == "null") return std::string(lit);
        // number: -? digits [. digits] [e [+-] digits]
        std::size_t j = 0;
        const auto digits = [&]() { const std::size_t b = j; while (j < lit.size() && lit[j] >= '0' && lit[j] <= '9') ++j; return j > b; };
        bool ok = true;
        if (j < lit.size() && lit[j] == '-') ++j;
        ok = digits();
        if (ok && j < lit.size() && lit[j] == '.') { ++j; ok = digits(); }
        if (ok && j < lit.size() && (lit[j] == 'e' || lit[j] == 'E')) {
            ++j;
            if (j < lit.size() && (lit[j] == '+' || lit[j] == '-')) ++j;
            ok = digits();
        }
        if (!ok || j != lit.size() || lit.empty()) { i_ = start; fail("expected a value"); }
        return std::string(lit);
    }
    void skip_value() {
        skip_ws();
        const char c = peek();
        if (c == '"') { (void)string(); return; }
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++i_;
            skip_ws();
            if (peek() == close) { ++i_; return; }
            while (true) {
                skip_ws();
                if (c == '{') {
                    if (peek() != '"') fail("expected a string key");
                    (void)string();
                    skip_ws();
                    expect(':');
                }
                skip_value();
                skip_ws();
                if (peek() == ',') { ++i_; continue; }
                if (peek() == close) { ++i_; return; }
                fail(c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
            }
        }
        (void)literal();
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace detail

/// Parses one JSON object (the whole text must be that object, surrounded by optional whitespace).
[[nodiscard]] inline std::vector<JsonMember> parse_json_object(std::string_view text) {
    return detail::JsonParser(text).object_members();
}

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

}  // namespace sparsedense::eval
