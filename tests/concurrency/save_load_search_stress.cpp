// Concurrency stress: for each index kind (and a HybridSearcher over a sparse and a dense index), several threads
// search it while another thread saves it to the same path again and again and a third loads that path again and
// again. Every search must return exactly what a quiet, single-threaded run returned; every load must see a
// complete file (io::SectionWriter replaces it atomically: temp file + fsync + rename), so the loaded index answers
// the same too. Bounded by iteration counts (never by time) so it costs seconds, and small enough to run under
// ThreadSanitizer (scripts/test.sh's TSan stage), which checks the same runs for data races.
//
// Worker threads never call Catch2 (its assertions are not thread-safe): they count mismatches and errors in
// atomics, and the test thread checks the counts after joining.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/hybrid/hybrid_searcher.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/temp_dir.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

namespace {

constexpr std::size_t kSearchers = 3;
constexpr std::size_t kSearchRounds = 6;  // each searcher runs every query this many times
constexpr std::size_t kSaves = 8;         // the saver rewrites the file this many times
constexpr std::size_t kMinLoads = 3;      // the loader loads at least this many times (and until the saver is done)
constexpr std::size_t kK = 10;

struct Counts {
    std::atomic<std::size_t> searches{0}, search_mismatches{0}, saves{0}, loads{0}, load_mismatches{0}, errors{0};
};

/// Runs the stress on one index. `search(index, i)` answers query i; `load(path)` loads a saved copy.
template <class Index, class Search, class Load>
void stress(const Index& index, std::size_t num_queries, const std::string& path, Search&& search, Load&& load) {
    using Results = decltype(search(index, std::size_t{0}));
    std::vector<Results> quiet(num_queries);
    for (std::size_t i = 0; i < num_queries; ++i) quiet[i] = search(index, i);
    index.save(path);

    Counts c;
    std::atomic<bool> saver_done{false};
    auto guarded = [&](auto&& body) {
        return [&, body]() {
            try {
                body();
            } catch (const std::exception&) {
                c.errors.fetch_add(1);
            }
        };
    };
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kSearchers; ++t)
        threads.emplace_back(guarded([&, t] {
            for (std::size_t round = 0; round < kSearchRounds; ++round)
                for (std::size_t j = 0; j < num_queries; ++j) {
                    const std::size_t i = (j + t) % num_queries;
                    if (!(search(index, i) == quiet[i])) c.search_mismatches.fetch_add(1);
                    c.searches.fetch_add(1);
                }
        }));
    threads.emplace_back(guarded([&] {
        for (std::size_t s = 0; s < kSaves; ++s) {
            index.save(path);
            c.saves.fetch_add(1);
        }
        saver_done.store(true);
    }));
    threads.emplace_back(guarded([&] {
        for (std::size_t n = 0; n < kMinLoads || !saver_done.load(); ++n) {
            const Index loaded = load(path);
            for (std::size_t i = 0; i < num_queries; i += 3)
                if (!(search(loaded, i) == quiet[i])) c.load_mismatches.fetch_add(1);
            c.loads.fetch_add(1);
        }
    }));
    for (auto& th : threads) th.join();

    CHECK(c.errors.load() == 0);
    CHECK(c.search_mismatches.load() == 0);
    CHECK(c.load_mismatches.load() == 0);
    CHECK(c.searches.load() == kSearchers * kSearchRounds * num_queries);
    CHECK(c.saves.load() == kSaves);
    CHECK(c.loads.load() >= kMinLoads);
    // the final file is complete and answers the same
    const Index last = load(path);
    for (std::size_t i = 0; i < num_queries; ++i) CHECK(search(last, i) == quiet[i]);
}

/// The sparse side of the hybrid searcher: InvertedIndex seen through the Searchable shape (query_type, filter
/// argument), built on its plain search(q, k) so the test does not depend on the index's newer overloads.
struct SparseSide {
    using query_type = SparseVectorView<float>;
    using id_type = std::uint32_t;
    struct search_params_type {};
    const InvertedIndex* index;
    [[nodiscard]] std::size_t size() const { return index->size(); }
    [[nodiscard]] SearchResults<> search(SparseVectorView<float> q, std::size_t k, const search_params_type& = {}, const IdFilter& = {}) const {
        return index->search(q, k);
    }
};

}  // namespace

