#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "sparsedense/eval/beir.hpp"
#include "sparsedense/eval/json.hpp"
#include "sparsedense/eval/trec.hpp"
#include "support/test_support.hpp"

using namespace sparsedense::eval;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("sparsedense_eval_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
        fs::create_directories(path);
    }
    ~TempDir() { std::error_code ec; fs::remove_all(path, ec); }
    static int& counter() { static int c = 0; return c; }
    std::string file(const std::string& name, const std::string& content) const {
        const auto p = (path / name).string();
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
};

/// Runs f, requires it to throw sparsedense::Error whose message contains `needle`.
template <class F>
void require_error_containing(F&& f, const std::string& needle) {
    try {
        f();
        FAIL("no exception; expected one containing '" << needle << "'");
    } catch (const sparsedense::Error& e) {
        CAPTURE(e.what());
        REQUIRE(std::string(e.what()).find(needle) != std::string::npos);
    }
}
}  // namespace

TEST_CASE("json: strings with escapes, unicode and surrogate pairs, other values", "[eval][json]") {
    const auto m = parse_json_object(
        R"( {"_id": "x\"1", "t": "a\\b\/c\n\u00e9\u4e2d\ud83d\ude00", "n": -12.5e3, "b": true, "z": null,
             "metadata": {"k": [1, {"x": "y"}, []], "e": {}}, "last": ""} )");
    REQUIRE(m.size() == 6);
    REQUIRE(m[0].key == "_id");
    REQUIRE(m[0].value == "x\"1");
    REQUIRE(m[1].value == "a\\b/c\n\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
    REQUIRE(m[2].value == "-12.5e3");
    REQUIRE_FALSE(m[2].is_string);
    REQUIRE(m[3].value == "true");
    REQUIRE(m[4].value == "null");
    REQUIRE(m[5].key == "last");
    REQUIRE(m[5].value.empty());
    REQUIRE(parse_json_object("{}").empty());

    for (const char* bad : {"", "{", "{\"a\"}", "{\"a\": }", "{\"a\": \"x}", "{\"a\": \"\\ud83d\"}", "{\"a\": \"\\ude00\"}",
                            "{\"a\": \"\\q\"}", "{\"a\": 1,}", "{\"a\": 01x}", "{\"a\": [1, 2}", "{} x", "[1]",
                            "{\"a\": \"\\u12G4\"}", "{\"a\": tru}"}) {
        CAPTURE(bad);
        REQUIRE_THROWS_AS(parse_json_object(bad), sparsedense::Error);
    }
    std::string out;
    append_json_string(out, "q\"\\\n\x01 é");
    REQUIRE(parse_json_object("{\"k\": " + out + "}")[0].value == "q\"\\\n\x01 é");
}

TEST_CASE("BEIR corpus, queries and qrels: round trip and folder reader", "[eval][beir]") {
    const TempDir dir;
    const std::vector<BeirDocument> docs{{"d1", "Title \"one\"", "Text with\ttab and é"}, {"d2", "", "second"}};
    const std::vector<BeirQuery> queries{{"q1", "what is \\ this?"}, {"q2", "unjudged"}};
    Qrels qrels;
    qrels["q1"] = {{"d1", 2}, {"d2", 0}};
    write_beir_corpus((dir.path / "corpus.jsonl").string(), docs);
    write_beir_queries((dir.path / "queries.jsonl").string(), queries);
    write_beir_qrels((dir.path / "qrels.tsv").string(), qrels);
    REQUIRE(read_beir_corpus((dir.path / "corpus.jsonl").string()) == docs);
    REQUIRE(read_beir_queries((dir.path / "queries.jsonl").string()) == queries);
    REQUIRE(read_beir_qrels((dir.path / "qrels.tsv").string()) == qrels);

    const auto c = read_beir_collection(dir.path.string());
    REQUIRE(c.corpus == docs);
    REQUIRE(c.queries.size() == 1);  // only judged queries
    REQUIRE(c.queries[0].id == "q1");
    REQUIRE(read_beir_collection(dir.path.string(), false).queries.size() == 2);

    // metadata members, numeric ids, missing title, CRLF line ends, blank lines
    const auto p = dir.file("c2.jsonl", "{\"_id\": 7, \"text\": \"x\", \"metadata\": {}}\r\n\n{\"_id\": \"8\", \"title\": null, \"text\": \"y\"}\n");
    const auto c2 = read_beir_corpus(p);
    REQUIRE(c2.size() == 2);
    REQUIRE(c2[0].id == "7");
    REQUIRE(c2[1].title.empty());
}

