#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "sparsedense/simd/sparse_kernels.hpp"
#include "sparsedense/text/analyzer.hpp"
#include "sparsedense/text/bm25.hpp"
#include "sparsedense/text/porter_stemmer.hpp"
#include "sparsedense/text/stop_words.hpp"
#include "sparsedense/text/tokenizer.hpp"
#include "sparsedense/text/vocabulary.hpp"

using namespace sparsedense::text;
using Strings = std::vector<std::string>;

TEST_CASE("tokenizer lowercases, splits on non-alphanumerics and folds Latin accents", "[text][tokenizer]") {
    const Tokenizer tok;
    REQUIRE(tok.tokenize("Hello, World! IL-6 and TNF-alpha (p<0.05)") ==
            Strings{"hello", "world", "il", "6", "and", "tnf", "alpha", "p", "0", "05"});
    REQUIRE(tok.tokenize("naïve café Ærøskøbing straße Łódź") == Strings{"naive", "cafe", "aeroskobing", "strasse", "lodz"});
    REQUIRE(tok.tokenize("") == Strings{});
    REQUIRE(tok.tokenize("  ...  ") == Strings{});
    // Greek and other scripts separate tokens; the multiplication sign is not a letter.
    REQUIRE(tok.tokenize("TGF-\xCE\xB2 receptor 3\xC3\x97" "4") == Strings{"tgf", "receptor", "3", "4"});
    // Invalid UTF-8 (lone continuation byte, truncated sequence) separates without crashing.
    REQUIRE(tok.tokenize("ab\x80" "cd\xC3") == Strings{"ab", "cd"});
    const Tokenizer keep_case(TokenizerOptions{.lowercase = false, .fold_accents = false});
    REQUIRE(keep_case.tokenize("Caf\xC3\xA9 Bar") == Strings{"Caf", "Bar"});
}

TEST_CASE("English stop words are Lucene's 33", "[text][stop]") {
    const auto& s = english_stop_words();
    REQUIRE(s.size() == 33);
    for (const char* w : {"a", "the", "with", "into", "such", "their", "will"}) REQUIRE(s.contains(w));
    for (const char* w : {"he", "she", "we", "from", "have", ""}) REQUIRE_FALSE(s.contains(w));
    const StopWords custom{"foo", "bar", "foo"};
    REQUIRE(custom.size() == 2);
    REQUIRE(custom.contains("bar"));
}

