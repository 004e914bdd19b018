// hybrid_eval -- BM25, dense and every fusion method on a BEIR-layout collection, scored with nDCG@10 and
// Recall@100. A thin command line over sparsedense::eval::run_hybrid_evaluation (bench/hybrid_evaluation.hpp).
//
//   hybrid_eval --collection DIR [--doc-vectors F.fvecs --doc-ids F.txt --query-vectors F.fvecs --query-ids F.txt]
//               [--metric cosine|ip|l2] [--k0 100] [--alphas 0,0.1,...] [--rrf-k 60] [--k1 0.9] [--b 0.4]
//               [--threads 0] [--qrels F.tsv] [--tune-qrels F.tsv] [--write-runs DIR] [--csv] [--sweep]
//
// DIR holds corpus.jsonl, queries.jsonl and qrels.tsv (or qrels/test.tsv); only queries with judgments are run.
// Default output: a table of the single retrievers and, per fusion method, its best alpha; --sweep adds every
// alpha. --csv prints every configuration as `method,params,ndcg@10,recall@100,queries`. --qrels evaluates with
// other judgments than the folder's; --tune-qrels (e.g. SciFact's qrels_train.tsv) also picks each method's alpha
// on those queries and reports the evaluated queries' scores at that alpha -- the honest, non-oracle number.
// --write-runs DIR writes DIR/<method>.trec, the TREC run (top 100) of each method's best configuration.
#include <cmath>
#include <cstdio>
#include <string>

#include "bench_support.hpp"
#include "command_line.hpp"
#include "hybrid_evaluation.hpp"

using namespace sparsedense;

namespace {

struct Options {
    eval::HybridEvaluationOptions eval;
    std::string tune_qrels;
    bool csv = false, sweep = false;
};

Options parse_options(int argc, char** argv) {
    Options o;
    eval::HybridEvaluationOptions& e = o.eval;
    CLI::App app("BM25, dense and every fusion method on a BEIR-layout collection, scored with nDCG@10 and Recall@100.", "hybrid_eval");
    app.add_option("--collection", e.collection, "BEIR folder: corpus.jsonl, queries.jsonl, qrels.tsv (or qrels/test.tsv)")
        ->required()->check(CLI::ExistingDirectory);
    app.add_option("--doc-vectors", e.doc_vectors, "document embeddings (.fvecs; all four vector flags or none)")->check(CLI::ExistingFile);
    app.add_option("--doc-ids", e.doc_ids, "one document id per line, row-aligned with --doc-vectors")->check(CLI::ExistingFile);
    app.add_option("--query-vectors", e.query_vectors, "query embeddings (.fvecs)")->check(CLI::ExistingFile);
    app.add_option("--query-ids", e.query_ids, "one query id per line")->check(CLI::ExistingFile);
    app.add_option_function<std::string>("--metric", [&e](const std::string& m) { e.dense_metric = parse_metric(m); }, "dense metric: cosine, ip or l2 (default cosine)")
        ->check(bench::cli::parsed_by(parse_metric, "METRIC"));
    app.add_option("--k0", e.k0, "candidate depth of each retriever")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--alphas", e.alphas, "fusion weights swept (comma-separated)")->delimiter(',')->capture_default_str()->check(bench::cli::unit_interval);
    app.add_option("--rrf-k", e.rrf_k, "reciprocal rank fusion constant")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--k1", e.bm25.k1, "BM25 k1")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--b", e.bm25.b, "BM25 b")->capture_default_str()->check(bench::cli::unit_interval);
    app.add_option("--threads", e.threads, "threads (0 = all hardware threads)")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--qrels", e.qrels, "judgments to evaluate with instead of the folder's")->check(CLI::ExistingFile);
    app.add_option("--tune-qrels", o.tune_qrels, "also pick each method's alpha on these judgments (e.g. qrels_train.tsv)")->check(CLI::ExistingFile);
    app.add_option("--write-runs", e.run_dir, "write DIR/<method>.trec, the TREC run of each method's best configuration");
    app.add_flag("--csv", o.csv, "every configuration as method,params,ndcg@10,recall@100,queries");
    app.add_flag("--sweep", o.sweep, "the table also lists every alpha");
    bench::cli::parse(app, argc, argv);
    return o;
}

