// sparsedense/io/sparse_jsonl.hpp
//
// Reader for learned-sparse vectors stored as JSON lines, the form Seismic and many SPLADE pipelines emit:
//   {"id": 17, "content": "...", "vector": {"term": 0.83, "##ing": 0.12, ...}}
// one object per line; terms are strings mapped to ids through a vocabulary file (one term per line, term id = line
// number, e.g. BERT's vocab.txt). read_vocabulary() loads that file; read_sparse_jsonl() returns the vectors as a
// CsrMatrix<float> (term ids sorted within each row; cols = vocabulary size) plus each line's "id" as text.
// Keys other than "id" and "vector" are skipped. JSON strings are fully decoded by io::JsonCursor (escapes,
// \uXXXX with surrogate pairs, to UTF-8) before the vocabulary lookup. Terms missing from the vocabulary are skipped and counted
// (UnknownTerms::skip, the default) or rejected (UnknownTerms::error). Malformed JSON, a missing "vector", a
// non-finite or non-numeric weight give an Error naming the file and line.
#pragma once

#include <algorithm>
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
#include "sparsedense/io/json.hpp"

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
        JsonCursor json(line, sparsedense::detail::concat("'", path, "' line ", line_no));
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
