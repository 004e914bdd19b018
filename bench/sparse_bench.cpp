// sparse_bench: recall vs latency of the learned-sparse indexes.
//
// Builds the exact InvertedIndex and the ClusteredInvertedIndex over a corpus (a BigANN-2023 .csr file, or a
// seeded SPLADE-like synthetic set), then reports for each exact algorithm and each clustered configuration:
// recall@10 against the ground truth (a given .ivecs, else the exact index's own top-k), mean and p99 latency of one
// query at a time on one thread, queries per second, index bytes and build seconds. With --threads > 1, batch rows
// (search_batch over all queries) are added. --csv prints the standard columns
//   system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads
// (then p99_us, index_bytes). --filter-selectivity 1,0.1,0.01,0.001 adds, for every clustered configuration, one row
// per selectivity: the search under a random bitset filter accepting that fraction of the documents (fixed seed),
// recall@10 against the exact top-10 among the accepted documents (brute force), latency; the CSV then gains a last
// column, filter_selectivity (empty on unfiltered rows). --exact-scan-fraction sweeps the plan threshold
// (ClusteredInvertedIndexSearchParams::exact_scan_fraction; 0 = always traverse, 1 = always scan when filtered).
// The default grid covers recall 0.90-0.99 on SPLADE data; after the rows, a frontier table gives per recall target
// (--targets) the fastest clustered row reaching it and its ratio to exact TAAT of the same run. --cpu-time measures
// single-query latency as thread CPU time (for a shared machine); --tune R,.. runs tune() (clustered_tuning.hpp)
// instead of the grid and reports the held-out half's recall and latency; with --tune-rows A:B it tunes on query rows
// [A, B) only and reports recall and latency on the other rows (e.g. queries of other collections).
//
// Examples:
//   sparse_bench                                   (synthetic 50,000 docs, 500 queries; about a minute)
//   sparse_bench --corpus ../shared/data/splade-beir/corpus.csr --queries ../shared/data/splade-beir/queries.csr
//                --ground-truth ../shared/data/splade-beir/gt_top100.ivecs
//   sparse_bench --synthetic-docs 1000000 --lambda 2000 --query-cut 8,10 --heap-factor 0.8,0.9
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "command_line.hpp"
#include "sparse_bench_data.hpp"
#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/clustered_tuning.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

using namespace sparsedense;
using namespace sparsedense::bench;

namespace {

std::string fmt(double x) {
    std::ostringstream o;
    o << x;
    return o.str();
}

struct Timing {
    std::vector<SearchResults<>> results;
    LatencySummary latency;
    double qps = 0;

    /// Fills the measured columns of a single-query row.
    void fill(ResultRow& row, DenseMatrixView<const std::int32_t> truth, std::size_t k) const {
        row.recall_at_10 = recall_at_k(results, truth, k);
        row.qps = qps;
        row.us_per_query = latency.mean_us;
        row.p99_us = latency.p99_us;
    }
};

/// One query at a time on this thread: a warm-up, then `repeat` timed passes over all queries; the figures are those
/// of the median pass (by total time), as the peer harness (bench/peers) reports its peers.
/// --cpu-time: single-query latencies are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time, so that
/// other jobs on a shared machine do not add their time slices to ours (cache sharing still does).
bool g_cpu_time = false;
double now_us() {
    if (!g_cpu_time) return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
}

template <class SearchFn>
Timing time_single(std::size_t nq, std::size_t repeat, SearchFn&& search) {
    std::vector<SearchResults<>> results(nq);
    for (std::size_t q = 0; q < std::min<std::size_t>(nq, 50); ++q) search(q, results[q]);  // warm-up
    std::vector<std::pair<double, std::vector<double>>> passes;  // (seconds, per-query microseconds)
    for (std::size_t r = 0; r < std::max<std::size_t>(repeat, 1); ++r) {
        std::vector<double> us(nq);
        const double pass_start = now_us();
        for (std::size_t q = 0; q < nq; ++q) {
            const double t0 = now_us();
            search(q, results[q]);
            us[q] = now_us() - t0;
        }
        passes.emplace_back((now_us() - pass_start) * 1e-6, std::move(us));
    }
    const auto& median = bench::median_pass(passes);
    Timing timing;
    timing.latency = summarize_latencies(median.second);
    timing.qps = static_cast<double>(nq) / median.first;
    timing.results = std::move(results);
    return timing;
}

/// The filter of one selectivity: a random bitset accepting about `fraction` of the documents (fixed seed), and the
/// exact top-k among them for every query (brute force over the accepted rows: a candidate shares a query term).
struct FilterCase {
    double fraction = 1;
    IdBitset bits;
    std::vector<SearchResults<>> truth;
};

FilterCase make_filter_case(const CsrMatrix<float>& corpus, const CsrMatrix<float>& queries, double fraction, std::size_t k,
                            const DenseMatrix<std::int32_t>& unfiltered_truth) {
    FilterCase c;
    c.fraction = fraction;
    c.bits = IdBitset(corpus.rows());
    std::mt19937_64 rng(20261205);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t d = 0; d < corpus.rows(); ++d)
        if (u(rng) < fraction) c.bits.set(d);
    c.truth.resize(queries.rows());
    if (fraction >= 1.0) {  // every document accepted: the unfiltered ground truth
        for (std::size_t q = 0; q < queries.rows(); ++q)
            for (std::size_t i = 0; i < k; ++i)
                if (unfiltered_truth.row(q)[i] >= 0) c.truth[q].push_back({static_cast<std::uint32_t>(unfiltered_truth.row(q)[i]), 0.0f});
        return c;
    }
    std::vector<float> qd(corpus.cols, 0.0f);
    std::vector<std::uint8_t> in_query(corpus.cols, 0);
    for (std::size_t q = 0; q < queries.rows(); ++q) {
        const auto query = queries.row(q);
        for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = query.values[i], in_query[query.ids[i]] = 1;
        TopKCollector<> top(k);
        c.bits.view().for_each_below(corpus.rows(), [&](std::uint64_t d) {
            const auto row = corpus.row(static_cast<std::size_t>(d));
            float sc = 0.0f;
            bool any = false;
            for (std::size_t i = 0; i < row.size(); ++i)
                if (in_query[row.ids[i]]) sc += qd[row.ids[i]] * row.values[i], any = true;
            if (any) top.push(static_cast<std::uint32_t>(d), sc);
        });
        c.truth[q] = top.sorted();
        for (std::size_t i = 0; i < query.size(); ++i) qd[query.ids[i]] = 0.0f, in_query[query.ids[i]] = 0;
    }
    return c;
}

