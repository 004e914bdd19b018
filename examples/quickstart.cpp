// quickstart: the README's tour in one program. Builds every index on small generated data, searches, saves and
// loads one, and checks the answers against brute force. Run: build/release/examples/example_quickstart
#include <sparsedense/sparsedense.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

using namespace sparsedense;

int main() {
    std::mt19937 rng(7);
    // --- learned sparse: 5,000 documents over a 3,000-term vocabulary
    CsrMatrix<float> corpus(3000);
    std::uniform_int_distribution<std::uint32_t> term(0, 2999);
    std::uniform_real_distribution<float> weight(0.1f, 2.0f);
    for (int d = 0; d < 5000; ++d) {
        std::vector<std::uint32_t> ids;
        for (int i = 0; i < 40; ++i) ids.push_back(term(rng));
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        std::vector<float> w(ids.size());
        for (auto& x : w) x = weight(rng);
        corpus.push_back({ids, w});
    }
    const SparseVectorView<float> q = corpus.row(42);
    q.validate(corpus.cols);

    auto exact = InvertedIndex::build(corpus);
    auto approx = ClusteredInvertedIndex::build(corpus, {.lambda = 500});
    const SearchResults<> top_exact = exact.search(q, 10);
    const SearchResults<> top_approx = approx.search(q, 10, {.query_cut = 7, .heap_factor = 0.85f});
    int overlap = 0;
    for (const auto& a : top_approx)
        for (const auto& e : top_exact) overlap += a.id == e.id;
    std::printf("sparse: exact best doc %u (score %.3f); clustered finds %d of the exact top-10\n", top_exact[0].id, top_exact[0].score,
                overlap);

    const std::string path = (std::filesystem::temp_directory_path() / "sparsedense-quickstart.sdx").string();
    exact.save(path);  // atomic write
    auto loaded = InvertedIndex::load(path);  // memory-mapped
    const bool same = loaded.search(q, 10) == top_exact;
    std::filesystem::remove(path);

    // --- dense: 20,000 clustered vectors of dimension 64
    const std::size_t n = 20000, dim = 64;
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> centres(100 * dim), base(n * dim);
    for (auto& c : centres) c = normal(rng);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < dim; ++j) base[i * dim + j] = centres[(i % 100) * dim + j] + 0.2f * normal(rng);
    const DenseMatrixView<const float> base_view(base.data(), n, dim);
    const std::span<const float> query(base.data() + 5 * dim, dim);

    FlatIndex flat(dim, Metric::inner_product);
    flat.add(base_view);
    IvfPqIndex<> ivf(dim, Metric::inner_product, {.nlist = 64, .m = 16, .nbits = 4});
    ivf.train(base_view);
    ivf.add(base_view);
    const auto exact_dense = flat.search(query, 10);
    // each generated cluster holds 200 near-identical vectors: re-rank 250 PQ candidates (10 x 25) exactly
    const auto near = ivf.search(query, 10, {.nprobe = 16, .refine_factor = 25});
    int dense_overlap = 0;
    for (const auto& a : near)
        for (const auto& e : exact_dense) dense_overlap += a.id == e.id;
    std::printf("dense: flat best %u (score %.3f); IVF-PQ fast-scan + re-ranking finds %d of the exact top-10\n", exact_dense[0].id,
                exact_dense[0].score, dense_overlap);
    std::printf("kernels ran at SIMD level %s; saved/loaded sparse index answers identically: %s\n",
                simd::simd_level_name(simd::active_simd_level()), same ? "yes" : "NO");
    return same && overlap >= 5 && dense_overlap >= 5 ? 0 : 1;
}
