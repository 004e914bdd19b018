// After a warm-up query, search_into() on either index allocates nothing (per-thread scratch is reused).
// This file replaces the global operator new/delete of the sparse test program with counting versions.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/test_support.hpp"

namespace {
std::atomic<long long> allocations{0};
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace sparsedense;

TEST_CASE("sparse search allocates nothing after warm-up", "[sparse][allocation]") {
    const auto docs = testing::random_sparse_rows(2000, 500, 30, 141);
    const auto queries = testing::random_sparse_rows(20, 500, 12, 142);
    const auto exact = InvertedIndex::build(docs);
    ClusteredInvertedIndexBuildParams cp;
    cp.knn = 4;
    const auto clustered = ClusteredInvertedIndex::build(docs, cp);
    SearchResults<> out;
    ClusteredInvertedIndexSearchParams sp;
    sp.knn = 4;
    const ExactAlgorithm algorithms[] = {ExactAlgorithm::term_at_a_time, ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand,
                                         ExactAlgorithm::document_at_a_time};
    // warm-up: every query once (scratch grows to its largest size)
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        for (auto a : algorithms) exact.search_into(queries.row(q), 10, out, {a});
        clustered.search_into(queries.row(q), 10, out, sp);
    }
    // filtered: a bitset and a predicate, through the lists (fraction 0) and the scan of accepted ids (fraction 1)
    IdBitset bits(docs.rows());
    for (std::uint64_t id = 0; id < docs.rows(); id += 3) bits.set(id);
    const auto odd = [](std::uint64_t id) { return id % 2 == 1; };
    const IdFilter filters[] = {IdFilter(bits), IdFilter::predicate(odd)};
    auto filtered = [&](std::size_t q) {
        for (const auto& f : filters)
            for (double fraction : {0.0, 1.0})
                for (auto a : algorithms) exact.search_into(queries.row(q), 10, out, {a, fraction}, f);
    };
    for (std::size_t q = 0; q < queries.rows(); ++q) filtered(q);
    const long long before = allocations.load();
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        for (auto a : algorithms) exact.search_into(queries.row(q), 10, out, {a});
        clustered.search_into(queries.row(q), 10, out, sp);
        filtered(q);
    }
    REQUIRE(allocations.load() == before);
    REQUIRE(!out.empty());
}
