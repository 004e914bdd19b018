// Fuzz target: eval::read_beir_queries (BEIR queries.jsonl); parsed queries round-trip through write_beir_queries.
#include <unordered_set>

#include "fuzz_beir.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_round_trip(
        "beir-queries", data, size, [](const std::string& p) { return eval::read_beir_queries(p); },
        [](const std::string& p, const std::vector<eval::BeirQuery>& q) { eval::write_beir_queries(p, q); },
        [](const std::vector<eval::BeirQuery>& queries) {
            std::unordered_set<std::string> ids;
            for (const auto& q : queries) FUZZ_CHECK(ids.insert(q.id).second);
        });
}
