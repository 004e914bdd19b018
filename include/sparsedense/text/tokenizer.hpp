// sparsedense/text/tokenizer.hpp
//
// Tokenizer: turns UTF-8 text into lowercase ASCII tokens, the first step of BM25 from text. A token is a maximal
// run of ASCII letters and digits; everything else (spaces, punctuation, symbols, Greek, CJK, invalid UTF-8) is a
// separator. Before splitting, the common Latin accented letters (Latin-1 Supplement and Latin Extended-A,
// U+00C0..U+017F) are folded to their ASCII base ("é" -> "e", "ß" -> "ss", "Æ" -> "ae"), as Lucene's
// ASCIIFoldingFilter does for these blocks, so "naïve" and "naive" meet in one term. No allocation per token when
// using for_each_token(): the callback receives a std::string_view into a reused buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sparsedense::text {

struct TokenizerOptions {
    bool lowercase = true;     ///< map A-Z to a-z (folded accents are always lowercase)
    bool fold_accents = true;  ///< fold U+00C0..U+017F Latin letters to ASCII; otherwise they separate tokens
};

namespace detail {

/// ASCII folding of one code point of U+00C0..U+017F (lowercase result), or nullptr when it is not a letter
/// with an ASCII base (e.g. U+00D7 multiplication sign).
inline const char* fold_latin(std::uint32_t cp) noexcept {
    static constexpr const char* latin1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",          // C0-CF
        "d", "n", "o", "o", "o", "o", "o", nullptr, "o", "u", "u", "u", "u", "y", "th", "ss",     // D0-DF
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",          // E0-EF
        "d", "n", "o", "o", "o", "o", "o", nullptr, "o", "u", "u", "u", "u", "y", "th", "y",      // F0-FF
    };
    if (cp >= 0xC0 && cp <= 0xFF) return latin1[cp - 0xC0];
    if (cp < 0x100 || cp > 0x17F) return nullptr;
    struct Range { std::uint32_t last; const char* ascii; };
    static constexpr Range extended_a[] = {
        {0x105, "a"}, {0x10D, "c"}, {0x111, "d"}, {0x11B, "e"}, {0x123, "g"}, {0x127, "h"}, {0x131, "i"},
        {0x133, "ij"}, {0x135, "j"}, {0x138, "k"}, {0x142, "l"}, {0x14B, "n"}, {0x151, "o"}, {0x153, "oe"},
        {0x159, "r"}, {0x161, "s"}, {0x167, "t"}, {0x173, "u"}, {0x175, "w"}, {0x178, "y"}, {0x17E, "z"},
        {0x17F, "s"},
    };
    for (const auto& r : extended_a)
        if (cp <= r.last) return r.ascii;
    return nullptr;
}

/// Decodes one UTF-8 sequence at text[i]; returns its length (>= 1) and the code point, or 0xFFFFFFFF when the
/// bytes are not valid UTF-8 (the caller then skips one byte).
inline std::size_t decode_utf8(std::string_view text, std::size_t i, std::uint32_t& cp) noexcept {
    const auto byte = [&](std::size_t j) { return static_cast<unsigned char>(text[j]); };
    const unsigned char c = byte(i);
    std::size_t len = 0;
    if (c < 0x80) { cp = c; return 1; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else { cp = 0xFFFFFFFFu; return 1; }
    if (i + len > text.size()) { cp = 0xFFFFFFFFu; return 1; }
    for (std::size_t j = 1; j < len; ++j) {
        if ((byte(i + j) & 0xC0) != 0x80) { cp = 0xFFFFFFFFu; return 1; }
        cp = (cp << 6) | (byte(i + j) & 0x3F);
    }
    return len;
}

}  // namespace detail

class Tokenizer {
public:
    Tokenizer() = default;
    explicit Tokenizer(TokenizerOptions options) : options_(options) {}

    [[nodiscard]] const TokenizerOptions& options() const noexcept { return options_; }

    /// Calls f(std::string_view token) for every token in order. The view is valid only during the call.
    template <class F>
    void for_each_token(std::string_view text, F&& f) const {
        std::string token;
        const auto flush = [&]() {
            if (!token.empty()) {
                f(std::string_view(token));
                token.clear();
            }
        };
        for (std::size_t i = 0; i < text.size();) {
            const char c = text[i];
            if (static_cast<unsigned char>(c) < 0x80) {
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                    token.push_back(c);
                } else if (c >= 'A' && c <= 'Z') {
                    token.push_back(options_.lowercase ? static_cast<char>(c - 'A' + 'a') : c);
                } else {
                    flush();
                }
                ++i;
                continue;
            }
            std::uint32_t cp = 0;
            const std::size_t len = detail::decode_utf8(text, i, cp);
            const char* folded = options_.fold_accents ? detail::fold_latin(cp) : nullptr;
            if (folded != nullptr) token.append(folded);
            else flush();
            i += len;
        }
        flush();
    }

    /// All tokens of `text`, in order.
    [[nodiscard]] std::vector<std::string> tokenize(std::string_view text) const {
        std::vector<std::string> out;
        for_each_token(text, [&](std::string_view t) { out.emplace_back(t); });
        return out;
    }

private:
    TokenizerOptions options_{};
};

}  // namespace sparsedense::text
