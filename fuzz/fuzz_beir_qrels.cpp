// Fuzz target: eval::read_beir_qrels (BEIR qrels .tsv); parsed qrels round-trip through write_beir_qrels.
#include "fuzz_beir.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_round_trip(
        "beir-qrels", data, size, [](const std::string& p) { return eval::read_beir_qrels(p); },
        [](const std::string& p, const eval::Qrels& q) { eval::write_beir_qrels(p, q); },
        [](const eval::Qrels& qrels) {
            for (const auto& [qid, judgments] : qrels) {
                FUZZ_CHECK(!qid.empty());
                for (const auto& [doc, grade] : judgments) FUZZ_CHECK(!doc.empty());
            }
        });
}
