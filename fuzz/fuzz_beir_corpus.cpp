// Fuzz target: eval::read_beir_corpus (BEIR corpus.jsonl); a parsed corpus round-trips through write_beir_corpus.
#include <unordered_set>

#include "fuzz_beir.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_round_trip(
        "beir-corpus", data, size, [](const std::string& p) { return eval::read_beir_corpus(p); },
        [](const std::string& p, const std::vector<eval::BeirDocument>& d) { eval::write_beir_corpus(p, d); },
        [](const std::vector<eval::BeirDocument>& docs) {
            std::unordered_set<std::string> ids;
            for (const auto& d : docs) FUZZ_CHECK(ids.insert(d.id).second);
        });
}
