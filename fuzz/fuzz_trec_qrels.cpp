// Fuzz target: eval::read_trec_qrels (trec_eval qrels); parsed qrels round-trip through write_trec_qrels.
#include "fuzz_beir.hpp"
#include "sparsedense/eval/trec.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_round_trip(
        "trec-qrels", data, size, [](const std::string& p) { return eval::read_trec_qrels(p); },
        [](const std::string& p, const eval::Qrels& q) { eval::write_trec_qrels(p, q); },
        [](const eval::Qrels& qrels) {
            for (const auto& [qid, judgments] : qrels) FUZZ_CHECK(!qid.empty() && !judgments.empty());
        });
}
