// ProgressReporter: serialized, monotonic reports that end at total; a throwing callback stops a parallel loop.
#include <catch2/catch.hpp>

#include <sparsedense/core/parallel.hpp>
#include <sparsedense/core/progress.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace sparsedense;

TEST_CASE("ProgressReporter reports monotonically to total from several threads", "[core][progress]") {
    std::vector<BuildProgress> seen;
    std::vector<std::string> stages;
    ProgressCallback cb = [&](const BuildProgress& p) {  // serialized by the reporter: no lock needed here
        seen.push_back(p);
        stages.emplace_back(p.stage);
    };
    const std::size_t n = 100000;
    ProgressReporter reporter(cb, "insert", n);
    detail::parallel_for(n, 4, 64, [&](std::size_t b, std::size_t e, std::size_t) { reporter.advance(e - b); });
    reporter.finish();
    reporter.finish();
    REQUIRE(seen.size() >= 3);
    REQUIRE(seen.size() <= 103);
    CHECK(seen.front().done == 0);
    CHECK(seen.back().done == n);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].total == n);
        CHECK(stages[i] == "insert");
        if (i > 0) CHECK(seen[i].done >= seen[i - 1].done);
    }
    CHECK(std::count_if(seen.begin(), seen.end(), [&](const BuildProgress& p) { return p.done == n; }) == 1);
}

TEST_CASE("ProgressReporter with an empty callback reports nothing and a throwing one stops the loop", "[core][progress]") {
    ProgressCallback empty;
    ProgressReporter silent(empty, "x", 10);
    silent.advance(5);
    silent.finish();  // no call, no crash

    std::size_t calls = 0;
    ProgressCallback cancel = [&](const BuildProgress& p) {
        ++calls;
        if (p.done >= 500) throw std::runtime_error("cancelled at " + std::to_string(p.done));
    };
    ProgressReporter reporter(cancel, "encode", 10000);
    std::atomic<std::size_t> processed{0};
    CHECK_THROWS_WITH(detail::parallel_for(10000, 2, 10,
                                           [&](std::size_t b, std::size_t e, std::size_t) {
                                               processed += e - b;
                                               reporter.advance(e - b);
                                           }),
                      Catch::Contains("cancelled at"));
    CHECK(calls >= 2);
    CHECK(processed.load() < 10000);
}
