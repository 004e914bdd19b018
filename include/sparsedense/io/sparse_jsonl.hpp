// sparsedense/io/sparse_jsonl.hpp
//
// Reader for learned-sparse vectors stored as JSON lines, the form Seismic and many SPLADE pipelines emit:
//   {"id": 17, "content": "...", "vector": {"term": 0.83, "##ing": 0.12, ...}}
// one object per line; terms are strings mapped to ids through a vocabulary file (one term per line, term id = line
// number, e.g. BERT's vocab.txt). read_vocabulary() loads that file; read_sparse_jsonl() returns the vectors as a
// CsrMatrix<float> (term ids sorted within each row; cols = vocabulary size) plus each line's "id" as text.
// Keys other than "id" and "vector" are skipped. JSON strings are fully decoded (escapes, \uXXXX with surrogate
// pairs, to UTF-8) before the vocabulary lookup. Terms missing from the vocabulary are skipped and counted
// (UnknownTerms::skip, the default) or rejected (UnknownTerms::error). Malformed JSON, a missing "vector", a
// non-finite or non-numeric weight give an Error naming the file and line.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/core/error.hpp"

namespace sparsedense::io {

enum class UnknownTerms { skip, error };

struct SparseJsonl {
    CsrMatrix<float> vectors;            ///< one row per line
    std::vector<std::string> ids;        ///< the "id" of each line, as written (numbers as their text)
    std::size_t unknown_terms = 0;       ///< terms skipped because the vocabulary lacks them
};

/// Term -> id map of a vocabulary file (one term per line, id = line number, trailing '\r' removed).
class Vocabulary {
public:
    Vocabulary() = default;
    explicit Vocabulary(std::vector<std::string> terms) : terms_(std::move(terms)) {
        ids_.reserve(terms_.size());
        for (std::size_t i = 0; i < terms_.size(); ++i) ids_.emplace(terms_[i], static_cast<std::uint32_t>(i));
    }
    [[nodiscard]] std::size_t size() const noexcept { return terms_.size(); }
    [[nodiscard]] const std::string& term(std::uint32_t id) const { return terms_.at(id); }
    /// Id of a term, or -1 when absent.
    [[nodiscard]] long long find(const std::string& term) const {
        const auto it = ids_.find(term);
        return it == ids_.end() ? -1 : static_cast<long long>(it->second);
    }

private:
    std::vector<std::string> terms_;
    std::unordered_map<std::string, std::uint32_t> ids_;
};

inline Vocabulary read_vocabulary(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) raise(ErrorKind::io, "cannot open vocabulary '", path, "'");
    std::vector<std::string> terms;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        terms.push_back(line);
    }
    return Vocabulary(std::move(terms));
}

namespace detail {

/// A minimal JSON scanner over one line: enough to read objects of strings and numbers and skip anything else.
class JsonLine {
public:
    JsonLine(std::string_view text, const std::string& path, std::size_t line) : s_(text), path_(path), line_(line) {}

    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
    }
    bool peek(char c) {
        ws();
        return i_ < s_.size() && s_[i_] == c;
    }
    void expect(char c) {
        ws();
        if (i_ >= s_.size() || s_[i_] != c) fail("expected '", std::string(1, c), "'");
        ++i_;
    }
    [[nodiscard]] bool at_end() {
        ws();
        return i_ >= s_.size();
    }

