#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sparsedense/core/parallel.hpp"

using sparsedense::detail::parallel_for;

TEST_CASE("parallel_for covers every item exactly once under both schedules", "[core][parallel]") {
    for (std::size_t n : {0u, 1u, 7u, 1000u}) {
        for (std::size_t threads : {0u, 1u, 2u, 5u}) {
            std::vector<std::atomic<int>> seen_static(n), seen_dynamic(n);
            std::vector<std::size_t> slice_begin(std::max<std::size_t>(threads, 8), SIZE_MAX);
            parallel_for(n, threads, [&](std::size_t b, std::size_t e, std::size_t slice) {
                slice_begin[slice] = b;
                for (std::size_t i = b; i < e; ++i) seen_static[i]++;
            });
            std::atomic<std::size_t> largest_chunk{0};  // (Catch2's REQUIRE is not thread-safe: checked after joining)
            parallel_for(n, threads, 3, [&](std::size_t b, std::size_t e, std::size_t) {
                for (std::size_t seen = largest_chunk.load(); e - b > seen && !largest_chunk.compare_exchange_weak(seen, e - b);) {
                }
                for (std::size_t i = b; i < e; ++i) seen_dynamic[i]++;
            });
            CAPTURE(n, threads);
            REQUIRE(largest_chunk.load() <= 3);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(seen_static[i] == 1);
                REQUIRE(seen_dynamic[i] == 1);
            }
            // static slices are contiguous and in order: slice t starts where slice t - 1 ended
            for (std::size_t t = 1; t < slice_begin.size() && slice_begin[t] != SIZE_MAX; ++t) REQUIRE(slice_begin[t] >= slice_begin[t - 1]);
        }
    }
}

TEST_CASE("parallel_for rethrows a worker's exception after joining", "[core][parallel]") {
    REQUIRE_THROWS_WITH(parallel_for(100, 2, [](std::size_t b, std::size_t, std::size_t) {
                            if (b > 0) throw std::runtime_error("worker failed");
                        }),
                        "worker failed");
    std::atomic<int> after{0};
    REQUIRE_THROWS_AS(parallel_for(1000, 2, 1,
                                   [&](std::size_t b, std::size_t, std::size_t) {
                                       if (b == 10) throw std::runtime_error("chunk failed");
                                       after++;
                                   }),
                      std::runtime_error);
    REQUIRE(after < 1000);  // hand-out stopped early
}
