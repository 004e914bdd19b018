// The walks of hnsw_search.hpp on hand-made graphs: the linear pool (every node acceptable) against the two-heap
// walk it replaces, and both against the best-first search's definition (a brute-force ef nearest of the nodes the
// walk could reach).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "sparsedense/dense/hnsw_search.hpp"
#include "sparsedense/dense/payload_distance.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;
using namespace sparsedense::detail;

namespace {

/// n random vectors and a random directed layer-0 graph of out-degree 1..max_degree (no upper layers).
struct RandomGraph {
    HnswGraph graph;
    VectorStore store;
    std::vector<float> rows;
};

RandomGraph random_graph(std::size_t n, std::size_t d, std::size_t m, std::uint64_t seed) {
    RandomGraph r{HnswGraph(m), VectorStore(d, VectorEncoding::f32), sparsedense::testing::uniform_vector(n * d, seed)};
    r.store.append({r.rows.data(), n, d});
    r.graph.append_nodes(std::vector<std::uint8_t>(n, 0));
    std::mt19937_64 rng(seed + 1);
    std::vector<std::uint32_t> links;
    for (std::uint32_t i = 0; i < n; ++i) {
        links.clear();
        const std::size_t degree = 1 + rng() % r.graph.max_degree(0);
        while (links.size() < degree) {
            const auto v = static_cast<std::uint32_t>(rng() % n);
            if (v != i && std::find(links.begin(), links.end(), v) == links.end()) links.push_back(v);
        }
        r.graph.set_neighbors(i, 0, links);
    }
    r.graph.set_entry(0, 0);
    return r;
}

std::vector<HnswCandidate> sorted(std::vector<HnswCandidate> v) {
    std::sort(v.begin(), v.end(), FartherFirst{});
    return v;
}

}  // namespace

TEST_CASE("hnsw walk: the linear pool returns exactly the two-heap walk's nodes and distances, at every ef", "[dense][hnsw]") {
    const std::size_t n = 600, d = 8;
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        const RandomGraph g = random_graph(n, d, 4 + seed, seed);
        const auto queries = sparsedense::testing::uniform_vector(20 * d, seed + 100);
        PayloadDistance dist;
        HnswWalk pool_walk, heap_walk;
        const auto all = [](std::uint32_t) { return true; };
        for (std::size_t q = 0; q < 20; ++q) {
            dist.prepare(g.store, queries.data() + q * d, false);
            const HnswCandidate entry{dist(0), 0};
            for (std::size_t ef : {1u, 2u, 5u, 10u, 40u, 200u}) {
                search_layer<false>(g.graph, dist, entry, 0, ef, all, true, pool_walk);   // the linear pool
                search_layer<false>(g.graph, dist, entry, 0, ef, all, false, heap_walk);  // the two heaps
                const auto a = pool_walk.results, b = sorted(heap_walk.results);
                REQUIRE(std::is_sorted(a.begin(), a.end(), FartherFirst{}));  // closest first
                REQUIRE(a.size() <= ef);
                REQUIRE(a.size() == b.size());
                for (std::size_t i = 0; i < a.size(); ++i) {
                    REQUIRE(a[i].id == b[i].id);
                    REQUIRE(a[i].dist == b[i].dist);
                    REQUIRE((a[i].id & kExpandedBit) == 0);
                }
            }
        }
    }
}

TEST_CASE("hnsw walk: with ef at least the reachable nodes, the pool returns all of them, closest first", "[dense][hnsw]") {
    const std::size_t n = 300, d = 6;
    const RandomGraph g = random_graph(n, d, 6, 9);
    // the nodes reachable from the entry
    std::vector<char> seen(n, 0);
    std::vector<std::uint32_t> stack{0};
    seen[0] = 1;
    while (!stack.empty()) {
        const std::uint32_t u = stack.back();
        stack.pop_back();
        for (std::uint32_t v : g.graph.neighbors(u, 0))
            if (!seen[v]) seen[v] = 1, stack.push_back(v);
    }
    const auto queries = sparsedense::testing::uniform_vector(5 * d, 77);
    PayloadDistance dist;
    HnswWalk w;
    for (std::size_t q = 0; q < 5; ++q) {
        dist.prepare(g.store, queries.data() + q * d, false);
        std::vector<HnswCandidate> truth;
        for (std::uint32_t i = 0; i < n; ++i)
            if (seen[i]) truth.push_back({dist(i), i});
        std::sort(truth.begin(), truth.end(), FartherFirst{});
        search_layer<false>(g.graph, dist, {dist(0), 0}, 0, n, [](std::uint32_t) { return true; }, true, w);
        REQUIRE(w.results.size() == truth.size());
        for (std::size_t i = 0; i < truth.size(); ++i) REQUIRE(w.results[i].id == truth[i].id);
    }
}