TEST_CASE("BEIR readers reject malformed input with the line number", "[eval][beir]") {
    const TempDir dir;
    require_error_containing([&] { (void)read_beir_corpus(dir.file("a.jsonl", "{\"_id\": \"1\", \"text\": \"ok\"}\n{\"_id\": \"2\", \"text\": \"no end}\n")); },
                             "a.jsonl:2:");
    require_error_containing([&] { (void)read_beir_corpus(dir.file("b.jsonl", "{\"text\": \"x\"}\n")); }, "b.jsonl:1: document has no \"_id\"");
    require_error_containing([&] { (void)read_beir_corpus(dir.file("c.jsonl", "{\"_id\": \"1\", \"title\": \"t\"}\n")); }, "has no \"text\"");
    require_error_containing([&] { (void)read_beir_corpus(dir.file("d.jsonl", "{\"_id\": \"1\", \"text\": \"\"}\n{\"_id\": \"1\", \"text\": \"\"}\n")); },
                             "d.jsonl:2: document id '1' repeated");
    require_error_containing([&] { (void)read_beir_queries(dir.file("e.jsonl", "\n\n{\"_id\": \"1\"}\n")); }, "e.jsonl:3:");
    require_error_containing([&] { (void)read_beir_qrels(dir.file("f.tsv", "query-id\tcorpus-id\tscore\n1\t2\t1\n1\t3\n")); },
                             "f.tsv:3: expected 3 fields");
    require_error_containing([&] { (void)read_beir_qrels(dir.file("g.tsv", "1\t2\t1\n1\t3\tx\n")); }, "g.tsv:2: score 'x' is not an integer");
    require_error_containing([&] { (void)read_beir_qrels(dir.file("h.tsv", "1\t2\t1\n1\t2\t0\n")); }, "h.tsv:2: document '2' judged twice");
    require_error_containing([&] { (void)read_beir_corpus((dir.path / "missing.jsonl").string()); }, "cannot open");
    // a header-less qrels file keeps its first line
    REQUIRE(read_beir_qrels(dir.file("i.tsv", "1 2 1\n")).at("1").at("2") == 1);
}

TEST_CASE("TREC qrels and runs: round trip, ordering, malformed lines", "[eval][trec]") {
    const TempDir dir;
    Qrels qrels;
    qrels["1"] = {{"a", 1}, {"b", 0}};
    qrels["2"] = {{"c", 3}};
    const auto qp = (dir.path / "qrels.txt").string();
    write_trec_qrels(qp, qrels);
    REQUIRE(read_trec_qrels(qp) == qrels);

    Run run;
    run["1"] = {{"a", 3.5}, {"b", 1.25}, {"c", -0.5}};
    run["2"] = {{"x", 0.1}};
    const auto rp = (dir.path / "run.txt").string();
    write_trec_run(rp, run, "tag");
    REQUIRE(read_trec_run(rp) == run);

    // runs are re-sorted by score, ties by rank column
    const auto unordered = read_trec_run(dir.file("u.txt", "q Q0 low 1 1.0 t\nq Q0 high 2 2.0 t\nq Q0 tie 4 1.0 t\nq Q0 tie0 3 1.0 t\n"));
    const Ranking expected{{"high", 2.0}, {"low", 1.0}, {"tie0", 1.0}, {"tie", 1.0}};
    REQUIRE(unordered.at("q") == expected);

    require_error_containing([&] { (void)read_trec_qrels(dir.file("q1.txt", "1 0 a 1\n1 0 b\n")); }, "q1.txt:2: expected 4 fields");
    require_error_containing([&] { (void)read_trec_qrels(dir.file("q2.txt", "1 0 a one\n")); }, "q2.txt:1: grade 'one'");
    require_error_containing([&] { (void)read_trec_run(dir.file("r1.txt", "1 Q0 a 1 2.0 t\n1 Q0 b 2 x t\n")); }, "r1.txt:2: score 'x'");
    require_error_containing([&] { (void)read_trec_run(dir.file("r2.txt", "1 Q0 a 1 2.0\n")); }, "r2.txt:1: expected 6 fields");
    require_error_containing([&] { (void)read_trec_run(dir.file("r3.txt", "1 Q0 a 1 2.0 t\n1 Q0 a 2 1.0 t\n")); }, "r3.txt:2: document 'a' listed twice");
}

TEST_CASE("real BEIR files parse: SciFact and Cranfield counts", "[eval][beir][data]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(scifact, "scifact/corpus.jsonl");
    const auto sf = read_beir_collection(fs::path(scifact).parent_path().string());
    REQUIRE(sf.corpus.size() == 5183);
    REQUIRE(sf.queries.size() == 300);
    REQUIRE(sf.qrels.size() == 300);
    SPARSEDENSE_REQUIRE_SHARED_DATA(cranfield, "cranfield/corpus.jsonl");
    const auto cr = read_beir_collection(fs::path(cranfield).parent_path().string());
    REQUIRE(cr.corpus.size() == 1400);
    REQUIRE(cr.queries.size() == 225);
}
