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
#include "hybrid_evaluation.hpp"

using namespace sparsedense;

int main(int argc, char** argv) {
    const std::string usage =
        "usage: hybrid_eval --collection DIR [--doc-vectors F.fvecs --doc-ids F.txt --query-vectors F.fvecs --query-ids F.txt]\n"
        "                   [--metric cosine|ip|l2] [--k0 N] [--alphas a,b,...] [--rrf-k K] [--k1 X] [--b X] [--threads N]\n"
        "                   [--qrels F.tsv] [--tune-qrels F.tsv] [--write-runs DIR]\n"
        "                   [--csv] [--sweep]";
    const bench::Arguments args(argc, argv,
                                {"--collection", "--doc-vectors", "--doc-ids", "--query-vectors", "--query-ids", "--metric", "--k0",
                                 "--alphas", "--rrf-k", "--k1", "--b", "--threads", "--qrels", "--tune-qrels", "--write-runs"},
                                {"--csv", "--sweep"}, usage);
    if (!args.has("--collection")) args.die("--collection is required");
    eval::HybridEvaluationOptions opt;
    opt.collection = args.get("--collection");
    opt.doc_vectors = args.get("--doc-vectors");
    opt.doc_ids = args.get("--doc-ids");
    opt.query_vectors = args.get("--query-vectors");
    opt.query_ids = args.get("--query-ids");
    opt.qrels = args.get("--qrels");
    opt.run_dir = args.get("--write-runs");
    if (args.has("--alphas")) opt.alphas = args.get_list("--alphas");
    opt.rrf_k = args.get_double("--rrf-k", opt.rrf_k);
    opt.k0 = static_cast<std::size_t>(args.get_int("--k0", static_cast<long long>(opt.k0)));
    opt.bm25.k1 = static_cast<float>(args.get_double("--k1", opt.bm25.k1));
    opt.bm25.b = static_cast<float>(args.get_double("--b", opt.bm25.b));
    opt.threads = static_cast<std::size_t>(args.get_int("--threads", 0));
    const bool csv = args.has("--csv"), sweep = args.has("--sweep");

    try {
        if (args.has("--metric")) opt.dense_metric = parse_metric(args.get("--metric"));
        const bench::Timer timer;
        const auto report = eval::run_hybrid_evaluation(opt);
        if (csv) {
            std::printf("method,params,ndcg@10,recall@100,queries\n");
            for (const auto& r : report.results)
                std::printf("%s,\"%s\",%.4f,%.4f,%zu\n", r.method.c_str(), r.params.c_str(), r.ndcg_at_10, r.recall_at_100, r.queries);
            return 0;
        }
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
        if (sweep) {
            std::printf("\nall configurations:\n");
            for (const auto& r : report.results)
                std::printf("%-24s  %-40s  %8.4f  %10.4f\n", r.method.c_str(), r.params.c_str(), r.ndcg_at_10, r.recall_at_100);
        }
        if (args.has("--tune-qrels")) {
            auto tune_opt = opt;
            tune_opt.qrels = args.get("--tune-qrels");
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
                        std::printf("%-24s  %-40s  %12.4f  %8.4f  %10.4f\n", m.c_str(), r.params.c_str(), t->ndcg_at_10, r.ndcg_at_10,
                                    r.recall_at_100);
            }
        }
        if (const auto* f = report.best_fusion()) {
            const auto* bm25 = report.find("bm25");
            const auto* dense = report.find("dense");
            const double best_single = std::max(bm25->ndcg_at_10, dense ? dense->ndcg_at_10 : 0.0);
            std::printf("\nbest fusion: %s %s nDCG@10 %.4f (best single retriever %.4f, %+.4f)\n", f->method.c_str(), f->params.c_str(),
                        f->ndcg_at_10, best_single, f->ndcg_at_10 - best_single);
        }
        std::printf("elapsed %.2f s\n", timer.seconds());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid_eval: %s\n", e.what());
        return 1;
    }
    return 0;
}
