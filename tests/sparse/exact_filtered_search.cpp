// Exact inverted index: filtered search equals filtered brute force for every algorithm, precision and plan;
// prepare() scores exactly; the index fits the retriever shape.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

#include "sparsedense/core/retriever.hpp"
#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;

static_assert(Retriever<InvertedIndex>);
static_assert(SparseSearchable<InvertedIndex>);

namespace {

const ExactAlgorithm all_algorithms[] = {ExactAlgorithm::automatic, ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand,
                                         ExactAlgorithm::term_at_a_time, ExactAlgorithm::document_at_a_time};

/// Brute force restricted to the ids `accept` lets through.
template <class Accept>
SearchResults<> filtered_brute_force(CsrMatrixView<float> docs, SparseVectorView<float> query, std::size_t k, const Accept& accept) {
    TopKCollector<> top(k);
    for (std::size_t d = 0; d < docs.rows(); ++d) {
        if (!accept(d)) continue;
        bool overlap = false;
        const float s = sparse_merge_dot(query, docs.row(d), overlap);
        if (overlap) top.push(static_cast<std::uint32_t>(d), s);
    }
    return top.sorted();
}

/// A deterministic pseudo-random subset of about `fraction` of the ids (a multiplicative hash).
struct HashedSubset {
    std::uint64_t per_million;
    bool operator()(std::uint64_t id) const { return ((id * 2654435761u + 12345u) % 1000003u) % 1000000u < per_million; }
};

bool stored_weights_exact(ExactAlgorithm algo, WeightPrecision precision, bool scan_plan) {
    return precision == WeightPrecision::f32 || scan_plan || algo == ExactAlgorithm::maxscore || algo == ExactAlgorithm::block_max_wand;
}

}  // namespace