TEST_CASE("stress: sparse indexes searched while saved and loaded by other threads", "[concurrency][sparse]") {
    const auto docs = sparsedense::testing::random_sparse_rows(800, 300, 16, 11);
    const auto queries = sparsedense::testing::random_sparse_rows(12, 300, 5, 12);
    sparsedense::testing::TempDir dir;
    SECTION("InvertedIndex") {
        InvertedIndexBuildParams p;
        p.threads = 1;
        const auto index = InvertedIndex::build(docs, p);
        stress(
            index, queries.rows(), dir.file("inverted.sdx"), [&](const InvertedIndex& ix, std::size_t i) { return ix.search(queries.row(i), kK); },
            [](const std::string& path) { return InvertedIndex::load(path); });
    }
    SECTION("ClusteredInvertedIndex") {
        ClusteredInvertedIndexBuildParams p;
        p.lambda = 60;
        p.knn = 4;
        p.threads = 1;
        const auto index = ClusteredInvertedIndex::build(docs, p);
        stress(
            index, queries.rows(), dir.file("clustered.sdx"),
            [&](const ClusteredInvertedIndex& ix, std::size_t i) { return ix.search(queries.row(i), kK); },
            [](const std::string& path) { return ClusteredInvertedIndex::load(path); });
    }
}

TEST_CASE("stress: dense indexes searched while saved and loaded by other threads", "[concurrency][dense]") {
    const std::size_t n = 1000, d = 16, nq = 12;
    const auto base = sparsedense::testing::clustered_vectors(n, d, 12, 21);
    const auto qs = sparsedense::testing::clustered_vectors(nq, d, 12, 22);
    const DenseMatrixView<const float> base_view(base.data(), n, d), queries(qs.data(), nq, d);
    sparsedense::testing::TempDir dir;
    SECTION("FlatIndex") {
        const auto index = FlatIndex::build(base_view, Metric::inner_product);
        stress(
            index, nq, dir.file("flat.sdx"), [&](const FlatIndex& ix, std::size_t i) { return ix.search(queries.row(i), kK); },
            [](const std::string& path) { return FlatIndex::load(path); });
    }
    SECTION("IvfPqIndex") {
        IvfPqIndexBuildParams p;
        p.nlist = 16;
        p.m = 8;
        p.threads = 1;
        IvfPqIndex<> index(d, Metric::l2, p);
        index.train(base_view);
        index.add(base_view);
        IvfPqIndexSearchParams sp;
        sp.nprobe = 4;
        stress(
            index, nq, dir.file("ivfpq.sdx"), [&](const IvfPqIndex<>& ix, std::size_t i) { return ix.search(queries.row(i), kK, sp); },
            [](const std::string& path) { return IvfPqIndex<>::load(path); });
    }
}

TEST_CASE("stress: a hybrid searcher used while both its indexes are saved and loaded by other threads", "[concurrency][hybrid]") {
    const std::size_t n = 600, d = 16, nq = 10;
    const auto docs = sparsedense::testing::random_sparse_rows(n, 200, 12, 31);
    const auto sparse_queries = sparsedense::testing::random_sparse_rows(nq, 200, 4, 32);
    const auto base = sparsedense::testing::clustered_vectors(n, d, 10, 33);
    const auto qs = sparsedense::testing::clustered_vectors(nq, d, 10, 34);
    const DenseMatrixView<const float> base_view(base.data(), n, d), dense_queries(qs.data(), nq, d);
    InvertedIndexBuildParams ip;
    ip.threads = 1;

    // The pair (sparse, dense) as one "index" for stress(): saved as two files, loaded as two.
    struct Pair {
        InvertedIndex sparse;
        FlatIndex dense;
        std::string dense_suffix = ".dense";
        void save(const std::string& path) const {
            sparse.save(path);
            dense.save(path + dense_suffix);
        }
    };
    const Pair pair{InvertedIndex::build(docs, ip), FlatIndex::build(base_view, Metric::inner_product)};
    using Searcher = HybridSearcher<SparseSide, FlatIndex>;
    Searcher::params_type params;
    params.k0_sparse = 30;
    params.k0_dense = 30;
    sparsedense::testing::TempDir dir;
    // One searcher over the shared pair, used by every search thread (it is immutable); a fresh one per loaded pair.
    const SparseSide shared_side{&pair.sparse};
    const Searcher shared(shared_side, pair.dense, params);
    auto search = [&](const Pair& p, std::size_t i) {
        if (&p == &pair) return shared.search(sparse_queries.row(i), dense_queries.row(i), kK);
        const SparseSide side{&p.sparse};
        return Searcher(side, p.dense, params).search(sparse_queries.row(i), dense_queries.row(i), kK);
    };
    stress(pair, nq, dir.file("hybrid.sdx"), search,
           [](const std::string& path) { return Pair{InvertedIndex::load(path), FlatIndex::load(path + ".dense")}; });
}