TEST_CASE("Porter stemmer reproduces the examples of Porter (1980)", "[text][porter]") {
    const PorterStemmer p;
    const std::vector<std::pair<const char*, const char*>> pairs = {
        // step 1a
        {"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
        // step 1b
        {"feed", "feed"}, {"agreed", "agre"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"},
        {"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"}, {"sized", "size"}, {"hopping", "hop"},
        {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"}, {"failing", "fail"},
        {"filing", "file"},
        // step 1c
        {"happy", "happi"}, {"sky", "sky"},
        // step 2
        {"relational", "relat"}, {"conditional", "condit"}, {"rational", "ration"}, {"valenci", "valenc"},
        {"hesitanci", "hesit"}, {"digitizer", "digit"}, {"conformabli", "conform"}, {"radicalli", "radic"},
        {"differentli", "differ"}, {"vileli", "vile"}, {"analogousli", "analog"}, {"vietnamization", "vietnam"},
        {"predication", "predic"}, {"operator", "oper"}, {"feudalism", "feudal"}, {"decisiveness", "decis"},
        {"hopefulness", "hope"}, {"callousness", "callous"}, {"formaliti", "formal"}, {"sensitiviti", "sensit"},
        {"sensibiliti", "sensibl"},
        // step 3
        {"triplicate", "triplic"}, {"formative", "form"}, {"formalize", "formal"}, {"electriciti", "electr"},
        {"electrical", "electr"}, {"hopeful", "hope"}, {"goodness", "good"},
        // step 4
        {"revival", "reviv"}, {"allowance", "allow"}, {"inference", "infer"}, {"airliner", "airlin"},
        {"gyroscopic", "gyroscop"}, {"adjustable", "adjust"}, {"defensible", "defens"}, {"irritant", "irrit"},
        {"replacement", "replac"}, {"adjustment", "adjust"}, {"dependent", "depend"}, {"adoption", "adopt"},
        {"homologou", "homolog"}, {"communism", "commun"}, {"activate", "activ"}, {"angulariti", "angular"},
        {"homologous", "homolog"}, {"effective", "effect"}, {"bowdlerize", "bowdler"},
        // step 5
        {"probate", "probat"}, {"rate", "rate"}, {"cease", "ceas"}, {"controll", "control"}, {"roll", "roll"},
        // whole-word examples from the paper and common vocabulary
        {"generalizations", "gener"}, {"oscillators", "oscil"}, {"connection", "connect"}, {"connecting", "connect"},
        {"connections", "connect"}, {"retrieval", "retriev"}, {"proteins", "protein"}, {"is", "is"}, {"as", "as"},
        {"covid19", "covid19"}, {"abli", "abli"}, {"logically", "logic"},
    };
    for (const auto& [word, stem] : pairs) {
        CAPTURE(word);
        REQUIRE(p.stem(word) == stem);
    }
}

TEST_CASE("analyzer: tokens, stop words, stems", "[text][analyzer]") {
    const Analyzer a;
    REQUIRE(a.analyze("The connections of the proteins are relational!") == Strings{"connect", "protein", "relat"});
    const Analyzer raw(AnalyzerOptions{.remove_stop_words = false, .stem = false});
    REQUIRE(raw.analyze("The Cats") == Strings{"the", "cats"});
}

TEST_CASE("vocabulary assigns ids in order of first sight", "[text][vocabulary]") {
    Vocabulary v;
    REQUIRE(v.add("b") == 0);
    REQUIRE(v.add("a") == 1);
    REQUIRE(v.add("b") == 0);
    REQUIRE(v.size() == 2);
    REQUIRE(v.find("a") == 1u);
    REQUIRE_FALSE(v.find("c").has_value());
    REQUIRE(v.term(1) == "a");
    REQUIRE_THROWS_AS(v.term(2), sparsedense::Error);
}

TEST_CASE("BM25 impact vectors: inner product with the query equals the BM25 formula", "[text][bm25]") {
    Bm25Encoder enc;
    enc.add_document("cats chase mice");                 // cat chase mice   (3 terms)
    enc.add_document("the cat sat on the mat with a cat");  // cat sat mat cat  (4 terms)
    enc.add_document("dogs");                            // dog              (1 term)
    REQUIRE(enc.num_documents() == 3);
    REQUIRE(enc.average_length() == Approx(8.0 / 3.0));
    const auto cat = *enc.vocabulary().find("cat");
    REQUIRE(enc.document_frequency(cat) == 2);
    const double idf = std::log(1.0 + (3.0 - 2.0 + 0.5) / (2.0 + 0.5));
    REQUIRE(enc.idf(cat) == Approx(idf));

    const auto docs = enc.document_vectors();
    docs.validate();
    REQUIRE(docs.rows() == 3);
    REQUIRE(docs.cols == enc.vocabulary().size());
    const auto q = enc.encode_query("Cat? CATS! unicorn");  // cat x2, unknown term dropped
    REQUIRE(q.ids == std::vector<std::uint32_t>{cat});
    REQUIRE(q.values == std::vector<float>{2.0f});

    const double k1 = 0.9, b = 0.4, avgdl = 8.0 / 3.0;
    const auto bm25 = [&](double tf, double len) { return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgdl)); };
    REQUIRE(sparsedense::simd::sparse_dot_sparse(q.view(), docs.row(0)) == Approx(2.0 * bm25(1, 3)).epsilon(1e-5));
    REQUIRE(sparsedense::simd::sparse_dot_sparse(q.view(), docs.row(1)) == Approx(2.0 * bm25(2, 4)).epsilon(1e-5));
    REQUIRE(sparsedense::simd::sparse_dot_sparse(q.view(), docs.row(2)) == 0.0f);
    REQUIRE(enc.document_vector(1).values == std::vector<float>(docs.row(1).values.begin(), docs.row(1).values.end()));
    REQUIRE_THROWS_AS(Bm25Encoder(Bm25Params{.k1 = 0.9f, .b = 1.5f}), sparsedense::Error);
    REQUIRE_THROWS_AS(enc.document_vector(3), sparsedense::Error);
}