    std::string string() {
        expect('"');
        std::string out;
        while (true) {
            if (i_ >= s_.size()) fail("unterminated string");
            const char c = s_[i_++];
            if (c == '"') break;
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
                    if (cp >= 0xd800 && cp < 0xdc00) {  // high surrogate: a low one must follow
                        if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                            i_ += 2;
                            const std::uint32_t lo = hex4();
                            if (lo < 0xdc00 || lo >= 0xe000) fail("invalid surrogate pair");
                            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        } else {
                            fail("lone high surrogate");
                        }
                    } else if (cp >= 0xdc00 && cp < 0xe000) {
                        fail("lone low surrogate");
                    }
                    utf8(cp, out);
                    break;
                }
                default: fail("bad escape '\\", std::string(1, e), "'");
            }
        }
        return out;
    }

    /// A JSON number as double; its source text in `text` when given.
    double number(std::string* text = nullptr) {
        ws();
        const std::size_t start = i_;
        while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' || s_[i_] == '+' || s_[i_] == '.' ||
                                  s_[i_] == 'e' || s_[i_] == 'E'))
            ++i_;
        if (start == i_) fail("expected a number");
        const std::string token(s_.substr(start, i_ - start));
        char* end = nullptr;
        const double v = std::strtod(token.c_str(), &end);
        if (end != token.c_str() + token.size()) fail("bad number '", token, "'");
        if (text) *text = token;
        return v;
    }

    void skip_value() {
        ws();
        if (i_ >= s_.size()) fail("expected a value");
        const char c = s_[i_];
        if (c == '"') {
            (void)string();
        } else if (c == '{') {
            ++i_;
            if (peek('}')) {
                ++i_;
                return;
            }
            do {
                (void)string();
                expect(':');
                skip_value();
            } while (comma());
            expect('}');
        } else if (c == '[') {
            ++i_;
            if (peek(']')) {
                ++i_;
                return;
            }
            do skip_value();
            while (comma());
            expect(']');
        } else if (s_.substr(i_, 4) == "true" || s_.substr(i_, 4) == "null") {
            i_ += 4;
        } else if (s_.substr(i_, 5) == "false") {
            i_ += 5;
        } else {
            (void)number();
        }
    }

    /// Consumes a ',' if present.
    bool comma() {
        if (peek(',')) {
            ++i_;
            return true;
        }
        return false;
    }

    template <class... Parts>
    [[noreturn]] void fail(Parts&&... parts) const {
        raise(ErrorKind::invalid_data, "'", path_, "' line ", line_, ", column ", i_ + 1, ": ", std::forward<Parts>(parts)...);
    }

private:
    std::uint32_t hex4() {
        if (i_ + 4 > s_.size()) fail("short \\u escape");
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
    static void utf8(std::uint32_t cp, std::string& out) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    const std::string& path_;
    std::size_t line_;
};

}  // namespace detail

/// Reads every non-blank line of `path` as one sparse vector.
inline SparseJsonl read_sparse_jsonl(const std::string& path, const Vocabulary& vocabulary, UnknownTerms unknown = UnknownTerms::skip) {
    std::ifstream in(path, std::ios::binary);
    if (!in) raise(ErrorKind::io, "cannot open '", path, "'");
    SparseJsonl out;
    out.vectors = CsrMatrix<float>(vocabulary.size());
    std::string line;
    std::size_t line_no = 0;
    std::vector<std::pair<std::uint32_t, float>> terms;
    std::vector<std::uint32_t> ids;
    std::vector<float> values;
    while (std::getline(in, line)) {
        ++line_no;
        detail::JsonLine json(line, path, line_no);
        if (json.at_end()) continue;  // blank line
        json.expect('{');
        bool have_vector = false, have_id = false;
        std::string id_text;
        terms.clear();
        if (!json.peek('}')) {
            do {
                const std::string key = json.string();
                json.expect(':');
                if (key == "id") {
                    if (json.peek('"')) id_text = json.string();
                    else (void)json.number(&id_text);
                    have_id = true;
                } else if (key == "vector") {
                    have_vector = true;
                    json.expect('{');
                    if (!json.peek('}')) {
                        do {
                            const std::string term = json.string();
                            json.expect(':');
                            const double w = json.number();
                            if (!std::isfinite(w) || !std::isfinite(static_cast<float>(w))) json.fail("weight of term '", term, "' is not a finite float");
                            const long long t = vocabulary.find(term);
                            if (t < 0) {
                                if (unknown == UnknownTerms::error) json.fail("term '", term, "' is not in the vocabulary");
                                ++out.unknown_terms;
                                continue;
                            }
                            terms.emplace_back(static_cast<std::uint32_t>(t), static_cast<float>(w));
                        } while (json.comma());
                    }
                    json.expect('}');
                } else {
                    json.skip_value();
                }
            } while (json.comma());
        }
        json.expect('}');
        if (!json.at_end()) json.fail("trailing characters after the object");
        if (!have_vector) json.fail("no \"vector\" member");
        std::sort(terms.begin(), terms.end());
        for (std::size_t i = 1; i < terms.size(); ++i)
            if (terms[i].first == terms[i - 1].first) json.fail("term id ", terms[i].first, " appears twice");
        ids.clear();
        values.clear();
        for (const auto& [t, w] : terms) {
            ids.push_back(t);
            values.push_back(w);
        }
        out.vectors.push_back({ids, values});
        out.ids.push_back(have_id ? id_text : std::to_string(out.ids.size()));
    }
    return out;
}

inline SparseJsonl read_sparse_jsonl(const std::string& path, const std::string& vocabulary_path, UnknownTerms unknown = UnknownTerms::skip) {
    return read_sparse_jsonl(path, read_vocabulary(vocabulary_path), unknown);
}

}  // namespace sparsedense::io
