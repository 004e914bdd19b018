#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "sparsedense/core/top_k_collector.hpp"

using sparsedense::RanksBefore;
using sparsedense::SearchResult;
using sparsedense::TopKCollector;

TEST_CASE("top-k collector equals std::partial_sort, ties broken by smaller id", "[core][topk]") {
    std::mt19937 rng(7);
    for (std::size_t n : {0u, 1u, 5u, 10u, 11u, 100u, 1000u}) {
        for (std::size_t k : {1u, 3u, 10u, 64u}) {
            std::vector<SearchResult<>> hits;
            std::uniform_int_distribution<int> coarse(0, 9);  // few distinct scores: many ties
            for (std::size_t i = 0; i < n; ++i) hits.push_back({static_cast<std::uint32_t>(i), static_cast<float>(coarse(rng))});
            std::shuffle(hits.begin(), hits.end(), rng);

            TopKCollector<> top(k);
            for (const auto& h : hits) top.push(h.id, h.score);

            auto expected = hits;
            const std::size_t m = std::min(k, n);
            std::partial_sort(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(m), expected.end(), RanksBefore{});
            expected.resize(m);
            CAPTURE(n, k);
            REQUIRE(top.sorted() == expected);
            const auto finalized = top.finalize();
            REQUIRE(std::vector<SearchResult<>>(finalized.begin(), finalized.end()) == expected);
        }
    }
}

TEST_CASE("top-k collector threshold and would_enter", "[core][topk]") {
    TopKCollector<> top(3);
    REQUIRE(top.would_enter(-1e30f));
    top.push(1, 5.0f);
    top.push(2, 3.0f);
    REQUIRE_FALSE(top.full());
    top.push(3, 4.0f);
    REQUIRE(top.full());
    REQUIRE(top.threshold() == 3.0f);
    REQUIRE_FALSE(top.would_enter(2.5f));
    REQUIRE(top.would_enter(3.5f));
    REQUIRE_FALSE(top.push(4, 2.0f));
    REQUIRE(top.push(5, 3.5f));
    REQUIRE(top.threshold() == 3.5f);
    // equal score, smaller id ranks before: replaces the kept (id 5, 3.5)
    REQUIRE(top.push(0, 3.5f));
    REQUIRE(top.sorted().back().id == 0);
    top.clear();
    REQUIRE(top.empty());
}

TEST_CASE("top-k collector initial threshold drops low hits", "[core][topk]") {
    TopKCollector<> top(5, 1.0f);
    REQUIRE_FALSE(top.push(1, 0.5f));
    REQUIRE(top.push(2, 1.5f));
    REQUIRE(top.size() == 1);
}

TEST_CASE("top-k collector rejects k = 0", "[core][topk][validation]") {
    REQUIRE_THROWS_WITH(TopKCollector<>(0), Catch::Contains("k > 0"));
    TopKCollector<> top(1);
    REQUIRE_THROWS_AS(top.reset(0), sparsedense::Error);
}

TEST_CASE("top-k collector with k = SIZE_MAX keeps every hit without reserving k", "[core][topk][errors]") {
    TopKCollector<> top(SIZE_MAX);
    CHECK(top.k() == SIZE_MAX);
    for (std::uint32_t i = 0; i < 10000; ++i) top.push(i, static_cast<float>(i % 97));
    CHECK(top.size() == 10000);
    CHECK_FALSE(top.full());
    const auto best = top.sorted();
    REQUIRE(best.size() == 10000);
    CHECK(best.front().score == 96.0f);
    CHECK(std::is_sorted(best.begin(), best.end(), RanksBefore{}));
    top.reset(SIZE_MAX - 1);
    CHECK(top.empty());
    CHECK_THROWS_AS(TopKCollector<>(0), sparsedense::Error);
}
