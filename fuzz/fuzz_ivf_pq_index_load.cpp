// Fuzz target: IvfPqIndex<>::load (fuzz_index.hpp); a loaded index is searched (every list probed), re-scored by
// external id, saved and loaded again.
#include "fuzz_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_index_load<IvfPqIndex<>>("ivfpq", data, size, false, false, fuzz::dense_queries,
                                               [](const IvfPqIndex<>& ix, const std::vector<float>& q) {
                                                   IvfPqIndexSearchParams p;
                                                   p.nprobe = ix.nlist();
                                                   return ix.search(q, 10, p);
                                               });
}