void print_csv(const eval::HybridEvaluationReport& report) {
    std::printf("method,params,ndcg@10,recall@100,queries\n");
    for (const auto& r : report.results)
        std::printf("%s,\"%s\",%.4f,%.4f,%zu\n", r.method.c_str(), r.params.c_str(), r.ndcg_at_10, r.recall_at_100, r.queries);
}

void print_table(const Options& o, const eval::HybridEvaluationReport& report) {
    const auto& opt = o.eval;
    std::printf("collection %s: %zu documents, %zu judged queries, %zu terms\n", opt.collection.c_str(), report.documents, report.queries,
                report.vocabulary);
    if (report.has_dense && opt.check_dense_against_brute_force)
        std::printf("dense flat vs brute force: %zu rank mismatches, max score error %.2e, reference nDCG@10 %.4f Recall@100 %.4f\n",
                    report.dense_rank_mismatches, report.dense_max_score_error, report.dense_reference_ndcg_at_10,
                    report.dense_reference_recall_at_100);
    std::printf("\n%-24s  %-40s  %8s  %10s  %7s\n", "method", "params (best alpha)", "nDCG@10", "Recall@100", "queries");
    for (const auto& m : report.methods()) {
        const auto* b = report.best(m);
        std::printf("%-24s  %-40s  %8.4f  %10.4f  %7zu\n", m.c_str(), b->params.c_str(), b->ndcg_at_10, b->recall_at_100, b->queries);
    }
    if (o.sweep) {
        std::printf("\nall configurations:\n");
        for (const auto& r : report.results)
            std::printf("%-24s  %-40s  %8.4f  %10.4f\n", r.method.c_str(), r.params.c_str(), r.ndcg_at_10, r.recall_at_100);
    }
}

/// --tune-qrels: each method's alpha picked on the tuning judgments, scored on the evaluated queries.
void print_tuned(const Options& o, const eval::HybridEvaluationReport& report) {
    auto tune_opt = o.eval;
    tune_opt.qrels = o.tune_qrels;
    tune_opt.check_dense_against_brute_force = false;
    tune_opt.run_dir.clear();
    const auto tune = eval::run_hybrid_evaluation(tune_opt);
    std::printf("\nparameters tuned on %s (%zu queries), scored on the evaluated queries:\n", tune_opt.qrels.c_str(), tune.queries);
    std::printf("%-24s  %-40s  %12s  %8s  %10s\n", "method", "params (tuned)", "tune nDCG@10", "nDCG@10", "Recall@100");
    for (const auto& m : report.methods()) {
        const auto* t = tune.best(m);
        if (t == nullptr) continue;
        for (const auto& r : report.results)
            if (r.method == m && r.params == t->params)
                std::printf("%-24s  %-40s  %12.4f  %8.4f  %10.4f\n", m.c_str(), r.params.c_str(), t->ndcg_at_10, r.ndcg_at_10, r.recall_at_100);
    }
}

void print_best_fusion(const eval::HybridEvaluationReport& report) {
    const auto* f = report.best_fusion();
    if (!f) return;
    const auto* bm25 = report.find("bm25");
    const auto* dense = report.find("dense");
    const double best_single = std::max(bm25->ndcg_at_10, dense ? dense->ndcg_at_10 : 0.0);
    std::printf("\nbest fusion: %s %s nDCG@10 %.4f (best single retriever %.4f, %+.4f)\n", f->method.c_str(), f->params.c_str(), f->ndcg_at_10,
                best_single, f->ndcg_at_10 - best_single);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    try {
        const bench::Timer timer;
        const auto report = eval::run_hybrid_evaluation(o.eval);
        if (o.csv) {
            print_csv(report);
            return 0;
        }
        print_table(o, report);
        if (!o.tune_qrels.empty()) print_tuned(o, report);
        print_best_fusion(report);
        std::printf("elapsed %.2f s\n", timer.seconds());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid_eval: %s\n", e.what());
        return 1;
    }
    return 0;
}