/// Mean over queries of |found & truth| / |truth| (queries with an empty filtered truth are skipped).
double filtered_recall(const std::vector<SearchResults<>>& results, const std::vector<SearchResults<>>& truth, std::size_t k) {
    double total = 0;
    std::size_t counted = 0;
    for (std::size_t q = 0; q < results.size(); ++q) {
        const std::size_t n = std::min(k, truth[q].size());
        if (n == 0) continue;
        std::size_t hit = 0;
        for (std::size_t i = 0; i < std::min(k, results[q].size()); ++i)
            for (std::size_t j = 0; j < n; ++j) hit += results[q][i].id == truth[q][j].id;
        total += static_cast<double>(hit) / static_cast<double>(n);
        ++counted;
    }
    return counted ? total / static_cast<double>(counted) : 1.0;
}

/// Emits a row; with filter rows in the run, the CSV gains a last column (the selectivity, empty when unfiltered).
void emit_row(ResultTable& table, const ResultRow& row, bool csv, bool filter_column, double selectivity = -1) {
    if (!csv || !filter_column) return table.emit(row, csv);
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* mem = open_memstream(&text, &size);
    ResultTable::print_csv_row(row, mem);
    std::fclose(mem);
    std::string line(text, size);
    std::free(text);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (selectivity >= 0) line += "," + fmt(selectivity);
    else line += ",";
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    table.add(row);
}

