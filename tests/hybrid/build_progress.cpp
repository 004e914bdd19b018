// Build progress (core/progress.hpp) for every index with a long build: each stage is reported from 0 to its
// total with `done` never decreasing, the built index is the one built without a callback, and a callback that
// throws cancels the build (the exception reaches the caller), on one thread and on two.
#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

namespace {

struct Recorder {
    std::vector<std::string> order;                              // stages in the order they were first seen
    std::map<std::string, std::vector<BuildProgress>> events;    // stage views are copied to strings below
    ProgressCallback callback() {
        return [this](const BuildProgress& p) {
            const std::string stage(p.stage);
            if (!events.count(stage)) order.push_back(stage);
            events[stage].push_back(BuildProgress{{}, p.done, p.total});
        };
    }
    /// Every stage starts at 0, never goes back, keeps its total and ends exactly once at done == total.
    void check(const std::vector<std::string>& expected_stages) const {
        CHECK(order == expected_stages);
        for (const auto& [stage, ev] : events) {
            INFO("stage " << stage);
            REQUIRE(ev.size() >= 2);
            CHECK(ev.front().done == 0);
            CHECK(ev.back().done == ev.back().total);
            CHECK(ev.size() <= 2 + 101);
            for (std::size_t i = 1; i < ev.size(); ++i) {
                CHECK(ev[i].total == ev[0].total);
                CHECK(ev[i].done >= ev[i - 1].done);
                if (i + 1 < ev.size()) CHECK(ev[i].done < ev[i].total);
            }
        }
    }
};

/// A callback that throws at its first report with work done.
ProgressCallback cancelling() {
    return [](const BuildProgress& p) {
        if (p.done > 0) throw std::runtime_error("cancelled in " + std::string(p.stage));
    };
}

template <class Index, class Query>
void same_results(const Index& a, const Index& b, const std::vector<Query>& queries) {
    for (const auto& q : queries) REQUIRE(a.search(q, 10) == b.search(q, 10));
}

}  // namespace

TEST_CASE("build progress: the sparse indexes report every stage and can be cancelled", "[core][progress][sparse]") {
    const auto docs = sparsedense::testing::random_sparse_rows(1500, 400, 20, 31);
    const auto queries = sparsedense::testing::random_sparse_rows(5, 400, 6, 32);
    std::vector<SparseVectorView<float>> qs;
    for (std::size_t i = 0; i < queries.rows(); ++i) qs.push_back(queries.row(i));
    for (std::size_t threads : {1, 2}) {
        INFO("threads " << threads);
        Recorder rec;
        InvertedIndexBuildParams ip{.threads = threads};
        ip.progress = rec.callback();
        const auto exact = InvertedIndex::build(docs, ip);
        rec.check({"encode_lists"});
        same_results(exact, InvertedIndex::build(docs, {.threads = threads}), qs);
        ip.progress = cancelling();
        CHECK_THROWS_WITH(InvertedIndex::build(docs, ip), Catch::Contains("cancelled in encode_lists"));

        Recorder crec;
        ClusteredInvertedIndexBuildParams cp;
        cp.lambda = 200;
        cp.knn = 4;
        cp.threads = threads;
        cp.progress = crec.callback();
        const auto clustered = ClusteredInvertedIndex::build(docs, cp);
        crec.check({"cluster", "knn_graph"});
        CHECK(!clustered.build_params().progress);  // the caller's callback is not kept
        cp.progress = {};
        same_results(clustered, ClusteredInvertedIndex::build(docs, cp), qs);
        cp.progress = cancelling();
        CHECK_THROWS_WITH(ClusteredInvertedIndex::build(docs, cp), Catch::Contains("cancelled in cluster"));
    }
}

TEST_CASE("build progress: IVF-PQ and HNSW report every stage and can be cancelled", "[core][progress][dense]") {
    const std::size_t n = 3000, d = 16;
    const auto base = sparsedense::testing::clustered_vectors(n, d, 20, 33);
    const DenseMatrixView<const float> data(base.data(), n, d);
    std::vector<std::span<const float>> qs;
    for (std::size_t i = 0; i < 5; ++i) qs.push_back(data.row(i * 97));
    for (std::size_t threads : {1, 2}) {
        INFO("threads " << threads);
        Recorder rec;
        IvfPqIndexBuildParams ip;
        ip.nlist = 32;
        ip.m = 8;
        ip.coarse_iterations = 5;
        ip.pq_iterations = 5;
        ip.threads = threads;
        ip.progress = rec.callback();
        const auto ivf = IvfPqIndex<>::build(data, Metric::inner_product, ip);
        rec.check({"kmeans", "train_pq", "add"});
        CHECK(rec.events.at("kmeans").back().total == ip.coarse_iterations);
        CHECK(rec.events.at("train_pq").back().total == ip.m);
        CHECK(!ivf.params().progress);
        ip.progress = {};
        same_results(ivf, IvfPqIndex<>::build(data, Metric::inner_product, ip), qs);
        ip.progress = cancelling();
        CHECK_THROWS_WITH(IvfPqIndex<>::build(data, Metric::inner_product, ip), Catch::Contains("cancelled in kmeans"));

        Recorder hrec;
        HnswIndexBuildParams hp{.M = 8, .ef_construction = 40, .threads = threads};
        hp.progress = hrec.callback();
        const auto hnsw = HnswIndex::build(data, Metric::inner_product, hp);
        hrec.check({"insert"});
        CHECK(hrec.events.at("insert").back().total == n);
        CHECK(!hnsw.build_params().progress);
        if (threads == 1) {  // deterministic on one thread only
            hp.progress = {};
            same_results(hnsw, HnswIndex::build(data, Metric::inner_product, hp), qs);
        }
        hp.progress = cancelling();
        CHECK_THROWS_WITH(HnswIndex::build(data, Metric::inner_product, hp), Catch::Contains("cancelled in insert"));
    }
}
