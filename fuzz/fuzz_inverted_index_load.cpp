// Fuzz target: InvertedIndex::load (fuzz_index.hpp): mutated index files and random bytes; a loaded index is searched
// with every exact algorithm, re-scored, saved and loaded again.
#include "fuzz_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

using namespace sparsedense;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return fuzz::fuzz_index_load<InvertedIndex>("inverted", data, size, true, true, fuzz::sparse_queries,
                                                [](const InvertedIndex& ix, const SparseVector<float>& q) {
                                                    const SparseVectorView<float> v(q.ids, q.values);
                                                    auto hits = ix.search(v, 10);
                                                    for (auto algo : {ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand, ExactAlgorithm::term_at_a_time,
                                                                      ExactAlgorithm::document_at_a_time}) {
                                                        InvertedIndexSearchParams p;
                                                        p.algorithm = algo;
                                                        const auto other = ix.search(v, 10, p);
                                                        fuzz::check_results(other, 10, ix.size(), true);
                                                        if (fuzz::strict_mode()) FUZZ_CHECK(other.size() == hits.size());
                                                    }
                                                    return hits;
                                                });
}