/// search_batch on `threads` threads against one thread: wall-clock seconds and process CPU seconds of each (the
/// medians of `repeat` interleaved 1/N pairs). On a machine shared with other jobs the wall-clock ratio is capped by the
/// cores we get; threads x cpu_1 / cpu_n is the speed-up the threads would give with cores of their own (it still
/// counts what they cost each other through shared caches and memory).
struct BatchScaling {
    double wall_1 = 0, wall_n = 0, cpu_1 = 0, cpu_n = 0;
    std::vector<SearchResults<>> results;
};
double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
template <class Batch>
BatchScaling measure_batch_scaling(std::size_t threads, std::size_t repeat, Batch&& batch) {
    std::vector<double> w1, wn, c1, cn;
    BatchScaling s;
    auto run = [&](std::size_t t, std::vector<double>& wall, std::vector<double>& cpu) {
        const double c0 = process_cpu_seconds();
        Timer timer;
        s.results = batch(t);
        wall.push_back(timer.seconds());
        cpu.push_back(process_cpu_seconds() - c0);
    };
    for (std::size_t r = 0; r < std::max<std::size_t>(repeat, 1); ++r) {
        run(1, w1, c1);
        run(threads, wn, cn);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    s.wall_1 = median(w1), s.wall_n = median(wn), s.cpu_1 = median(c1), s.cpu_n = median(cn);
    return s;
}

/// Where --tune measures the chosen parameters: tune()'s own held-out half (rows empty), or these rows of the run's
/// queries (--tune-rows: tuned on the other rows), truth row i holding the true neighbours of query rows[i].
struct TuningTest {
    std::vector<std::size_t> rows;
    DenseMatrix<std::int32_t> truth;
};

/// --tune: tune() per target; the chosen parameters' recall and latency on the held-out queries, against exact TAAT
/// on the same queries (one query at a time, medians of `repeat` interleaved passes). `masses`: the query_mass grid,
/// or null for tune()'s own.
void run_tuning(const CsrMatrix<float>& corpus, const CsrMatrix<float>& queries, CsrMatrixView<float> tuning_queries, const TuningTest& test,
                const std::vector<double>& targets, const std::vector<double>* masses, std::size_t threads, std::size_t repeat, const InvertedIndex& exact,
                std::FILE* log) {
    std::printf("%-7s %-8s %-10s %-10s %-11s %-13s %-15s %-12s %-13s %-9s %-8s\n", "target", "lambda", "query_cut", "query_mass", "heap_factor", "tuning_recall",
                test.rows.empty() ? "held_out_recall" : "test_recall", "build_s", test.rows.empty() ? "held_out_us" : "test_us", "taat_us", "ratio");
    for (double target : targets) {
        ClusteredTuningParams tp;
        tp.threads = threads;
        if (masses) tp.query_masses = *masses;
        Timer tt;
        const auto r = tune(corpus, tuning_queries, target, tp);
        const double tune_s = tt.seconds();
        Timer bt;
        const auto index = ClusteredInvertedIndex::build(corpus, r.build);
        const double build_s = bt.seconds();
        const auto& rows = test.rows.empty() ? r.held_out_rows : test.rows;  // rows of `queries` either way
        std::vector<double> ours, taat;
        SearchResults<> out;
        for (std::size_t rep = 0; rep < std::max<std::size_t>(repeat, 1); ++rep) {  // interleaved: ours, exact, ours, exact
            double t0 = now_us();
            for (std::size_t q : rows) index.search_into(queries.row(q), 10, out, r.search);
            ours.push_back((now_us() - t0) / static_cast<double>(rows.size()));
            t0 = now_us();
            for (std::size_t q : rows) exact.search_into(queries.row(q), 10, out, {ExactAlgorithm::term_at_a_time});
            taat.push_back((now_us() - t0) / static_cast<double>(rows.size()));
        }
        std::sort(ours.begin(), ours.end());
        std::sort(taat.begin(), taat.end());
        double recall = r.held_out_recall;
        if (!test.rows.empty()) {
            std::vector<SearchResults<>> found;
            for (std::size_t q : rows) found.push_back(index.search(queries.row(q), 10, r.search));
            recall = recall_at_k(found, test.truth.view(), 10);
        }
        const double o = ours[ours.size() / 2], e = taat[taat.size() / 2];
        std::printf("%-7.2f %-8zu %-10zu %-10g %-11g %-13.4f %-15.4f %-12.2f %-13.1f %-9.1f %.3fx\n", target, r.build.lambda, r.search.query_cut, r.search.query_mass,
                    static_cast<double>(r.search.heap_factor), r.tuning_recall, recall, build_s, o, e, o / e);
        std::fprintf(log, "  (tune took %.1f s, %zu grid points, %s; held-out half of the tuning queries: %.4f)\n", tune_s, r.grid.size(),
                     r.reached ? "target reached" : "target NOT reached", r.held_out_recall);
    }
}

/// The frontier table: per recall target, the fastest clustered row reaching it, with the exact term-at-a-time
/// latency of the same run and the ratio (taat_us = 0 when TAAT was not run).
void print_frontier(std::FILE* out, const std::vector<ResultRow>& rows, const std::vector<double>& targets, double taat_us) {
    std::fprintf(out, "\nfrontier (fastest clustered row per recall@10 target, one query at a time; exact TAAT of this run: %.1f us)\n", taat_us);
    std::fprintf(out, "%-8s %-44s %-44s %9s %10s %9s\n", "target", "build_params", "search_params", "recall", "us/query", "vs TAAT");
    for (double target : targets) {
        const ResultRow* best = nullptr;
        for (const auto& r : rows)
            if (r.recall_at_10 >= target && (!best || r.us_per_query < best->us_per_query)) best = &r;
        if (!best) {
            std::fprintf(out, "%-8.2f not reached by the grid\n", target);
            continue;
        }
        std::fprintf(out, "%-8.2f %-44s %-44s %9.4f %10.1f %8.3fx\n", target, best->build_params.c_str(), best->search_params.c_str(),
                     best->recall_at_10, best->us_per_query, taat_us > 0 ? best->us_per_query / taat_us : 0.0);
    }
    std::fprintf(out, "\n");
}

/// The command line.
struct Options {
    std::string corpus, queries, ground_truth, forward = "f16";
    std::size_t synthetic_docs = 50000, synthetic_queries = 0, k = 10, threads = 1, repeat = 1, max_queries = 0, knn = 0, summary_terms = 0;
    std::uint64_t seed = 2024;
    std::vector<double> lambdas, fractions{0.3}, alphas{0.5}, cuts{5, 6, 8, 10, 12, 16}, factors{1.0, 0.9, 0.8, 0.7, 0.6}, masses{1.0};
    std::vector<double> targets{0.90, 0.95, 0.99}, tune, selectivities, scan_fractions;
    std::pair<std::size_t, std::size_t> tune_rows{0, 0};  // --tune-rows A:B: tune on query rows [A, B), measure on the others
    bool tune_rows_given = false;
    bool masses_given = false;  // --query-mass on the command line (else --tune keeps tune()'s own query_mass grid)
    double max_fraction = 1.5;
    std::vector<std::string> exact_algorithms{"taat", "maxscore", "bmw", "daat"}, traversals{"best-first"};
    bool csv = false, global_threshold = false, cpu_time = false;
};

/// Data, measurement and output flags.
void add_run_options(CLI::App& app, Options& o) {
    app.add_option("--corpus", o.corpus, "documents (BigANN .csr); without it, a seeded SPLADE-like corpus is generated")->check(CLI::ExistingFile);
    app.add_option("--queries", o.queries, "queries (.csr)")->check(CLI::ExistingFile);
    app.get_option("--corpus")->needs("--queries");
    app.add_option("--ground-truth", o.ground_truth, "true neighbours (.ivecs; default: the exact index's top-k)")->check(CLI::ExistingFile);
    app.add_option("--synthetic-docs", o.synthetic_docs, "generated documents")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--synthetic-queries", o.synthetic_queries, "generated queries (default 500; 1000 from 200,000 documents)")->check(bench::cli::positive);
    app.add_option("--seed", o.seed, "seed of the generated corpus")->capture_default_str();
    app.add_option("--max-queries", o.max_queries, "run the first N queries")->check(bench::cli::positive);
    app.add_option("--k", o.k, "neighbours per query")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--threads", o.threads, "build threads; above 1, batch rows are added")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--repeat", o.repeat, "timed passes per configuration (the median is reported)")->capture_default_str()->check(bench::cli::non_negative);
    app.add_flag("--cpu-time", o.cpu_time, "single-query latency = thread CPU time (for a shared machine)");
    app.add_flag("--csv", o.csv, "CSV rows instead of the table");
    app.add_option("--exact-algorithms", o.exact_algorithms, "exact rows")->delimiter(',')->capture_default_str()->check(CLI::IsMember({"taat", "maxscore", "bmw", "daat"}));
    app.add_option("--targets", o.targets, "recall targets of the frontier table")->delimiter(',')->capture_default_str()->check(bench::cli::unit_interval);
    app.add_option("--tune", o.tune, "run tune() for these recall targets (parameters chosen on half the queries, recall and latency "
                   "measured on the other half), then exit")->delimiter(',')->check(bench::cli::fraction);
    app.add_option("--tune-rows", o.tune_rows, "with --tune: tune on query rows A:B (from A up to, not including, B) and measure on the other rows, "
                   "e.g. queries of other collections")->delimiter(':')->needs("--tune");
    app.add_option("--filter-selectivity", o.selectivities, "filtered rows: random bitset filters accepting these fractions (e.g. 1,0.1,0.01,0.001)")
        ->delimiter(',')->check(bench::cli::fraction);
    app.add_option("--exact-scan-fraction", o.scan_fractions, "plan thresholds of the filtered rows (0 = always traverse, 1 = always scan)")
        ->delimiter(',')->check(bench::cli::unit_interval);
}

