// Every input the fuzzers (fuzz/) found crashing a reader or loader of this library, kept under
// tests/fuzz_regressions/<target>/ and replayed here through the same public entry point: each must now load or
// throw sparsedense::Error -- never crash, never throw anything else. (The fuzz stage of scripts/test.sh replays
// them too, under ASan + UBSan, through the fuzz targets themselves.) Inputs of the index-loader targets go through
// the same checksum fix-up as in the target (fuzz/index_file_fixup.hpp), so the file loaded is the one that
// crashed. tests/fuzz_regressions/known_bugs/ holds reproducers of bugs not fixed yet (docs/reliability.md): they
// are not replayed.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "../../fuzz/index_file_fixup.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/eval/beir.hpp"
#include "sparsedense/eval/json.hpp"
#include "sparsedense/eval/trec.hpp"
#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/sparse_jsonl.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "sparsedense/text/analyzer.hpp"
#include "support/temp_dir.hpp"

using namespace sparsedense;
namespace fs = std::filesystem;

namespace {

const fs::path regressions_dir = fs::path(SPARSEDENSE_SOURCE_DIR) / "tests" / "fuzz_regressions";

std::vector<fs::path> inputs_of(const std::string& target) {
    std::vector<fs::path> out;
    const fs::path dir = regressions_dir / target;
    if (fs::is_directory(dir))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

/// Runs `read` on every input of `target`: success or sparsedense::Error are fine, any other exception fails.
void replay(const std::string& target, const std::function<void(const std::string&)>& read) {
    for (const auto& input : inputs_of(target)) {
        INFO(target << ": " << input.filename().string());
        try {
            read(input.string());
        } catch (const Error&) {
            // refused with the library's error: what bad input must get
        }
    }
}

/// As replay() for an index loader: the input is fixed up as the fuzz target did, then loaded.
template <class Index>
void replay_index(const std::string& target) {
    sparsedense::testing::TempDir dir;
    const std::string path = dir.file("index.sdx");
    replay(target, [&](const std::string& input) {
        const auto raw = sparsedense::testing::slurp(input);
        const auto bytes = fuzz::index_file_bytes(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
        sparsedense::testing::spit(path, std::vector<char>(bytes.begin(), bytes.end()));
        (void)Index::load(path);
    });
}

}  // namespace

TEST_CASE("fuzz regressions: every committed input has a target folder and a replay", "[io][fuzz]") {
    const std::vector<std::string> known{"csr", "fvecs", "ivecs", "bvecs", "sparse_jsonl", "beir_corpus", "beir_queries", "beir_qrels",
                                         "trec_run", "trec_qrels", "json", "text", "inverted_index_load", "clustered_index_load",
                                         "flat_index_load", "ivf_pq_index_load", "known_bugs"};
    REQUIRE(fs::is_directory(regressions_dir));
    for (const auto& e : fs::directory_iterator(regressions_dir)) {
        INFO(e.path().string());
        REQUIRE(std::find(known.begin(), known.end(), e.path().filename().string()) != known.end());
        REQUIRE(fs::exists(fs::path(SPARSEDENSE_SOURCE_DIR) / "fuzz" / ("fuzz_" + e.path().filename().string() + ".cpp")) ==
                (e.path().filename() != "known_bugs"));
    }
}

TEST_CASE("fuzz regressions: vector and CSR files", "[io][fuzz]") {
    replay("csr", [](const std::string& p) { (void)io::read_csr(p); });
    replay("fvecs", [](const std::string& p) { (void)io::read_fvecs(p); });
    replay("ivecs", [](const std::string& p) { (void)io::read_ivecs(p); });
    replay("bvecs", [](const std::string& p) { (void)io::read_bvecs(p); });
}

TEST_CASE("fuzz regressions: JSON, sparse JSONL and text", "[io][fuzz]") {
    replay("json", [](const std::string& p) {
        const auto bytes = sparsedense::testing::slurp(p);
        const std::string_view text(bytes.data(), bytes.size());
        io::JsonCursor json(text);
        try {
            json.skip_value();
        } catch (const Error&) {
        }
        (void)eval::parse_json_object(text);
    });
    replay("sparse_jsonl", [](const std::string& p) {
        const auto bytes = sparsedense::testing::slurp(p);
        const auto nul = std::find(bytes.begin(), bytes.end(), '\0');
        sparsedense::testing::TempDir dir;
        const bool split = nul != bytes.end();
        sparsedense::testing::spit(dir.file("vocab.txt"), split ? std::vector<char>(bytes.begin(), nul) : std::vector<char>());
        sparsedense::testing::spit(dir.file("v.jsonl"), split ? std::vector<char>(nul + 1, bytes.end()) : bytes);
        (void)io::read_sparse_jsonl(dir.file("v.jsonl"), dir.file("vocab.txt"));
    });
    replay("text", [](const std::string& p) {
        const auto bytes = sparsedense::testing::slurp(p);
        (void)text::Analyzer().analyze(std::string_view(bytes.data(), bytes.size()));
    });
}

TEST_CASE("fuzz regressions: BEIR and TREC files", "[io][fuzz]") {
    replay("beir_corpus", [](const std::string& p) { (void)eval::read_beir_corpus(p); });
    replay("beir_queries", [](const std::string& p) { (void)eval::read_beir_queries(p); });
    replay("beir_qrels", [](const std::string& p) { (void)eval::read_beir_qrels(p); });
    replay("trec_run", [](const std::string& p) { (void)eval::read_trec_run(p); });
    replay("trec_qrels", [](const std::string& p) { (void)eval::read_trec_qrels(p); });
}

TEST_CASE("fuzz regressions: index files", "[io][fuzz]") {
    replay_index<InvertedIndex>("inverted_index_load");
    replay_index<ClusteredInvertedIndex>("clustered_index_load");
    replay_index<FlatIndex>("flat_index_load");
    replay_index<IvfPqIndex<>>("ivf_pq_index_load");
}

TEST_CASE("fuzz regressions: the fixed reader bugs give the documented errors", "[io][fuzz]") {
    sparsedense::testing::TempDir dir;
    // a rank or grade beyond 2^63 - 1 is not an integer (it was signed overflow), a grade beyond int is refused
    sparsedense::testing::spit(dir.file("run.txt"), std::vector<char>{'q', ' ', 'Q', '0', ' ', 'd', ' ', '9', '9', '9', '9', '9', '9', '9', '9', '9',
                                                                        '9', '9', '9', '9', '9', '9', '9', '9', '9', '9', '9', ' ', '1', ' ', 'r'});
    REQUIRE_THROWS_WITH(eval::read_trec_run(dir.file("run.txt")), Catch::Contains("rank") && Catch::Contains("is not an integer"));
    const std::string big_grade = "q 0 d 2147483648\n";
    sparsedense::testing::spit(dir.file("qrels.txt"), std::vector<char>(big_grade.begin(), big_grade.end()));
    REQUIRE_THROWS_WITH(eval::read_trec_qrels(dir.file("qrels.txt")), Catch::Contains("int range"));
    const std::string nan_score = "q Q0 d 1 nan r\n";
    sparsedense::testing::spit(dir.file("nan.txt"), std::vector<char>(nan_score.begin(), nan_score.end()));
    REQUIRE_THROWS_WITH(eval::read_trec_run(dir.file("nan.txt")), Catch::Contains("is not a number"));
    // JSON nested deeper than JsonCursor::max_depth is an error, not a stack overflow
    const std::string deep(100000, '[');
    io::JsonCursor json(deep);
    REQUIRE_THROWS_WITH(json.skip_value(), Catch::Contains("nested more than"));
    // a long run of y's is stemmed without recursion
    REQUIRE(text::PorterStemmer().stem(std::string(200000, 'y')).size() == 200000);
    // a CSR file whose header claims 2^62 rows is refused before any allocation
    std::vector<char> csr(24, 0);
    const std::int64_t rows = std::int64_t{1} << 62;
    std::memcpy(csr.data(), &rows, 8);
    sparsedense::testing::spit(dir.file("big.csr"), csr);
    REQUIRE_THROWS_AS(io::read_csr(dir.file("big.csr")), Error);
    const std::int64_t max_rows = std::numeric_limits<std::int64_t>::max();
    std::memcpy(csr.data(), &max_rows, 8);
    sparsedense::testing::spit(dir.file("max.csr"), csr);
    REQUIRE_THROWS_AS(io::read_csr(dir.file("max.csr")), Error);
}
