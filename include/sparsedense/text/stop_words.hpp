// sparsedense/text/stop_words.hpp
//
// StopWords: a set of words dropped before stemming. english_stop_words() is the classic 33-word English list
// that Lucene's EnglishAnalyzer (and so Anserini/Pyserini BM25) uses: articles, auxiliaries, conjunctions and
// prepositions only, short enough not to hurt queries like "to be or not to be" more than necessary. A custom
// list can be given instead. Lookups take a std::string_view and do not allocate.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace sparsedense::text {

class StopWords {
public:
    StopWords() = default;
    StopWords(std::initializer_list<std::string_view> words) : StopWords(std::vector<std::string_view>(words)) {}
    template <class Range>
    explicit StopWords(const Range& words) {
        for (const auto& w : words) words_.emplace_back(w);
        std::sort(words_.begin(), words_.end());
        words_.erase(std::unique(words_.begin(), words_.end()), words_.end());
    }

    [[nodiscard]] bool contains(std::string_view word) const noexcept {
        const auto it = std::lower_bound(words_.begin(), words_.end(), word,
                                         [](const std::string& a, std::string_view b) { return std::string_view(a) < b; });
        return it != words_.end() && std::string_view(*it) == word;
    }
    [[nodiscard]] std::size_t size() const noexcept { return words_.size(); }
    [[nodiscard]] bool empty() const noexcept { return words_.empty(); }
    [[nodiscard]] const std::vector<std::string>& words() const noexcept { return words_; }

private:
    std::vector<std::string> words_;  // sorted, unique
};

/// The 33 English stop words of Lucene's EnglishAnalyzer (lowercase).
inline const StopWords& english_stop_words() {
    static const StopWords words{"a",    "an",   "and",   "are",  "as",    "at",   "be",   "but",  "by",
                                 "for",  "if",   "in",    "into", "is",    "it",   "no",   "not",  "of",
                                 "on",   "or",   "such",  "that", "the",   "their", "then", "there", "these",
                                 "they", "this", "to",    "was",  "will",  "with"};
    return words;
}

}  // namespace sparsedense::text