/// The clustered index's build and search grids.
void add_grid_options(CLI::App& app, Options& o) {
    app.add_option("--lambda", o.lambdas, "postings kept per list (default 1.3 sqrt(documents))")->delimiter(',')->check(bench::cli::positive);
    app.add_option("--centroid-fraction", o.fractions, "blocks per list / list length")->delimiter(',')->capture_default_str()->check(bench::cli::fraction);
    app.add_option("--alpha", o.alphas, "summary energy")->delimiter(',')->capture_default_str()->check(bench::cli::fraction);
    app.add_option("--forward", o.forward, "forward index values")->capture_default_str()->check(CLI::IsMember({"f16", "u8", "f32"}));
    app.add_flag("--global-threshold", o.global_threshold, "global-threshold pruning instead of a fixed lambda per list");
    app.add_option("--max-fraction", o.max_fraction, "with --global-threshold: cap per list, in units of lambda")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--knn", o.knn, "kNN graph degree (0 = none)")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--summary-terms", o.summary_terms, "cap on block summary size (0 = none)")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--query-cut", o.cuts, "query terms used")->delimiter(',')->capture_default_str()->check(bench::cli::positive);
    app.add_option("--heap-factor", o.factors, "block skipping aggressiveness")->delimiter(',')->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--query-mass", o.masses, "query-term selection by mass (1 = fixed cut)")->delimiter(',')->capture_default_str()->check(bench::cli::fraction);
    app.add_option("--traversal", o.traversals, "block traversal orders")->delimiter(',')->capture_default_str()
        ->check(CLI::IsMember({"best-first", "first-list-sorted", "list-by-list"}));
}

Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app("recall vs latency of the learned-sparse indexes: the exact InvertedIndex and the ClusteredInvertedIndex over a\n"
                 "BigANN .csr corpus or a seeded SPLADE-like synthetic one (default 50,000 documents, 500 queries).",
                 "sparse_bench");
    add_run_options(app, o);
    add_grid_options(app, o);
    bench::cli::parse(app, argc, argv);
    o.masses_given = app.count("--query-mass") > 0;
    o.tune_rows_given = app.count("--tune-rows") > 0;
    o.threads = std::max<std::size_t>(1, o.threads);
    o.repeat = std::max<std::size_t>(1, o.repeat);
    return o;
}

