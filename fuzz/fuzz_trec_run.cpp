// Fuzz target: eval::read_trec_run (trec_eval run files). A parsed run is best first per query (scores never
// increase) with each document once; written back (ranks 1.., scores "%.9g") and read again it lists the same
// documents in the same order, with the scores as printed.
#include <cmath>
#include <cstdlib>
#include <unordered_set>

#include "fuzz_support.hpp"
#include "sparsedense/eval/trec.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::InputFile in("trec-run");
    const std::string& path = in.write(data, size);
    std::optional<eval::Run> run;
    {
        fuzz::AllocationBound bound(size);
        run = fuzz::parse([&] { return eval::read_trec_run(path); });
    }
    if (!run) return 0;
    for (const auto& [qid, ranking] : *run) {
        std::unordered_set<std::string> seen;
        for (std::size_t i = 0; i < ranking.size(); ++i) {
            FUZZ_CHECK(!std::isnan(ranking[i].score));
            FUZZ_CHECK(seen.insert(ranking[i].id).second);
            if (i) FUZZ_CHECK(!(ranking[i].score > ranking[i - 1].score));
        }
    }
    const std::string copy = in.sibling(".copy");
    FUZZ_CHECK(fuzz::run([&] { eval::write_trec_run(copy, *run, "fuzz"); }));
    const auto again = fuzz::parse([&] { return eval::read_trec_run(copy); });
    FUZZ_CHECK(again.has_value() && again->size() == run->size());
    for (const auto& [qid, ranking] : *run) {
        const auto it = again->find(qid);
        FUZZ_CHECK(it != again->end() && it->second.size() == ranking.size());
        for (std::size_t i = 0; i < ranking.size(); ++i) {
            char printed[64];
            std::snprintf(printed, sizeof printed, "%.9g", ranking[i].score);
            FUZZ_CHECK(it->second[i].id == ranking[i].id);
            FUZZ_CHECK(it->second[i].score == std::strtod(printed, nullptr));
        }
    }
    return 0;
}
