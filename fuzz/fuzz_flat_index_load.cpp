// Fuzz target: FlatIndex::load (fuzz_index.hpp); a loaded index is searched, re-scored, saved and loaded again.
#include "fuzz_index.hpp"
#include "sparsedense/dense/flat_index.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_index_load<FlatIndex>("flat", data, size, true, true, fuzz::dense_queries,
                                            [](const FlatIndex& ix, const std::vector<float>& q) { return ix.search(q, 10); });
}