/// The CSV header; with filter rows in the run, plus a last column, filter_selectivity.
void print_csv_header(bool filter_column) {
    if (!filter_column) return ResultTable::print_csv_header();
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* mem = open_memstream(&text, &size);
    ResultTable::print_csv_header(mem);
    std::fclose(mem);
    std::string header(text, size);
    std::free(text);
    header.pop_back();
    std::printf("%s,filter_selectivity\n", header.c_str());
}

/// The corpus and queries: read, or generated; cut to --max-queries; one dimension for both.
struct Data {
    CsrMatrix<float> corpus, queries;
};

Data load_data(const Options& o, std::FILE* log) {
    Data data;
    CsrMatrix<float>& corpus = data.corpus;
    CsrMatrix<float>& queries = data.queries;
    std::string data_name;
    Timer load_timer;
    if (!o.corpus.empty()) {
        corpus = io::read_csr(o.corpus);
        queries = io::read_csr(o.queries);
        data_name = o.corpus;
    } else {
        const std::size_t n = o.synthetic_docs;
        const std::size_t nq = o.synthetic_queries ? o.synthetic_queries : n >= 200000 ? 1000 : 500;
        SpladeLikeSpec spec;
        spec.seed = o.seed;
        SpladeLikeGenerator gen(spec);
        corpus = gen.documents(n, 0);
        queries = gen.queries(nq, 0);
        data_name = "synthetic SPLADE-like, " + std::to_string(n) + " docs";
    }
    if (o.max_queries) {
        const auto keep = std::min<std::size_t>(queries.rows(), o.max_queries);
        CsrMatrix<float> cut(queries.cols);
        for (std::size_t q = 0; q < keep; ++q) cut.push_back(queries.row(q));
        queries = std::move(cut);
    }
    if (corpus.cols == 0 || queries.cols == 0 || corpus.cols != queries.cols) {
        const std::size_t d = std::max(corpus.cols, queries.cols);
        corpus.cols = queries.cols = d;
    }
    const std::size_t nq = queries.rows();
    std::fprintf(log, "data: %s: %zu documents (%.1f nnz/doc), %zu queries (%.1f nnz/query), dimension %zu; loaded in %.1f s\n",
                 data_name.c_str(), corpus.rows(), static_cast<double>(corpus.nnz()) / std::max<std::size_t>(1, corpus.rows()), nq,
                 static_cast<double>(queries.nnz()) / std::max<std::size_t>(1, nq), corpus.cols, load_timer.seconds());
    return data;
}

/// One run: the options, the data, the exact index, the ground truth and the filters, and where rows go.
struct Bench {
    Bench(const Options& options, const Data& data, const InvertedIndex& exact_index, double exact_build_s, std::FILE* log_file)
        : o(options), corpus(data.corpus), queries(data.queries), exact(exact_index), exact_build(exact_build_s), log(log_file),
          nq(data.queries.rows()), rk(std::min<std::size_t>(10, options.k)), filter_column(!options.selectivities.empty()) {}

    const Options& o;
    const CsrMatrix<float>& corpus;
    const CsrMatrix<float>& queries;
    const InvertedIndex& exact;
    double exact_build = 0;
    std::FILE* log = stdout;
    std::size_t nq = 0, rk = 10;
    bool filter_column = false;
    DenseMatrix<std::int32_t> truth;
    std::vector<FilterCase> filter_cases;
    ResultTable table;
    // results of the exact rows and the clustered grid
    double best_exact_us = 0, taat_us = 0, best_clustered_us = 0;
    std::string best_exact_name, best_clustered;
    std::vector<ResultRow> frontier_rows;  ///< unfiltered single-query clustered rows

    void emit(const ResultRow& row, double selectivity = -1) { emit_row(table, row, o.csv, filter_column, selectivity); }

    /// The given ground truth, else the exact index's top-k.
    void make_truth() {
        const std::size_t k = o.k;
        if (!o.ground_truth.empty()) {
            truth = io::read_ivecs(o.ground_truth, nq);
            if (truth.rows() < nq) raise(ErrorKind::invalid_data, "ground truth has fewer rows (", truth.rows(), ") than there are queries (", nq, ")");
            return;
        }
        const auto gt = exact.search_batch(queries, k, {ExactAlgorithm::term_at_a_time}, o.threads);
        truth = DenseMatrix<std::int32_t>(nq, k);
        for (std::size_t q = 0; q < nq; ++q)
            for (std::size_t i = 0; i < k; ++i) truth.row(q)[i] = i < gt[q].size() ? static_cast<std::int32_t>(gt[q][i].id) : -1;
    }

