// Fuzz target: the text pipeline on arbitrary bytes -- Tokenizer (both option sets), Analyzer (stop words, Porter
// stemmer) and Bm25Encoder. Tokens are non-empty lowercase ASCII letters and digits; a token re-tokenizes to
// itself; stemming never lengthens a word by more than one letter and is deterministic; BM25 vectors are valid
// sparse vectors with finite weights.
#include "fuzz_support.hpp"
#include "sparsedense/text/analyzer.hpp"
#include "sparsedense/text/bm25.hpp"
#include "sparsedense/text/tokenizer.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    fuzz::AllocationBound bound(size, 64);
    const text::Tokenizer tokenizer;
    const auto tokens = tokenizer.tokenize(text);
    for (const auto& t : tokens) {
        FUZZ_CHECK(!t.empty());
        for (const char c : t) FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
        const auto again = tokenizer.tokenize(t);
        FUZZ_CHECK(again.size() == 1 && again[0] == t);
    }
    const text::Tokenizer raw({.lowercase = false, .fold_accents = false});
    raw.for_each_token(text, [](std::string_view t) { FUZZ_CHECK(!t.empty()); });

    const text::Analyzer analyzer;
    const text::PorterStemmer stemmer;
    std::size_t terms = 0;
    analyzer.for_each_term(text, [&](std::string_view term) {
        FUZZ_CHECK(!term.empty());
        ++terms;
    });
    FUZZ_CHECK(terms <= tokens.size());
    for (const auto& t : tokens) {
        const std::string s = stemmer.stem(t);
        FUZZ_CHECK(!s.empty() && s.size() <= t.size() + 1 && s == stemmer.stem(t));
    }

    // BM25: the input as three documents (split at the first two newlines) and as a query
    auto encoded = fuzz::parse([&] {
        text::Bm25Encoder bm25;
        std::string_view rest = text;
        for (int d = 0; d < 3; ++d) {
            const auto nl = rest.find('\n');
            bm25.add_document(rest.substr(0, nl));
            rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        }
        return std::make_pair(bm25.document_vectors(), bm25.encode_query(text));
    });
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(fuzz::run([&] { encoded->first.validate(); }));
    for (const float w : encoded->first.values) FUZZ_CHECK(std::isfinite(w));
    return 0;
}
