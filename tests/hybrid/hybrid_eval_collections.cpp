// The real check of issue 5: BM25 through the exact inverted index, dense through the flat index, and every fusion
// method on BEIR SciFact (300 test queries, USE-Lite vectors) and Cranfield (BM25 only: no vectors shipped).
// Skips when ../shared/data is absent. This is what the hybrid_eval program prints (it calls the same function).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "hybrid_evaluation.hpp"
#include "sparsedense/core/retriever.hpp"
#include "support/test_support.hpp"

using namespace sparsedense;

#if defined(__SANITIZE_ADDRESS__)
#define SPARSEDENSE_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARSEDENSE_TEST_UNDER_ASAN 1
#endif
#endif

namespace {
eval::HybridEvaluationOptions options_for(const std::string& corpus_path) {
    eval::HybridEvaluationOptions opt;
    opt.collection = std::filesystem::path(corpus_path).parent_path().string();
    opt.threads = 2;
#if defined(SPARSEDENSE_TEST_UNDER_ASAN)
    opt.alphas = {0.0, 0.5, 0.8, 0.9, 1.0};  // the sweep is the slow part under AddressSanitizer
#endif
    return opt;
}
}  // namespace

static_assert(PreparedScoring<InvertedIndex> && PreparedScoring<FlatIndex>);

TEST_CASE("SciFact: BM25 matches Pyserini, flat dense equals brute force, best fusion beats both", "[hybrid][eval][data]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(corpus, "scifact/corpus.jsonl");
    SPARSEDENSE_REQUIRE_SHARED_DATA(doc_vectors, "scifact/corpus.use-lite.fvecs");
    auto opt = options_for(corpus);
    const std::filesystem::path dir(opt.collection);
    opt.doc_vectors = doc_vectors;
    opt.doc_ids = (dir / "corpus.use-lite.ids.txt").string();
    opt.query_vectors = (dir / "queries.use-lite.fvecs").string();
    opt.query_ids = (dir / "queries.use-lite.ids.txt").string();
    const auto report = eval::run_hybrid_evaluation(opt);

    REQUIRE(report.documents == 5183);
    REQUIRE(report.queries == 300);
    const auto* bm25 = report.find("bm25");
    REQUIRE(bm25 != nullptr);
    REQUIRE(bm25->queries == 300);
    // Pyserini BM25 "flat" on BEIR SciFact: nDCG@10 = 0.679 (the shared Python baseline gets 0.677 on this copy).
    REQUIRE(std::abs(bm25->ndcg_at_10 - 0.679) <= 0.01);
    REQUIRE(bm25->recall_at_100 > 0.9);

    const auto* dense = report.find("dense");
    REQUIRE(dense != nullptr);
    REQUIRE(report.dense_rank_mismatches == 0);
    REQUIRE(report.dense_max_score_error < 1e-5);
    REQUIRE(dense->ndcg_at_10 == Approx(report.dense_reference_ndcg_at_10).margin(1e-12));
    REQUIRE(dense->recall_at_100 == Approx(report.dense_reference_recall_at_100).margin(1e-12));
    REQUIRE(std::abs(dense->ndcg_at_10 - 0.216) <= 0.01);  // USE-Lite alone (numpy check in PROVENANCE.txt)

    for (const char* m : {"convex-none", "convex-min_max", "convex-centered_min_max", "convex-z_score", "convex-dbsf",
                          "convex-min_max-listmin", "convex-min_max-zero", "rrf", "rrf-weighted"}) {
        CAPTURE(m);
        const auto* b = report.best(m);
        REQUIRE(b != nullptr);
        REQUIRE(b->queries == 300);
        REQUIRE(b->ndcg_at_10 >= 0.0);
        REQUIRE(b->ndcg_at_10 <= 1.0);
    }
    // alpha = 1 (sparse only) with exact re-scoring reproduces BM25's top 10 ranking metric
    for (const auto& r : report.results)
        if (r.method == "convex-min_max" && r.alpha == 1.0) REQUIRE(r.ndcg_at_10 == Approx(bm25->ndcg_at_10).margin(1e-9));
    const auto* best = report.best_fusion();
    REQUIRE(best != nullptr);
    INFO("best fusion " << best->method << " " << best->params << " nDCG@10 " << best->ndcg_at_10);
    REQUIRE(best->ndcg_at_10 > std::max(bm25->ndcg_at_10, dense->ndcg_at_10));
}

TEST_CASE("Cranfield: BM25 matches the shared baseline", "[hybrid][eval][data]") {
    SPARSEDENSE_REQUIRE_SHARED_DATA(corpus, "cranfield/corpus.jsonl");
    auto opt = options_for(corpus);
    const auto run_dir = std::filesystem::temp_directory_path() / ("sparsedense_hybrid_runs_" + std::to_string(::getpid()));
    opt.run_dir = run_dir.string();
    const auto report = eval::run_hybrid_evaluation(opt);
    REQUIRE(report.documents == 1400);
    REQUIRE(report.queries == 225);
    REQUIRE_FALSE(report.has_dense);
    const auto* bm25 = report.find("bm25");
    REQUIRE(bm25 != nullptr);
    // ../shared/tools/bm25_baseline.py (same analysis and BM25) gets 0.352.
    REQUIRE(std::abs(bm25->ndcg_at_10 - 0.352) <= 0.01);
    REQUIRE(report.results.size() == 1);  // no second retriever, no fusion
    // the written TREC run scores the same when read back
    const auto run = eval::read_trec_run((run_dir / "bm25.trec").string());
    const auto qrels = eval::read_beir_qrels((std::filesystem::path(opt.collection) / "qrels.tsv").string());
    REQUIRE(run.size() == 225);
    REQUIRE(eval::mean_ndcg_at_k(qrels, run, 10) == Approx(bm25->ndcg_at_10).margin(1e-9));
    REQUIRE(eval::mean_recall_at_k(qrels, run, 100) == Approx(bm25->recall_at_100).margin(1e-9));
    std::error_code ec;
    std::filesystem::remove_all(run_dir, ec);
}

TEST_CASE("hybrid evaluation rejects incomplete vector options and bad folders", "[hybrid][eval]") {
    eval::HybridEvaluationOptions opt;
    opt.collection = "/nonexistent/folder";
    REQUIRE_THROWS_AS(eval::run_hybrid_evaluation(opt), Error);
    opt.doc_vectors = "x.fvecs";
    REQUIRE_THROWS_AS(eval::run_hybrid_evaluation(opt), Error);
    opt.doc_vectors.clear();
    opt.k0 = 10;
    REQUIRE_THROWS_AS(eval::run_hybrid_evaluation(opt), Error);
}
