// JSONL sparse reader: equals the CSR conversion of Seismic's toy set; escapes; malformed input throws.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/sparse_jsonl.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

namespace {
std::string write_temp(const std::string& name, const std::string& text) {
    const auto p = std::filesystem::temp_directory_path() / ("sparsedense_jsonl_" + std::to_string(std::random_device{}()) + "_" + name);
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
}
}  // namespace

TEST_CASE("sparse jsonl: seismic-toy documents and queries equal their CSR conversion", "[sparse][io][jsonl]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(vocab, "splade-beir/vocab.txt");
    for (const std::string name : {"documents", "queries"}) {
        SPARSEDENSE_REQUIRE_SHARED_DATA(jsonl, "seismic-toy/" + name + ".jsonl");
        SPARSEDENSE_REQUIRE_SHARED_DATA(csr, "seismic-toy/" + name + ".csr");
        SPARSEDENSE_REQUIRE_SHARED_DATA(ids, "seismic-toy/" + name + ".ids.tsv");
        const auto got = io::read_sparse_jsonl(jsonl, vocab);
        const auto expected = io::read_csr(csr);
        REQUIRE(got.vectors.rows() == expected.rows());
        REQUIRE(got.vectors.cols == expected.cols);
        REQUIRE(got.vectors.indptr == expected.indptr);
        REQUIRE(got.vectors.indices == expected.indices);
        REQUIRE(got.vectors.values == expected.values);
        got.vectors.validate();
        std::ifstream id_file(ids);
        std::string id;
        for (std::size_t r = 0; r < got.ids.size(); ++r) {
            REQUIRE(std::getline(id_file, id));
            REQUIRE(got.ids[r] == id);
        }
    }
}

TEST_CASE("sparse jsonl: escapes, unknown terms, other keys, malformed lines", "[sparse][io][jsonl]") {
    const auto vocab_path = write_temp("vocab.txt", "[PAD]\n##n\ncafé\n\"q\"\nzeta\n");
    const auto vocab = io::read_vocabulary(vocab_path);
    REQUIRE(vocab.size() == 5);
    const auto good = write_temp("good.jsonl",
                                 "{\"id\": \"a-1\", \"meta\": {\"x\": [1, 2.5, null, true, false, \"s\"]}, \"vector\": {\"zeta\": 0.5, \"\\u0023\\u0023n\": 1.25, "
                                 "\"caf\\u00e9\": 2e-1, \"\\\"q\\\"\": 3, \"nope\": 9}}\n"
                                 "\n"
                                 "{\"vector\": {}, \"id\": 7}\n");
    const auto r = io::read_sparse_jsonl(good, vocab);
    REQUIRE(r.vectors.rows() == 2);
    REQUIRE(r.ids == std::vector<std::string>{"a-1", "7"});
    REQUIRE(r.unknown_terms == 1);
    const auto row = r.vectors.row(0);
    REQUIRE(std::vector<std::uint32_t>(row.ids.begin(), row.ids.end()) == std::vector<std::uint32_t>{1, 2, 3, 4});
    REQUIRE(std::vector<float>(row.values.begin(), row.values.end()) == std::vector<float>{1.25f, 0.2f, 3.0f, 0.5f});
    REQUIRE(r.vectors.row(1).empty());
    REQUIRE_THROWS_AS(io::read_sparse_jsonl(good, vocab, io::UnknownTerms::error), Error);

    for (const std::string bad : {"{\"id\": 1, \"vector\": {\"zeta\": 0.5}", "{\"id\": 1}", "{\"vector\": {\"zeta\": \"x\"}}",
                                  "{\"vector\": {\"zeta\": 1e999}}", "{\"vector\": {\"zeta\": 1}} trailing", "[1, 2]",
                                  "{\"vector\": {\"\\ud800\": 1}}"}) {
        INFO(bad);
        const auto p = write_temp("bad.jsonl", bad + "\n");
        REQUIRE_THROWS_AS(io::read_sparse_jsonl(p, vocab), Error);
        std::filesystem::remove(p);
    }
    REQUIRE_THROWS_AS(io::read_sparse_jsonl("/nonexistent/file.jsonl", vocab), Error);
    std::filesystem::remove(good);
    std::filesystem::remove(vocab_path);
}