TEST_CASE("exact index: filtered search equals filtered brute force at every selectivity, algorithm and precision",
          "[sparse][exact][filter]") {
    const auto docs = random_sparse_rows(6000, 400, 30, 201);
    const auto queries = random_sparse_rows(12, 400, 10, 202);
    for (auto precision : {WeightPrecision::f32, WeightPrecision::f16, WeightPrecision::u8}) {
        InvertedIndexBuildParams bp;
        bp.precision = precision;
        bp.block_size = 16;
        const auto index = InvertedIndex::build(docs, bp);
        for (double selectivity : {1.0, 0.1, 0.01, 0.001}) {
            const HashedSubset subset{static_cast<std::uint64_t>(selectivity * 1e6)};
            IdBitset bits(docs.rows());
            for (std::uint64_t id = 0; id < docs.rows(); ++id)
                if (subset(id)) bits.set(id);
            REQUIRE(bits.count() > 0);
            for (int form = 0; form < 2; ++form) {
                const IdFilter filter = form == 0 ? IdFilter(bits) : IdFilter::predicate(subset);
                for (double fraction : {0.0, 1.0, InvertedIndexSearchParams{}.exact_scan_fraction}) {
                    const bool scan_plan = use_exact_scan(filter, docs.rows(), fraction);
                    for (std::size_t q = 0; q < queries.rows(); ++q) {
                        const auto query = queries.row(q);
                        const auto expected = filtered_brute_force(docs, query, 10, subset);
                        for (auto algo : all_algorithms) {
                            INFO(weight_precision_name(precision) << " selectivity " << selectivity << (form == 0 ? " bitset" : " predicate")
                                                                  << " scan fraction " << fraction << " query " << q << " "
                                                                  << exact_algorithm_name(algo));
                            InvertedIndexSearchParams sp;
                            sp.algorithm = algo;
                            sp.exact_scan_fraction = fraction;
                            const auto got = index.search(query, 10, sp, filter);
                            for (const auto& h : got) REQUIRE(subset(h.id));
                            if (stored_weights_exact(algo, precision, scan_plan))
                                sparse_test::require_same_results(got, expected, 0.0);
                            else
                                sparse_test::require_within_bound(got, expected, docs, query, index.score_error_bound(query));
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("exact index: filter edge cases (nothing accepted, short bitset, batch)", "[sparse][exact][filter]") {
    const auto docs = random_sparse_rows(1000, 200, 20, 211);
    const auto queries = random_sparse_rows(20, 200, 8, 212);
    const auto index = InvertedIndex::build(docs);
    const IdBitset none(docs.rows());
    IdBitset first_hundred(100);  // ids >= 100 lie past the bitset: rejected
    for (std::uint64_t id = 0; id < 100; ++id) first_hundred.set(id);
    const auto below_100 = [](std::uint64_t id) { return id < 100; };
    for (auto algo : all_algorithms)
        for (double fraction : {0.0, 1.0}) {
            InvertedIndexSearchParams sp;
            sp.algorithm = algo;
            sp.exact_scan_fraction = fraction;
            INFO(exact_algorithm_name(algo) << " scan fraction " << fraction);
            REQUIRE(index.search(queries.row(0), 5, sp, none).empty());
            for (std::size_t q = 0; q < queries.rows(); ++q)
                sparse_test::require_same_results(index.search(queries.row(q), 5, sp, first_hundred),
                                                  filtered_brute_force(docs, queries.row(q), 5, below_100), 0.0);
        }
    const auto batch = index.search_batch(queries, 7, {}, 2, IdFilter::predicate(below_100));
    REQUIRE(batch.size() == queries.rows());
    for (std::size_t q = 0; q < queries.rows(); ++q) REQUIRE(batch[q] == index.search(queries.row(q), 7, {}, first_hundred));
}

TEST_CASE("exact index: bad search parameters throw Error", "[sparse][exact][errors]") {
    const auto docs = random_sparse_rows(300, 100, 10, 221);
    const auto index = InvertedIndex::build(docs);
    const auto q = random_sparse_rows(1, 100, 5, 222);
    InvertedIndexSearchParams bad;
    bad.exact_scan_fraction = -0.5;
    REQUIRE_THROWS_AS(index.search(q.row(0), 5, bad), Error);
    bad.exact_scan_fraction = std::nan("");
    REQUIRE_THROWS_AS(index.search_batch(q, 5, bad), Error);
    InvertedIndexSearchParams unknown;
    unknown.algorithm = static_cast<ExactAlgorithm>(9);
    try {
        (void)index.search(q.row(0), 5, unknown);
        FAIL("an unknown algorithm was accepted");
    } catch (const Error& e) {
        REQUIRE(e.kind() == ErrorKind::invalid_argument);
        REQUIRE(std::string(e.what()).find("InvertedIndex") != std::string::npos);
    }
    REQUIRE(!index.search(q.row(0), 5).empty());
}

TEST_CASE("exact index: prepare() scores exactly, two live scorers, bad ids and queries throw", "[sparse][exact][prepare]") {
    const auto docs = random_sparse_rows(700, 150, 20, 231);
    const auto queries = random_sparse_rows(10, 150, 8, 232);
    for (auto precision : {WeightPrecision::f32, WeightPrecision::u8}) {
        InvertedIndexBuildParams bp;
        bp.precision = precision;
        const auto index = InvertedIndex::build(docs, bp);
        const auto a = index.prepare(queries.row(0));
        const auto b = index.prepare(queries.row(1));
        for (std::uint32_t d = 0; d < docs.rows(); ++d) {
            bool overlap = false;
            const float sa = sparse_merge_dot(queries.row(0), docs.row(d), overlap);
            const float sb = sparse_merge_dot(queries.row(1), docs.row(d), overlap);
            REQUIRE(a(d) == sa);  // the f32 forward index: bit-identical at every posting precision
            REQUIRE(b(d) == sb);
            REQUIRE(index.score(queries.row(0), d) == sa);
        }
        // the scores of search() results are the prepared scores (maxscore rescores exactly)
        for (const auto& h : index.search(queries.row(1), 10, {ExactAlgorithm::maxscore})) REQUIRE(b(h.id) == h.score);
        try {
            (void)a(static_cast<std::uint32_t>(docs.rows()));
            FAIL("an out-of-range id was scored");
        } catch (const Error& e) {
            REQUIRE(e.kind() == ErrorKind::out_of_range);
        }
        const std::uint32_t unsorted[] = {5, 1};
        const float values[] = {1.0f, 2.0f};
        REQUIRE_THROWS_AS(index.prepare({unsorted, values}), Error);
        const std::uint32_t too_big[] = {1, 150};
        REQUIRE_THROWS_AS(index.prepare({too_big, values}), Error);
        REQUIRE(a(3) == index.score(queries.row(0), 3));  // still usable
    }
    const InvertedIndex empty;
    REQUIRE_THROWS_AS(empty.prepare({})(0), Error);
}
