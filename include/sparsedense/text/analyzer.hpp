// sparsedense/text/analyzer.hpp
//
// Analyzer: the text pipeline BM25 runs on -- Tokenizer (lowercase, ASCII folding, split on non-alphanumerics),
// stop-word removal, then Porter stemming (Porter 1980). The default mirrors the analysis behind Anserini/Pyserini's
// English BM25 baselines (Lucene EnglishAnalyzer: its 33 stop words and the Porter stemmer; we do not strip
// possessives, which the split on "'" makes mostly moot). Each step can be switched off. Stateless and const:
// one Analyzer can serve many threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sparsedense/text/porter_stemmer.hpp"
#include "sparsedense/text/stop_words.hpp"
#include "sparsedense/text/tokenizer.hpp"

namespace sparsedense::text {

struct AnalyzerOptions {
    TokenizerOptions tokenizer{};
    bool remove_stop_words = true;  ///< drop words in stop_words (checked before stemming)
    bool stem = true;               ///< apply the Porter stemmer
};

class Analyzer {
public:
    Analyzer() : Analyzer(AnalyzerOptions{}) {}
    explicit Analyzer(AnalyzerOptions options, StopWords stop_words = english_stop_words())
        : options_(options), tokenizer_(options.tokenizer), stop_words_(std::move(stop_words)) {}

    [[nodiscard]] const AnalyzerOptions& options() const noexcept { return options_; }
    [[nodiscard]] const StopWords& stop_words() const noexcept { return stop_words_; }

    /// Calls f(std::string_view term) for every indexable term of `text`, in order (repeats included).
    template <class F>
    void for_each_term(std::string_view text, F&& f) const {
        std::string term;
        tokenizer_.for_each_token(text, [&](std::string_view token) {
            if (options_.remove_stop_words && stop_words_.contains(token)) return;
            term.assign(token);
            if (options_.stem) stemmer_.stem_in_place(term);
            f(std::string_view(term));
        });
    }

    /// The terms of `text`, in order.
    [[nodiscard]] std::vector<std::string> analyze(std::string_view text) const {
        std::vector<std::string> out;
        for_each_term(text, [&](std::string_view t) { out.emplace_back(t); });
        return out;
    }

private:
    AnalyzerOptions options_;
    Tokenizer tokenizer_;
    StopWords stop_words_;
    PorterStemmer stemmer_;
};

}  // namespace sparsedense::text