    void make_filter_cases() {
        for (double f : o.selectivities) {
            Timer ft;
            filter_cases.push_back(make_filter_case(corpus, queries, f, rk, truth));
            std::fprintf(log, "filter %g: %zu documents accepted; filtered ground truth in %.1f s\n", f, filter_cases.back().bits.count(), ft.seconds());
        }
    }

    void run_exact();
    void run_clustered();
    ClusteredInvertedIndexBuildParams build_params(double lambda, double cf, double alpha) const;
    std::string build_name(const ClusteredInvertedIndexBuildParams& cp, double lambda, double cf, double alpha) const;
    void search_grid(const ClusteredInvertedIndex& index, const std::string& bp, double build_s);
    void search_configuration(const ClusteredInvertedIndex& index, const ClusteredInvertedIndexSearchParams& sp, ResultRow row);
    void log_work(const ClusteredInvertedIndex& index, const ClusteredInvertedIndexSearchParams& sp, const std::string& what) const;
    void print_results() const;
};

/// The exact rows: each --exact-algorithms one query at a time, then (threads > 1) exact TAAT in batch.
void Bench::run_exact() {
    struct ExactRun {
        const char* name;
        const char* flag;
        ExactAlgorithm algo;
    };
    std::vector<ExactRun> exact_runs;
    for (const ExactRun& run : {ExactRun{"exact-taat", "taat", ExactAlgorithm::term_at_a_time}, ExactRun{"exact-maxscore", "maxscore", ExactAlgorithm::maxscore},
                                ExactRun{"exact-bmw", "bmw", ExactAlgorithm::block_max_wand}, ExactRun{"exact-daat", "daat", ExactAlgorithm::document_at_a_time}})
        if (std::find(o.exact_algorithms.begin(), o.exact_algorithms.end(), run.flag) != o.exact_algorithms.end()) exact_runs.push_back(run);
    const std::size_t k = o.k;
    for (const auto& run : exact_runs) {
        // the slow exhaustive merge runs on at most 200 queries
        const std::size_t n_run = run.algo == ExactAlgorithm::document_at_a_time || run.algo == ExactAlgorithm::block_max_wand ? std::min<std::size_t>(nq, 200) : nq;
        auto timing = time_single(n_run, o.repeat, [&](std::size_t q, SearchResults<>& out) { exact.search_into(queries.row(q), k, out, {run.algo}); });
        ResultRow row;
        row.index = run.name;
        row.build_params = "precision=f32,block=64";
        row.search_params = std::string("algorithm=") + exact_algorithm_name(run.algo);
        row.build_s = exact_build;
        timing.fill(row, truth.view(), rk);
        row.index_bytes = static_cast<double>(exact.memory_bytes());
        if (run.algo == ExactAlgorithm::term_at_a_time) taat_us = row.us_per_query;
        if (best_exact_name.empty() || row.us_per_query < best_exact_us) {
            best_exact_us = row.us_per_query;
            best_exact_name = run.name;
        }
        emit(row);
    }
    if (o.threads > 1) {
        ResultRow row;
        row.index = "exact-taat";
        row.build_params = "precision=f32,block=64";
        row.search_params = "algorithm=term_at_a_time";
        row.build_s = exact_build;
        row.index_bytes = static_cast<double>(exact.memory_bytes());
        Timer t;
        const auto results = exact.search_batch(queries, k, {ExactAlgorithm::term_at_a_time}, o.threads);
        const double seconds = t.seconds();
        emit(batch_row(row, recall_at_k(results, truth.view(), rk), seconds, nq, o.threads));
    }
}

ClusteredInvertedIndexBuildParams Bench::build_params(double lambda, double cf, double alpha) const {
    ClusteredInvertedIndexBuildParams cp;
    cp.lambda = static_cast<std::size_t>(lambda);
    cp.centroid_fraction = cf;
    cp.alpha = alpha;
    cp.forward_values = o.forward == "u8" ? WeightPrecision::u8 : o.forward == "f32" ? WeightPrecision::f32 : WeightPrecision::f16;
    cp.threads = o.threads;
    cp.knn = o.knn;
    cp.summary_max_terms = o.summary_terms;
    if (o.global_threshold) {
        cp.pruning = PruningStrategy::global_threshold;
        cp.max_fraction = o.max_fraction;
    }
    return cp;
}

std::string Bench::build_name(const ClusteredInvertedIndexBuildParams& cp, double lambda, double cf, double alpha) const {
    const std::size_t knn = o.knn, summary_terms = o.summary_terms;
    return "lambda=" + fmt(lambda) + ",cf=" + fmt(cf) + ",alpha=" + fmt(alpha) + ",forward=" + o.forward +
           (cp.pruning == PruningStrategy::global_threshold ? ",global,max_fraction=" + fmt(cp.max_fraction) : "") +
           (knn ? ",knn=" + std::to_string(knn) : "") + (summary_terms ? ",summary_terms=" + std::to_string(summary_terms) : "");
}

