// Composes a clustered sparse index (Seismic-style) and an IVF-PQ index in one HybridSearcher, with each side's
// search parameters tuned and a filter restricting the documents (say, one tenant's or one date range's), then
// checks the answer against exact search over the same documents. Runs as a test (examples/CMakeLists.txt).
#include <sparsedense/sparsedense.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

using namespace sparsedense;

int main() {
    // a small collection: each document has a learned-sparse vector and a dense embedding (ids 0..n-1 on both sides)
    const std::size_t n = 4000, vocabulary = 2000, dim = 32;
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> term(0, vocabulary - 1);
    std::uniform_real_distribution<float> weight(0.1f, 2.0f);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    CsrMatrix<float> sparse_docs(vocabulary);
    for (std::size_t d = 0; d < n; ++d) {
        std::vector<std::uint32_t> terms(40);
        for (auto& t : terms) t = term(rng) % (200 + d % 1800);  // topical skew: low ids are common
        std::sort(terms.begin(), terms.end());
        terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
        std::vector<float> weights(terms.size());
        for (auto& w : weights) w = weight(rng);
        sparse_docs.push_back({terms, weights});
    }
    std::vector<float> embeddings(n * dim);
    for (std::size_t d = 0; d < n; ++d)
        for (std::size_t j = 0; j < dim; ++j) embeddings[d * dim + j] = normal(rng) + (j == d % dim ? 3.0f : 0.0f);
    const DenseMatrixView<const float> dense_docs(embeddings.data(), n, dim);

    // build both sides: every index of the library has the same shape (docs/api.md)
    const auto sparse = ClusteredInvertedIndex::build(sparse_docs, {.lambda = 300, .forward_values = WeightPrecision::f32});
    const auto dense = IvfPqIndex<>::build(dense_docs, Metric::inner_product, {.nlist = 32, .m = 16, .refine_encoding = VectorEncoding::f32});

    // one searcher, each side's parameters tuned: more query terms and probes than the defaults
    HybridSearcher searcher(sparse, dense);
    auto params = searcher.default_params();
    params.k0_sparse = params.k0_dense = 50;
    params.fusion = FusionParams::convex(ScoreNormalization::min_max, 0.5);
    params.sparse.query_cut = 12;        // ClusteredInvertedIndexSearchParams
    params.sparse.heap_factor = 0.7f;
    params.dense.nprobe = 12;            // IvfPqIndexSearchParams
    params.dense.refine_factor = 8;

    // a filter: only the documents of "tenant 3" (every 7th document), given as a bitset over ids
    IdBitset tenant(n);
    for (std::size_t d = 3; d < n; d += 7) tenant.set(d);

    // exact references for the same documents: brute force on both sides, fused the same way
    const FlatIndex exact_dense = FlatIndex::build(dense_docs, Metric::inner_product);
    const InvertedIndex exact_sparse = InvertedIndex::build(sparse_docs);
    HybridSearcher exact(exact_sparse, exact_dense);
    auto exact_params = exact.default_params();
    exact_params.k0_sparse = exact_params.k0_dense = 50;
    exact_params.fusion = params.fusion;

    std::size_t found = 0, wanted = 0, outside = 0;
    for (std::size_t q = 0; q < 50; ++q) {
        const std::size_t doc = (q * 131) % n;  // query with a perturbed document
        std::vector<float> qv(embeddings.begin() + doc * dim, embeddings.begin() + (doc + 1) * dim);
        for (auto& x : qv) x += 0.3f * normal(rng);
        const auto hits = searcher.search(sparse_docs.row(doc), qv, 10, params, tenant);
        const auto truth = exact.search(sparse_docs.row(doc), qv, 10, exact_params, tenant);
        for (const auto& h : hits) outside += !tenant.test(h.id);
        for (const auto& t : truth) found += std::any_of(hits.begin(), hits.end(), [&](const auto& h) { return h.id == t.id; });
        wanted += truth.size();
    }
    const double recall = static_cast<double>(found) / static_cast<double>(wanted);
    std::printf("hybrid (clustered sparse + IVF-PQ, tuned, tenant filter): recall@10 vs exact hybrid %.3f, hits outside the filter %zu\n",
                recall, outside);
    return outside == 0 && recall >= 0.8 ? 0 : 1;
}
