// python/src/sparse.cpp -- InvertedIndex (exact) and ClusteredInvertedIndex (Seismic-style, approximate) over
// learned-sparse vectors given as scipy.sparse CSR matrices.
#include "params.hpp"

namespace sdpy {

namespace {

constexpr const char* kSearchDoc =
    "Top-k documents of one query, best first.\n\n"
    "query: (indices, values) arrays (int32 term ids strictly increasing, float32 weights) or a one-row scipy.sparse matrix.\n"
    "filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.\n"
    "Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k documents match.";

constexpr const char* kBatchDoc =
    "Top-k documents of every row of `queries` (a scipy.sparse CSR matrix), in query order, on `threads` threads "
    "(0 = every core; results do not depend on it).\nReturns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.";

}  // namespace

void register_sparse(nb::module_& m) {
    using II = sd::InvertedIndex;
    nb::class_<II> ii(m, "InvertedIndex",
                      "Exact inverted index over learned-sparse vectors (SPLADE, BM25 impact vectors): inner-product top-k, exact, "
                      "with TAAT / DAAT / MaxScore / Block-Max WAND query processing.");
    ii.def_static(
          "build",
          [](nb::handle docs, const std::string& precision, long long block_size, long long threads, nb::handle progress) {
              const CsrInput in = csr_input(docs, "documents");
              sd::InvertedIndexBuildParams p;
              p.precision = parse_precision(precision);
              p.block_size = to_size(block_size, "block_size");
              p.threads = to_size(threads, "threads");
              p.progress = progress_callback(progress);
              nb::gil_scoped_release release;
              return II::build(in.view, p);
          },
          "docs"_a, nb::kw_only(), "precision"_a = "f32", "block_size"_a = 64, "threads"_a = 0, "progress"_a = nb::none(),
          "Builds the index from a scipy.sparse CSR matrix (rows = documents, ids 0..n-1; int32 indices and float32 data are "
          "used without copying, other dtypes converted once).\n\n"
          "precision: posting weights 'f32' (exact), 'f16' or 'u8' (smaller, bounded score error).\n"
          "block_size: postings per block-max block (Block-Max WAND skip granularity).\n"
          "threads: build workers, 0 = every core.\n"
          "progress: None, True (tqdm bars when tqdm is installed) or a callable(stage, done, total); an exception it raises "
          "cancels the build.")
        .def(
            "search",
            [](const II& i, nb::handle q, long long k, const std::string& algorithm, double esf, nb::handle filter) {
                return search_one<SparseSide>(i, q, k, inverted_params(algorithm, esf), filter);
            },
            "query"_a, "k"_a = 10, nb::kw_only(), "algorithm"_a = "automatic", "exact_scan_fraction"_a = 0.02, "filter"_a = nb::none(),
            keep_doc(std::string(kSearchDoc) +
             "\n\nalgorithm: 'automatic' (= term_at_a_time, the fastest measured), 'maxscore', 'block_max_wand', 'term_at_a_time', "
             "'document_at_a_time' -- all exact.\nexact_scan_fraction: with a filter accepting at most this fraction of the "
             "documents, the accepted ones are scored directly (both plans exact).")
                )
        .def(
            "search_batch",
            [](const II& i, nb::handle q, long long k, const std::string& algorithm, double esf, long long threads, nb::handle filter) {
                return search_many<SparseSide>(i, q, k, inverted_params(algorithm, esf), threads, filter);
            },
            "queries"_a, "k"_a = 10, nb::kw_only(), "algorithm"_a = "automatic", "exact_scan_fraction"_a = 0.02, "threads"_a = 0,
            "filter"_a = nb::none(), kBatchDoc)
        .def_prop_ro("nnz", &II::nnz, "Number of postings.");
    bind_common<SparseSide, II>(ii, "InvertedIndex");

    using CI = sd::ClusteredInvertedIndex;
    nb::class_<CI> ci(m, "ClusteredInvertedIndex",
                      "Approximate inverted index over learned-sparse vectors in the manner of Seismic (Bruch et al., SIGIR 2024): "
                      "pruned posting lists, clustered into blocks with summaries, optionally a k-NN graph (SeismicWave).");
    ci.def_static(
          "build",
          [](nb::handle docs, long long lambda_, const std::string& pruning, double max_fraction, double centroid_fraction, double alpha,
             long long summary_max_terms, long long min_cluster_size, long long doc_cut, const std::string& forward_values, long long knn,
             long long threads, std::uint64_t seed, nb::handle progress) {
              const CsrInput in = csr_input(docs, "documents");
              sd::ClusteredInvertedIndexBuildParams p;
              if (pruning == "fixed_size") p.pruning = sd::PruningStrategy::fixed_size;
              else if (pruning == "global_threshold") p.pruning = sd::PruningStrategy::global_threshold;
              else bad_argument("pruning must be 'fixed_size' or 'global_threshold', got '" + pruning + "'");
              p.lambda = to_size(lambda_, "lambda_");
              p.max_fraction = max_fraction;
              p.centroid_fraction = centroid_fraction;
              p.alpha = alpha;
              p.summary_max_terms = to_size(summary_max_terms, "summary_max_terms");
              p.min_cluster_size = to_size(min_cluster_size, "min_cluster_size");
              p.doc_cut = to_size(doc_cut, "doc_cut");
              p.forward_values = parse_precision(forward_values);
              p.knn = to_size(knn, "knn");
              p.threads = to_size(threads, "threads");
              p.seed = seed;
              p.progress = progress_callback(progress);
              nb::gil_scoped_release release;
              return CI::build(in.view, p);
          },
          "docs"_a, nb::kw_only(), "lambda_"_a = 0, "pruning"_a = "fixed_size", "max_fraction"_a = 1.5, "centroid_fraction"_a = 0.3,
          "alpha"_a = 0.5, "summary_max_terms"_a = 0, "min_cluster_size"_a = 2, "doc_cut"_a = 15, "forward_values"_a = "f16", "knn"_a = 0,
          "threads"_a = 0, "seed"_a = 42, "progress"_a = nb::none(),
          "Builds the index from a scipy.sparse CSR matrix (rows = documents, ids 0..n-1).\n\n"
          "lambda_: postings kept per list ('fixed_size') or on average ('global_threshold') -- C++ `lambda`; 0 = 1.3 sqrt(len(docs)),\n"
          "at least 32 (C++ default_lambda: about 280 for 46k documents, 1,300 for 1M).\n"
          "pruning: 'fixed_size' or 'global_threshold' (per-list cap lambda_ x max_fraction).\n"
          "centroid_fraction: blocks per list = centroid_fraction x list length.\n"
          "alpha: a block summary keeps the largest coordinates holding alpha of its L1 mass (at most summary_max_terms, 0 = no cap).\n"
          "min_cluster_size: smaller clusters are merged into the others. doc_cut: heaviest document terms used to pick a centroid.\n"
          "forward_values: forward index precision 'f32', 'f16' or 'u8'.\n"
          "knn: neighbours per document in the k-NN graph (0 = no graph).\n"
          "threads: build workers, 0 = every core. seed: centroid sampling.\n"
          "progress: None, True (tqdm) or a callable(stage, done, total); an exception it raises cancels the build.")
        .def(
            "search",
            [](const CI& i, nb::handle q, long long k, long long query_cut, double heap_factor, long long knn, const std::string& traversal,
               double esf, double query_mass, nb::handle filter) {
                return search_one<SparseSide>(i, q, k, clustered_params(query_cut, heap_factor, knn, traversal, esf, query_mass), filter);
            },
            "query"_a, "k"_a = 10, nb::kw_only(), "query_cut"_a = 8, "heap_factor"_a = 0.8, "knn"_a = 0, "traversal"_a = "best_first",
            "exact_scan_fraction"_a = 0.02, "query_mass"_a = 1.0, "filter"_a = nb::none(),
            keep_doc(std::string(kSearchDoc) +
             "\n\nquery_cut: query terms (largest weights) whose lists are visited.\nheap_factor: open a block when its summary "
             "score >= heap_factor x the k-th best (smaller = more recall, slower).\nknn: graph neighbours of each hit to score "
             "(needs knn > 0 at build).\ntraversal: 'best_first', 'list_by_list' (Seismic's order) or 'first_list_sorted'.\n"
             "exact_scan_fraction: with a filter accepting at most this fraction, the accepted documents are scored exactly.\n"
             "query_mass: of the query_cut heaviest terms, visit only the heaviest holding this share of the query's weight "
             "(1 = all query_cut; see tune_clustered()).")
                )
        .def(
            "search_batch",
            [](const CI& i, nb::handle q, long long k, long long query_cut, double heap_factor, long long knn, const std::string& traversal,
               double esf, double query_mass, long long threads, nb::handle filter) {
                return search_many<SparseSide>(i, q, k, clustered_params(query_cut, heap_factor, knn, traversal, esf, query_mass), threads, filter);
            },
            "queries"_a, "k"_a = 10, nb::kw_only(), "query_cut"_a = 8, "heap_factor"_a = 0.8, "knn"_a = 0, "traversal"_a = "best_first",
            "exact_scan_fraction"_a = 0.02, "query_mass"_a = 1.0, "threads"_a = 0, "filter"_a = nb::none(), kBatchDoc)
        .def_prop_ro("posting_count", &CI::posting_count, "Postings kept after pruning.")
        .def_prop_ro("block_count", &CI::block_count, "Blocks (clusters) over all lists.");
    bind_common<SparseSide, CI>(ci, "ClusteredInvertedIndex");

    m.def(
        "tune_clustered",
        [](nb::handle docs, nb::handle queries, double target, long long k, std::optional<std::vector<double>> query_masses, long long corpus_size,
           long long threads, std::uint64_t seed) {
            const CsrInput d = csr_input(docs, "documents");
            const CsrInput q = csr_input(queries, "queries");
            sd::ClusteredTuningParams tp;
            tp.k = to_size(k, "k");
            if (query_masses) tp.query_masses = std::move(*query_masses);  // None: tune()'s own grid
            tp.corpus_size = to_size(corpus_size, "corpus_size");
            tp.threads = to_size(threads, "threads");
            tp.seed = seed;
            sd::ClusteredTuningResult r;
            {
                nb::gil_scoped_release release;
                r = sd::tune(d.view, q.view, target, tp);
            }
            nb::dict build, search, out;
            build["lambda_"] = r.build.lambda;
            search["query_cut"] = r.search.query_cut;
            search["heap_factor"] = static_cast<double>(r.search.heap_factor);
            search["query_mass"] = r.search.query_mass;
            out["build"] = build;
            out["search"] = search;
            out["reached"] = r.reached;
            out["tuning_recall"] = r.tuning_recall;
            out["held_out_recall"] = r.held_out_recall;
            out["cost_ns"] = r.cost_ns;
            out["tuning_queries"] = r.tuning_queries;
            out["held_out_queries"] = r.held_out_queries;
            return out;
        },
        "docs"_a, "queries"_a, "target"_a, nb::kw_only(), "k"_a = 10, "query_masses"_a = nb::none(), "corpus_size"_a = 0,
        "threads"_a = 0, "seed"_a = 7,
        "Parameters of ClusteredInvertedIndex for a target recall@k, chosen on half of `queries` and measured on the other half "
        "(C++ sparsedense::tune, sparse/clustered_tuning.hpp).\n\n"
        "docs, queries: scipy.sparse CSR matrices (a sample of your corpus and of your queries). target: recall@k to reach.\n"
        "query_masses: the query-mass values of the grid (1.0 = a fixed query_cut; None = tune()'s [1.0, 0.5]). corpus_size: the full corpus size when `docs` is "
        "a sample (lambda_ is scaled by sqrt(corpus_size / len(docs))).\n"
        "Returns a dict: 'build' ({'lambda_': ...} for ClusteredInvertedIndex.build), 'search' (keyword arguments for search / "
        "search_batch), 'reached', 'tuning_recall', 'held_out_recall', 'cost_ns' (modelled cost per query), 'tuning_queries', "
        "'held_out_queries'.");
}

}  // namespace sdpy
