// tune() for the clustered index: the chosen parameters reach the target recall on the held-out half of the queries
// (checked here independently: the index rebuilt from the returned build parameters, recall against brute force),
// the choice is the cheapest qualifying grid point, a point's conservative recall is the minimum over the points that
// visit at least as much, and bad input throws.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "sparse_bench_data.hpp"
#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/clustered_tuning.hpp"

using namespace sparsedense;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t kDocs = 1500, kQueries = 120;
#else
constexpr std::size_t kDocs = 6000, kQueries = 800;
#endif

struct Data {
    CsrMatrix<float> docs, queries;
};

const Data& data() {
    static const Data d = [] {
        bench::SpladeLikeSpec spec;
        spec.seed = 77;
        bench::SpladeLikeGenerator gen(spec);
        return Data{gen.documents(kDocs, 2), gen.queries(kQueries, 2)};
    }();
    return d;
}

/// Recall@10 of `index` with `sp` on the given query rows, against brute force.
double recall_on(const ClusteredInvertedIndex& index, const ClusteredInvertedIndexSearchParams& sp, const std::vector<std::size_t>& rows) {
    double hits = 0, total = 0;
    for (std::size_t q : rows) {
        const auto truth = brute_force_search(data().docs, data().queries.row(q), 10);
        std::set<std::uint32_t> want;
        for (const auto& h : truth) want.insert(h.id);
        for (const auto& h : index.search(data().queries.row(q), 10, sp)) hits += static_cast<double>(want.count(h.id));
        total += static_cast<double>(want.size());
    }
    return total > 0 ? hits / total : 1.0;
}

}  // namespace

TEST_CASE("clustered tuning: the chosen parameters reach the target recall on the held-out half", "[sparse][clustered][tuning]") {
    const auto& d = data();
    for (double target : {0.9, 0.97}) {
        ClusteredTuningParams tp;
        tp.threads = 2;
        const auto r = tune(d.docs, d.queries, target, tp);
        INFO("target " << target << ": lambda " << r.build.lambda << " query_cut " << r.search.query_cut << " heap_factor " << r.search.heap_factor
                       << " tuning recall " << r.tuning_recall << " held-out recall " << r.held_out_recall);
        REQUIRE(r.reached);
        REQUIRE(r.tuning_queries + r.held_out_queries == d.queries.rows());
        REQUIRE(r.held_out_rows.size() == r.held_out_queries);
        CHECK(r.tuning_recall >= target);
        CHECK(r.held_out_recall >= target - 0.01);
        // independently: the same build rebuilt, recall on the held-out rows against brute force
        const auto index = ClusteredInvertedIndex::build(d.docs, r.build);
        const double again = recall_on(index, r.search, r.held_out_rows);
        CHECK(again >= target - 0.01);
        CHECK(again == Approx(r.held_out_recall).margin(0.005));
        // the cheapest qualifying point of every build was chosen
        for (const auto& p : r.grid)
            if (p.conservative_recall >= target) CHECK(p.cost_ns >= r.cost_ns);
    }
}

TEST_CASE("clustered tuning: a point qualifies only when every point visiting at least as much agrees", "[sparse][clustered][tuning]") {
    const auto& d = data();
    ClusteredTuningParams tp;
    tp.threads = 2;
    tp.query_cuts = {6, 3, 12};  // unsorted on purpose: tune() orders the axes
    tp.heap_factors = {0.7f, 1.0f, 0.85f};
    tp.query_masses = {1.0, 0.5};
    tp.lambda_factors = {1.0, 0.7};
    const auto r = tune(d.docs, d.queries, 0.9, tp);
    REQUIRE(r.grid.size() == 2 * 3 * 2 * 3);
    auto generous_or_equal = [](const ClusteredTuningPoint& a, const ClusteredTuningPoint& b) {  // b visits at least as much as a
        return a.lambda == b.lambda && b.query_cut >= a.query_cut && b.query_mass >= a.query_mass && b.heap_factor <= a.heap_factor;
    };
    for (const auto& a : r.grid) {
        INFO("lambda " << a.lambda << " query_cut " << a.query_cut << " query_mass " << a.query_mass << " heap_factor " << a.heap_factor);
        double expected = a.recall - tp.confidence * a.std_error;
        for (const auto& b : r.grid)
            if (generous_or_equal(a, b)) expected = std::min(expected, b.recall - tp.confidence * b.std_error);
        CHECK(a.conservative_recall == Approx(expected).margin(1e-12));
    }
    std::set<std::size_t> lambdas;
    for (const auto& p : r.grid) lambdas.insert(p.lambda);
    CHECK(lambdas.size() == 2);
    CHECK(lambdas.count(r.build.lambda) == 1);
}

