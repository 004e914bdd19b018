// Exact inverted index: every algorithm and precision against brute force, bad input, real data.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "sparsedense/sparse/brute_force.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "support/test_support.hpp"
#include "sparse/sparse_test_support.hpp"

using namespace sparsedense;
using sparsedense::testing::random_sparse_rows;

namespace {

const ExactAlgorithm all_algorithms[] = {ExactAlgorithm::automatic, ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand,
                                         ExactAlgorithm::term_at_a_time, ExactAlgorithm::document_at_a_time};

}  // namespace

TEST_CASE("exact index: f32 results equal brute force for every algorithm", "[sparse][exact]") {
    const auto docs = random_sparse_rows(3000, 500, 40, 11);
    const auto queries = random_sparse_rows(60, 500, 12, 12);
    for (std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
        InvertedIndexBuildParams params;
        params.block_size = block;
        params.threads = 2;
        const auto index = InvertedIndex::build(docs, params);
        REQUIRE(index.size() == 3000);
        REQUIRE(index.dimension() == 500);
        for (std::size_t q = 0; q < queries.rows(); ++q) {
            for (std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{100}}) {
                const auto expected = brute_force_search(docs, queries.row(q), k);
                for (auto algo : all_algorithms) {
                    INFO("block " << block << " query " << q << " k " << k << " algorithm " << exact_algorithm_name(algo));
                    const auto got = index.search(queries.row(q), k, {algo});
                    sparse_test::require_same_results(got, expected, 0.0);
                }
            }
        }
    }
}

TEST_CASE("exact index: ties are broken by smaller doc id (duplicate documents)", "[sparse][exact]") {
    auto base = random_sparse_rows(200, 100, 10, 3);
    CsrMatrix<float> docs(100);
    for (int copy = 0; copy < 3; ++copy)
        for (std::size_t i = 0; i < base.rows(); ++i) docs.push_back(base.row(i));
    const auto index = InvertedIndex::build(docs);
    const auto queries = random_sparse_rows(20, 100, 6, 4);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        const auto expected = brute_force_search(docs, queries.row(q), 25);
        for (auto algo : all_algorithms) {
            INFO("algorithm " << exact_algorithm_name(algo));
            sparse_test::require_same_results(index.search(queries.row(q), 25, {algo}), expected, 0.0);
        }
    }
}

TEST_CASE("exact index: negative weights and zero query weights", "[sparse][exact]") {
    auto docs = random_sparse_rows(1500, 300, 20, 21);
    std::mt19937 rng(5);
    for (auto& v : docs.values) v = (rng() % 4 == 0) ? -v : v;
    auto queries = random_sparse_rows(30, 300, 10, 22);
    for (std::size_t i = 0; i < queries.values.size(); ++i) {
        if (i % 5 == 0) queries.values[i] = -queries.values[i];
        if (i % 11 == 0) queries.values[i] = 0.0f;
    }
    InvertedIndexBuildParams params;
    params.block_size = 16;
    const auto index = InvertedIndex::build(docs, params);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        const auto expected = brute_force_search(docs, queries.row(q), 10);
        for (auto algo : all_algorithms) {
            INFO("query " << q << " algorithm " << exact_algorithm_name(algo));
            sparse_test::require_same_results(index.search(queries.row(q), 10, {algo}), expected, 0.0);
        }
    }
}

TEST_CASE("exact index: f16 and u8 postings stay within the documented bound", "[sparse][exact]") {
    const auto docs = random_sparse_rows(2000, 400, 30, 31);
    const auto queries = random_sparse_rows(40, 400, 10, 32);
    for (auto precision : {WeightPrecision::f16, WeightPrecision::u8}) {
        InvertedIndexBuildParams params;
        params.precision = precision;
        const auto index = InvertedIndex::build(docs, params);
        for (std::size_t q = 0; q < queries.rows(); ++q) {
            const auto query = queries.row(q);
            const auto expected = brute_force_search(docs, query, 10);
            const double bound = index.score_error_bound(query);
            REQUIRE(bound > 0.0);
            for (auto algo : all_algorithms) {
                INFO(weight_precision_name(precision) << " query " << q << " algorithm " << exact_algorithm_name(algo));
                const auto got = index.search(query, 10, {algo});
                if (algo == ExactAlgorithm::term_at_a_time || algo == ExactAlgorithm::document_at_a_time || algo == ExactAlgorithm::automatic) {
                    sparse_test::require_within_bound(got, expected, docs, query, bound);
                } else {
                    // pruned algorithms rescore from the f32 forward index: exact at any precision
                    sparse_test::require_same_results(got, expected, 0.0);
                }
            }
        }
    }
}

