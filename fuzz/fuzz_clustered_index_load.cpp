// Fuzz target: ClusteredInvertedIndex::load (fuzz_index.hpp); a loaded index is searched (approximate and exact),
// re-scored, saved and loaded again.
#include "fuzz_index.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_index_load<ClusteredInvertedIndex>("clustered", data, size, true, false, fuzz::sparse_queries,
                                                         [](const ClusteredInvertedIndex& ix, const SparseVector<float>& q) {
                                                             const SparseVectorView<float> v(q.ids, q.values);
                                                             fuzz::check_results(ix.search_exact(v, 10), 10, ix.size(), true);
                                                             return ix.search(v, 10);
                                                         });
}