/// The clustered index: every build configuration (lambda x centroid fraction x alpha) x every search configuration.
void Bench::run_clustered() {
    const std::vector<double> lambdas = o.lambdas.empty() ? std::vector<double>{static_cast<double>(default_lambda(corpus.rows()))} : o.lambdas;  // 1.3 sqrt(n)
    for (double lambda : lambdas)
        for (double cf : o.fractions)
            for (double alpha : o.alphas) {
                const ClusteredInvertedIndexBuildParams cp = build_params(lambda, cf, alpha);
                Timer bt;
                const auto index = ClusteredInvertedIndex::build(corpus, cp);
                const double build_s = bt.seconds();
                const std::string bp = build_name(cp, lambda, cf, alpha);
                std::fprintf(log, "clustered index %s: built in %.2f s, %.1f MB (%zu postings, %zu blocks, %zu summary entries)\n", bp.c_str(),
                             build_s, static_cast<double>(index.memory_bytes()) / 1e6, index.posting_count(), index.block_count(),
                             index.summary_entries());
                search_grid(index, bp, build_s);
            }
}

/// Every traversal x query cut x query mass x heap factor on one built index.
void Bench::search_grid(const ClusteredInvertedIndex& index, const std::string& bp, double build_s) {
    const std::size_t knn = o.knn;
    std::vector<std::pair<BlockTraversal, std::string>> traversals;
    for (const std::string& name : o.traversals)
        traversals.emplace_back(name == "first-list-sorted" ? BlockTraversal::first_list_sorted
                                : name == "list-by-list"    ? BlockTraversal::list_by_list
                                                            : BlockTraversal::best_first,
                                name);
    for (const auto& [traversal, traversal_name] : traversals)
        for (double qc : o.cuts)
            for (double qm : o.masses)
                for (double hf : o.factors) {
                    ClusteredInvertedIndexSearchParams sp;
                    sp.query_cut = static_cast<std::size_t>(qc);
                    sp.query_mass = qm;
                    sp.heap_factor = static_cast<float>(hf);
                    sp.knn = knn;
                    sp.traversal = traversal;
                    ResultRow row;
                    row.index = "clustered";
                    row.build_params = bp;
                    row.search_params = "query_cut=" + fmt(qc) + (qm < 1.0 ? ",query_mass=" + fmt(qm) : "") + ",heap_factor=" + fmt(hf) +
                                        (knn ? ",knn=" + std::to_string(knn) : "") +
                                        (traversals.size() > 1 || traversal != BlockTraversal::best_first ? ",traversal=" + traversal_name : "");
                    row.build_s = build_s;
                    row.index_bytes = static_cast<double>(index.memory_bytes());
                    char what[160];
                    std::snprintf(what, sizeof what, "query_cut=%g query_mass=%g heap_factor=%g traversal=%s", qc, qm, hf, traversal_name.c_str());
                    log_work(index, sp, what);
                    search_configuration(index, sp, row);
                }
}

/// Work counters per query of one search configuration, from an untimed pass.
void Bench::log_work(const ClusteredInvertedIndex& index, const ClusteredInvertedIndexSearchParams& sp, const std::string& what) const {
    ClusteredSearchStatistics stats;
    ClusteredInvertedIndexSearchParams counted = sp;
    counted.statistics = &stats;
    SearchResults<> scratch;
    for (std::size_t q = 0; q < nq; ++q) index.search_into(queries.row(q), o.k, scratch, counted);
    const double per = 1.0 / static_cast<double>(std::max<std::size_t>(nq, 1));
    std::fprintf(log, "  %s: per query %.0f blocks considered, %.0f summary entries, %.0f blocks opened, %.0f documents scored\n", what.c_str(),
                 static_cast<double>(stats.blocks_considered) * per, static_cast<double>(stats.summary_entries) * per,
                 static_cast<double>(stats.blocks_opened) * per, static_cast<double>(stats.documents_scored) * per);
}