TEST_CASE("exact index: score() is the exact inner product, batch equals single", "[sparse][exact]") {
    const auto docs = random_sparse_rows(800, 200, 25, 41);
    const auto queries = random_sparse_rows(50, 200, 8, 42);
    const auto index = InvertedIndex::build(docs);
    for (std::size_t q = 0; q < 10; ++q)
        for (std::uint32_t d = 0; d < 800; d += 37) {
            bool overlap = false;
            REQUIRE(index.score(queries.row(q), d) == sparse_merge_dot(queries.row(q), docs.row(d), overlap));
        }
    const auto batch = index.search_batch(queries, 7, {}, 2);
    REQUIRE(batch.size() == queries.rows());
    for (std::size_t q = 0; q < queries.rows(); ++q) REQUIRE(batch[q] == index.search(queries.row(q), 7));
}

TEST_CASE("exact index: fewer matches than k, empty query, empty index", "[sparse][exact]") {
    CsrMatrix<float> docs(10);
    const std::uint32_t a[] = {1, 3};
    const float av[] = {1.0f, 2.0f};
    const std::uint32_t b[] = {5};
    const float bv[] = {1.0f};
    docs.push_back({a, av});
    docs.push_back({b, bv});
    docs.push_back({});
    const auto index = InvertedIndex::build(docs);
    const std::uint32_t qi[] = {3, 7};
    const float qv[] = {0.5f, 1.0f};
    for (auto algo : all_algorithms) {
        const auto r = index.search({qi, qv}, 10, {algo});
        REQUIRE(r.size() == 1);
        REQUIRE(r[0].id == 0);
        REQUIRE(r[0].score == Approx(1.0f));
        REQUIRE(index.search({}, 10, {algo}).empty());
    }
    const auto empty = InvertedIndex::build(CsrMatrix<float>(10));
    REQUIRE(empty.size() == 0);
    REQUIRE(empty.search({qi, qv}, 3).empty());
}

TEST_CASE("exact index: bad input throws Error and leaves the index usable", "[sparse][exact][errors]") {
    const auto docs = random_sparse_rows(300, 100, 10, 51);
    const auto index = InvertedIndex::build(docs);
    const std::uint32_t good_ids[] = {1, 5, 9};
    const float good_values[] = {0.5f, 1.0f, 2.0f};
    const SparseVectorView<float> good{good_ids, good_values};
    const auto before = index.search(good, 5);

    sparse_test::require_bad_queries_rejected([&](SparseVectorView<float> q, std::size_t k) { (void)index.search(q, k); }, 100);
    const std::uint32_t unsorted[] = {5, 1, 9};
    REQUIRE_THROWS_AS(index.score(good, 300), Error);
    CsrMatrix<float> wrong_dim(50);
    wrong_dim.push_back(good);
    REQUIRE_THROWS_AS(index.search_batch(wrong_dim, 5), Error);
    try {
        (void)index.search({unsorted, good_values}, 5);
    } catch (const Error& e) {
        REQUIRE(e.kind() == ErrorKind::invalid_data);
    }
    // bad corpus
    CsrMatrix<float> bad(10);
    bad.push_back({unsorted, good_values});
    REQUIRE_THROWS_AS(InvertedIndex::build(bad), Error);
    InvertedIndexBuildParams zero_block;
    zero_block.block_size = 0;
    REQUIRE_THROWS_AS(InvertedIndex::build(docs, zero_block), Error);

    REQUIRE(index.search(good, 5) == before);
}

TEST_CASE("exact index: real SPLADE vectors (splade-beir) match the ground truth", "[sparse][exact][data]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(corpus_path, "splade-beir/corpus.csr");
    SPARSEDENSE_REQUIRE_SHARED_DATA(queries_path, "splade-beir/queries.csr");
    const auto corpus = sparse_test::read_csr(corpus_path);
    const auto queries = sparse_test::read_csr(queries_path);
    const auto index = InvertedIndex::build(corpus);
    REQUIRE(index.size() == corpus.rows());
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const std::size_t nq = 10;
#else
    const std::size_t nq = 100;
#endif
    for (std::size_t q = 0; q < nq; ++q) {
        const auto query = queries.row(q * 7);
        const auto expected = brute_force_search(corpus, query, 10);
        for (auto algo : {ExactAlgorithm::maxscore, ExactAlgorithm::block_max_wand, ExactAlgorithm::term_at_a_time}) {
            INFO("query " << q * 7 << " algorithm " << exact_algorithm_name(algo));
            sparse_test::require_same_results(index.search(query, 10, {algo}), expected, 0.0);
        }
    }
}