TEST_CASE("clustered tuning: a corpus sample scales lambda, an unreachable grid reports the best it found", "[sparse][clustered][tuning]") {
    const auto& d = data();
    ClusteredTuningParams tp;
    tp.threads = 2;
    tp.corpus_size = d.docs.rows() * 4;
    tp.query_cuts = {1};
    tp.heap_factors = {1.0f};
    tp.max_rebuilds = 0;
    tp.lambda = 40;
    tp.lambda_factors = {1.0};
    tp.query_masses = {1.0};
    const auto r = tune(d.docs, d.queries, 1.0, tp);
    CHECK_FALSE(r.reached);
    CHECK(r.grid.size() == 1);
    CHECK(r.build.lambda == 80);  // 40 x sqrt(4)
    CHECK(r.search.query_cut == 1);
}

TEST_CASE("clustered tuning: bad input throws Error", "[sparse][clustered][tuning][errors]") {
    const auto& d = data();
    CHECK_THROWS_AS(tune(d.docs, d.queries, 0.0), Error);
    CHECK_THROWS_AS(tune(d.docs, d.queries, 1.5), Error);
    CsrMatrix<float> one(d.queries.cols);
    one.push_back(d.queries.row(0));
    CHECK_THROWS_AS(tune(d.docs, one, 0.9), Error);
    ClusteredTuningParams tp;
    tp.corpus_size = 10;
    CHECK_THROWS_AS(tune(d.docs, d.queries, 0.9, tp), Error);
    ClusteredTuningParams empty_grid;
    empty_grid.query_cuts.clear();
    CHECK_THROWS_AS(tune(d.docs, d.queries, 0.9, empty_grid), Error);
    ClusteredTuningParams no_lambda;
    no_lambda.lambda_factors.clear();
    CHECK_THROWS_AS(tune(d.docs, d.queries, 0.9, no_lambda), Error);
    ClusteredTuningParams bad_factor;
    bad_factor.lambda_factors = {1.0, -0.5};
    CHECK_THROWS_WITH(tune(d.docs, d.queries, 0.9, bad_factor), Catch::Contains("-0.5"));
    ClusteredTuningParams bad_confidence;
    bad_confidence.confidence = -1.0;
    CHECK_THROWS_AS(tune(d.docs, d.queries, 0.9, bad_confidence), Error);
}

TEST_CASE("clustered index: query_mass visits the heaviest terms holding that share of the query weight", "[sparse][clustered]") {
    // 8 terms, every document holds all of them: every query term has a non-empty list
    CsrMatrix<float> docs(8);
    for (std::uint32_t d = 0; d < 50; ++d) {
        const std::uint32_t ids[] = {0, 1, 2, 3, 4, 5, 6, 7};
        float values[8];
        for (std::uint32_t t = 0; t < 8; ++t) values[t] = 0.1f + static_cast<float>((d * 7 + t * 3) % 11);
        docs.push_back(SparseVectorView<float>{ids, values});
    }
    const auto index = ClusteredInvertedIndex::build(docs, {.lambda = 100});
    // weights 8, 4, 2, 1, 0.5, 0.25 (total 15.75): the heaviest holding >= 50% is 1 term, >= 75% two, >= 85% three, >= 90% four
    const std::uint32_t ids[] = {0, 2, 3, 5, 6, 7};
    const float values[] = {0.5f, 8.0f, 1.0f, 4.0f, 0.25f, 2.0f};
    const SparseVectorView<float> query{ids, values};
    auto lists_visited = [&](double mass, std::size_t cut) {
        ClusteredSearchStatistics stats;
        ClusteredInvertedIndexSearchParams sp;
        sp.query_cut = cut;
        sp.query_mass = mass;
        sp.statistics = &stats;
        (void)index.search(query, 5, sp);
        return stats.lists;
    };
    CHECK(lists_visited(1.0, 6) == 6);
    CHECK(lists_visited(0.5, 6) == 1);
    CHECK(lists_visited(0.75, 6) == 2);
    CHECK(lists_visited(0.85, 6) == 3);
    CHECK(lists_visited(0.9, 6) == 4);
    CHECK(lists_visited(0.99, 6) == 6);
    CHECK(lists_visited(0.99, 4) == 4);  // query_cut stays the cap
    // every list visited and heap_factor 0: exact, as with a fixed cut
    ClusteredInvertedIndexSearchParams all;
    all.query_cut = 6;
    all.query_mass = 0.999;
    all.heap_factor = 0.0f;
    const auto got = index.search(query, 5, all);
    const auto want = index.search_exact(query, 5);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].id == want[i].id);
    for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
        ClusteredInvertedIndexSearchParams sp;
        sp.query_mass = bad;
        CHECK_THROWS_AS(index.search(query, 5, sp), Error);
    }
    CHECK(index.search(query, 5).size() == 5);  // still usable
}