/// One search configuration: the single-query row, the batch row (threads > 1) and the filtered rows.
void Bench::search_configuration(const ClusteredInvertedIndex& index, const ClusteredInvertedIndexSearchParams& sp, ResultRow row) {
    const std::size_t k = o.k, threads = o.threads;
    auto timing = time_single(nq, o.repeat, [&](std::size_t q, SearchResults<>& out) { index.search_into(queries.row(q), k, out, sp); });
    timing.fill(row, truth.view(), rk);
    if (row.recall_at_10 >= 0.95 && (best_clustered.empty() || row.us_per_query < best_clustered_us)) {
        best_clustered_us = row.us_per_query;
        best_clustered = row.build_params + " " + row.search_params;
    }
    emit(row);
    frontier_rows.push_back(row);
    if (threads > 1) {
        const auto scaling = measure_batch_scaling(threads, o.repeat, [&](std::size_t t) { return index.search_batch(queries, k, sp, t); });
        emit(batch_row(row, recall_at_k(scaling.results, truth.view(), rk), scaling.wall_n, nq, threads));
        std::fprintf(log, "  batch on %zu threads vs 1: wall-clock %.2fx, CPU-time %.2fx (%.1f vs %.1f us of CPU per query)\n", threads,
                     scaling.wall_1 / scaling.wall_n, static_cast<double>(threads) * scaling.cpu_1 / scaling.cpu_n,
                     scaling.cpu_n * 1e6 / static_cast<double>(nq), scaling.cpu_1 * 1e6 / static_cast<double>(nq));
    }
    const bool scan_given = !o.scan_fractions.empty();
    const std::vector<double> scan_fractions = scan_given ? o.scan_fractions : std::vector<double>{ClusteredInvertedIndexSearchParams{}.exact_scan_fraction};
    for (const auto& fc : filter_cases)
        for (double scan : scan_fractions) {
            ClusteredInvertedIndexSearchParams fp = sp;
            fp.exact_scan_fraction = scan;
            const IdFilter filter(fc.bits);
            auto ft = time_single(nq, o.repeat, [&](std::size_t q, SearchResults<>& out) { index.search_into(queries.row(q), k, out, fp, filter); });
            ResultRow frow = row;
            frow.search_params = row.search_params + ",filter=" + fmt(fc.fraction) +
                                 (scan_fractions.size() > 1 || scan_given ? ",exact_scan_fraction=" + fmt(scan) : "");
            ft.fill(frow, truth.view(), rk);
            frow.recall_at_10 = filtered_recall(ft.results, fc.truth, rk);
            emit(frow, fc.fraction);
        }
}

/// The frontier table, then (without --csv) the row table and the closing line.
void Bench::print_results() const {
    print_frontier(o.csv ? stderr : stdout, frontier_rows, o.targets, taat_us);
    if (o.csv) return;
    table.print_table(stdout);
    std::printf("\nbest exact: %s %.1f us/query", best_exact_name.c_str(), best_exact_us);
    if (!best_clustered.empty())
        std::printf("; fastest clustered at recall@10 >= 0.95: %.1f us/query (%.1fx faster) with %s\n", best_clustered_us,
                    best_exact_us / best_clustered_us, best_clustered.c_str());
    else
        std::printf("; no clustered configuration reached recall@10 0.95\n");
}

/// --tune, on tune()'s own split of the queries, or with --tune-rows A:B tuned on rows [A, B) and measured on the rest.
void run_tuning_command(const Options& o, const Data& data, const DenseMatrix<std::int32_t>& truth, const InvertedIndex& exact, std::FILE* log) {
    const std::vector<double>* masses = o.masses_given ? &o.masses : nullptr;
    if (!o.tune_rows_given) {
        run_tuning(data.corpus, data.queries, data.queries, {}, o.tune, masses, o.threads, o.repeat, exact, log);
        return;
    }
    const auto [first, last] = o.tune_rows;
    const std::size_t nq = data.queries.rows();
    if (first >= last || last > nq || last - first == nq)
        raise(ErrorKind::invalid_argument, "--tune-rows ", first, ":", last, ": needs A < B <= ", nq, " (the number of queries) and rows left over to measure on");
    CsrMatrix<float> tuning_queries(data.queries.cols);
    TuningTest test;
    for (std::size_t q = 0; q < nq; ++q) {
        if (q >= first && q < last) tuning_queries.push_back(data.queries.row(q));
        else test.rows.push_back(q);
    }
    test.truth = DenseMatrix<std::int32_t>(test.rows.size(), truth.cols());
    for (std::size_t i = 0; i < test.rows.size(); ++i) std::copy_n(truth.row(test.rows[i]).data(), truth.cols(), test.truth.row(i).data());
    std::fprintf(log, "tuning on query rows %zu-%zu (%zu queries), measuring on the other %zu\n", first, last - 1, last - first, test.rows.size());
    run_tuning(data.corpus, data.queries, tuning_queries, test, o.tune, masses, o.threads, o.repeat, exact, log);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    g_cpu_time = o.cpu_time;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they are printed
    try {
        std::FILE* log = o.csv ? stderr : stdout;
        if (o.csv) print_csv_header(!o.selectivities.empty());
        const Data data = load_data(o, log);
        Timer build_timer;
        InvertedIndexBuildParams ep;
        ep.threads = o.threads;
        const auto exact = InvertedIndex::build(data.corpus, ep);
        const double exact_build = build_timer.seconds();
        std::fprintf(log, "exact index: built in %.2f s, %.1f MB\n", exact_build, static_cast<double>(exact.memory_bytes()) / 1e6);

        Bench bench(o, data, exact, exact_build, log);
        bench.make_truth();
        bench.make_filter_cases();
        bench.run_exact();
        if (!o.tune.empty()) {
            run_tuning_command(o, data, bench.truth, exact, log);
            return 0;
        }
        bench.run_clustered();
        bench.print_results();
    } catch (const Error& e) {
        std::fprintf(stderr, "sparse_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
