// sparsedense/text/porter_stemmer.hpp
//
// PorterStemmer: the original suffix-stripping algorithm of M. F. Porter, "An algorithm for suffix stripping",
// Program 14(3), 130-137, 1980 -- the stemmer behind Lucene's PorterStemFilter and so behind Anserini/Pyserini's
// BM25 baselines. It works on lowercase ASCII words in five steps (plurals and -ed/-ing; y -> i; double suffixes
// like -ization; -ful/-ness; -ant/-ence/...; final e and ll), each rule guarded by the "measure" m of the stem,
// the number of vowel-consonant sequences in [C](VC)^m[V]. Within a step the longest matching suffix decides,
// as in the paper. Words of one or two letters are left alone (as in Porter's own implementations). Characters
// other than a..z (digits) count as consonants. This follows the 1980 paper, not the later "Porter2"/English
// Snowball stemmer, and not the ANSI C release's three departures (bli->ble, logi->log).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace sparsedense::text {

class PorterStemmer {
public:
    /// The stem of a lowercase ASCII word.
    [[nodiscard]] std::string stem(std::string_view word) const {
        std::string w(word);
        stem_in_place(w);
        return w;
    }

    /// Stems `w` in place.
    void stem_in_place(std::string& w) const {
        if (w.size() <= 2) return;
        Word s{w};
        s.step1a();
        s.step1b();
        s.step1c();
        s.step2();
        s.step3();
        s.step4();
        s.step5();
    }

private:
    struct Rule {
        std::string_view suffix;
        std::string_view replacement;
    };

    struct Word {
        std::string& w;

        /// Whether w[i] is a consonant given whether w[i - 1] is (ignored at i = 0): 'y' is a consonant at the start
        /// and after a vowel, a vowel after a consonant.
        [[nodiscard]] bool consonant_after(std::size_t i, bool previous_consonant) const noexcept {
            switch (w[i]) {
                case 'a': case 'e': case 'i': case 'o': case 'u': return false;
                case 'y': return i == 0 || !previous_consonant;
                default: return true;
            }
        }
        /// Whether w[i] is a consonant. A run of y's alternates, so this walks back to the run's start (no
        /// recursion: a long run of y's in hostile text costs time linear in the run, not stack).
        [[nodiscard]] bool consonant(std::size_t i) const noexcept {
            std::size_t j = i;
            while (j > 0 && w[j] == 'y') --j;
            bool c = consonant_after(j, true);  // w[j] is not a 'y', or j == 0
            for (std::size_t k = j + 1; k <= i; ++k) c = consonant_after(k, c);
            return c;
        }
        /// m of the prefix w[0, len), in one pass.
        [[nodiscard]] int measure(std::size_t len) const noexcept {
            int m = 0;
            bool previous = true, seen_vowel = false;
            for (std::size_t i = 0; i < len; ++i) {
                const bool c = consonant_after(i, previous);
                if (!c) seen_vowel = true;
                else if (!previous && seen_vowel) ++m;  // a VC boundary
                previous = c;
            }
            return m;
        }
        [[nodiscard]] bool has_vowel(std::size_t len) const noexcept {
            bool previous = true;
            for (std::size_t i = 0; i < len; ++i) {
                previous = consonant_after(i, previous);
                if (!previous) return true;
            }
            return false;
        }
        /// *d: w[0, len) ends with a double consonant.
        [[nodiscard]] bool double_consonant(std::size_t len) const noexcept {
            return len >= 2 && w[len - 1] == w[len - 2] && consonant(len - 1);
        }
        /// *o: w[0, len) ends consonant-vowel-consonant, the last not w, x or y.
        [[nodiscard]] bool cvc(std::size_t len) const noexcept {
            if (len < 3 || !consonant(len - 3) || consonant(len - 2) || !consonant(len - 1)) return false;
            const char c = w[len - 1];
            return c != 'w' && c != 'x' && c != 'y';
        }
        [[nodiscard]] bool ends(std::string_view s) const noexcept { return std::string_view(w).ends_with(s); }
        void replace_suffix(std::size_t suffix_len, std::string_view r) {
            w.resize(w.size() - suffix_len);
            w.append(r);
        }

        void step1a() {
            if (ends("sses")) replace_suffix(4, "ss");
            else if (ends("ies")) replace_suffix(3, "i");
            else if (ends("ss")) return;
            else if (ends("s")) replace_suffix(1, "");
        }
        void step1b() {
            bool removed = false;
            if (ends("eed")) {
                if (measure(w.size() - 3) > 0) replace_suffix(3, "ee");
                return;
            }
            if (ends("ed") && has_vowel(w.size() - 2)) {
                replace_suffix(2, "");
                removed = true;
            } else if (ends("ing") && has_vowel(w.size() - 3)) {
                replace_suffix(3, "");
                removed = true;
            }
            if (!removed) return;
            if (ends("at") || ends("bl") || ends("iz")) {
                w.push_back('e');
            } else if (double_consonant(w.size())) {
                const char c = w.back();
                if (c != 'l' && c != 's' && c != 'z') w.pop_back();
            } else if (measure(w.size()) == 1 && cvc(w.size())) {
                w.push_back('e');
            }
        }
        void step1c() {
            if (ends("y") && has_vowel(w.size() - 1)) w.back() = 'i';
        }
        /// Finds the longest rule whose suffix ends the word; applies it when the stem's measure exceeds min_m.
        template <std::size_t N>
        void longest_rule(const std::array<Rule, N>& rules, int min_m) {
            const Rule* best = nullptr;
            for (const auto& r : rules)
                if (ends(r.suffix) && (best == nullptr || r.suffix.size() > best->suffix.size())) best = &r;
            if (best != nullptr && measure(w.size() - best->suffix.size()) > min_m)
                replace_suffix(best->suffix.size(), best->replacement);
        }
        void step2() {
            static constexpr std::array<Rule, 20> rules{{
                {"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"},   {"anci", "ance"},  {"izer", "ize"},
                {"abli", "able"},   {"alli", "al"},     {"entli", "ent"},   {"eli", "e"},      {"ousli", "ous"},
                {"ization", "ize"}, {"ation", "ate"},   {"ator", "ate"},    {"alism", "al"},   {"iveness", "ive"},
                {"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"},    {"iviti", "ive"},  {"biliti", "ble"},
            }};
            longest_rule(rules, 0);
        }
        void step3() {
            static constexpr std::array<Rule, 7> rules{{
                {"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"}, {"ical", "ic"}, {"ful", ""}, {"ness", ""},
            }};
            longest_rule(rules, 0);
        }
        void step4() {
            static constexpr std::array<std::string_view, 19> suffixes{
                "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
                "ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
            };
            std::string_view best;
            for (const auto s : suffixes)
                if (ends(s) && s.size() > best.size()) best = s;
            if (best.empty()) return;
            const std::size_t stem_len = w.size() - best.size();
            if (measure(stem_len) <= 1) return;
            if (best == "ion" && (stem_len == 0 || (w[stem_len - 1] != 's' && w[stem_len - 1] != 't'))) return;
            replace_suffix(best.size(), "");
        }
        void step5() {
            if (ends("e")) {
                const int m = measure(w.size() - 1);
                if (m > 1 || (m == 1 && !cvc(w.size() - 1))) w.pop_back();
            }
            if (ends("ll") && measure(w.size()) > 1) w.pop_back();
        }
    };
};

}  // namespace sparsedense::text
