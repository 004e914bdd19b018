#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "sparsedense/eval/metrics.hpp"

using namespace sparsedense::eval;

namespace {
Ranking ranking_of(std::initializer_list<const char*> ids) {
    Ranking r;
    double s = 100.0;
    for (const char* id : ids) r.push_back({id, s--});
    return r;
}
}  // namespace

TEST_CASE("metrics on a hand-computed graded example", "[eval][metrics]") {
    const Judgments j{{"d1", 2}, {"d2", 1}, {"d3", 0}, {"d4", 1}};
    const Ranking r = ranking_of({"d3", "d1", "d5", "d2"});
    // DCG@3 = 2/log2(3); ideal grades 2,1,1 -> 2 + 1/log2(3) + 1/2.
    REQUIRE(ndcg_at_k(r, j, 3) == Approx(0.4030302838010049).epsilon(1e-12));
    // DCG@4 adds 1/log2(5); the ideal DCG@4 is the same (only three relevant documents).
    REQUIRE(ndcg_at_k(r, j, 4) == Approx(0.5405857679450102).epsilon(1e-12));
    REQUIRE(ndcg_at_k(r, j, 1) == 0.0);
    REQUIRE(recall_at_k(r, j, 3) == Approx(1.0 / 3.0));
    REQUIRE(recall_at_k(r, j, 4) == Approx(2.0 / 3.0));
    REQUIRE(recall_at_k(r, j, 100) == Approx(2.0 / 3.0));
    REQUIRE(reciprocal_rank_at_k(r, j, 1) == 0.0);
    REQUIRE(reciprocal_rank_at_k(r, j, 3) == 0.5);
    // AP = (1/2 + 2/4) / 3 relevant.
    REQUIRE(average_precision(r, j) == Approx(1.0 / 3.0));
    REQUIRE_THROWS_AS(ndcg_at_k(r, j, 0), sparsedense::Error);
}

TEST_CASE("perfect and empty rankings", "[eval][metrics]") {
    const Judgments j{{"a", 3}, {"b", 1}};
    REQUIRE(ndcg_at_k(ranking_of({"a", "b"}), j, 10) == Approx(1.0));
    REQUIRE(ndcg_at_k(ranking_of({"b", "a"}), j, 10) < 1.0);
    REQUIRE(ndcg_at_k({}, j, 10) == 0.0);
    REQUIRE(average_precision(ranking_of({"a", "b"}), j) == Approx(1.0));
    REQUIRE(ndcg_at_k(ranking_of({"a"}), Judgments{{"a", 0}}, 10) == 0.0);  // nothing relevant
}

TEST_CASE("evaluate averages over judged queries, missing run entries score 0, unjudged queries are ignored",
          "[eval][metrics]") {
    Qrels qrels;
    qrels["q1"] = {{"a", 1}};
    qrels["q2"] = {{"b", 1}};
    qrels["q3"] = {{"c", 0}};  // no relevant document: not evaluated
    Run run;
    run["q1"] = ranking_of({"a"});
    run["q9"] = ranking_of({"z"});  // not judged
    const auto e = evaluate(qrels, run, Measure::ndcg, 10);
    REQUIRE(e.queries == 2);
    REQUIRE(e.mean == Approx(0.5));
    REQUIRE(e.per_query.at("q1") == Approx(1.0));
    REQUIRE(e.per_query.at("q2") == 0.0);
    REQUIRE(mrr_at_k(qrels, run, 10) == Approx(0.5));
    REQUIRE(mean_recall_at_k(qrels, run, 10) == Approx(0.5));
    REQUIRE(mean_average_precision(qrels, run) == Approx(0.5));
}

TEST_CASE("neighbor recall against ground truth", "[eval][metrics]") {
    const sparsedense::SearchResults<> found{{5, 0.9f}, {2, 0.8f}, {7, 0.5f}, {1, 0.1f}};
    const std::vector<std::int32_t> truth{2, 5, 9, 7, 3};
    REQUIRE(neighbor_recall(found, std::span<const std::int32_t>(truth), 2) == Approx(1.0));
    REQUIRE(neighbor_recall(found, std::span<const std::int32_t>(truth), 4) == Approx(0.75));
    REQUIRE_THROWS_AS(neighbor_recall(found, std::span<const std::int32_t>(truth), 6), sparsedense::Error);
    const std::vector<sparsedense::SearchResults<>> all{found, {{9, 1.0f}}};
    REQUIRE(mean_neighbor_recall(all, std::span<const std::int32_t>(truth.data(), 4), 2, 1) == Approx(0.5));
}
