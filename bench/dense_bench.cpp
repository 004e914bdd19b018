// dense_bench: recall@10 vs latency/throughput of the dense indexes (FlatIndex, IvfPqIndex 8-bit ADC and 4-bit
// fast-scan) on an fvecs data set or on seeded synthetic clustered data.
//
//   dense_bench --base B.fvecs --queries Q.fvecs [--ground-truth GT.ivecs] --metric ip|l2|cosine [--k 10]
//               [--threads 1] [--csv] [--max-queries N] [--synthetic N [--dim D]]
//               [--nlist a,b] [--m a,b] [--nbits 4,8] [--nprobe a,b] [--refine a,b] [--refine-encoding f16]
//               [--opq] [--no-flat] [--repeat R] [--filter-selectivity 1,0.1,0.01,0.001] [--exact-scan-fraction a,b]
//               [--no-ivf] [--hnsw-ef a,b [--hnsw-M 16] [--hnsw-efc 200] [--hnsw-storage f32,int8+f16] [--peer hnswlib]]
//
// For every configuration it prints recall@10 against the ground truth (computed exactly with FlatIndex when no
// file is given), the mean single-thread latency of one query at a time (mode "single"), and the throughput of
// search_batch over --threads threads (mode "batch"), with bytes per vector and build seconds in the build
// parameters. --csv prints exactly one header line and the rows in the columns shared with sparse_bench.
// --filter-selectivity adds, for every IVF-PQ configuration, one single-thread row per selectivity: searches under a
// random bitset filter accepting that fraction of the base vectors (fixed seed), recall@10 against the exact top-10
// among the accepted vectors (brute force with simd::dot / l2_squared), latency. The CSV then gains a last column,
// filter_selectivity (empty on unfiltered rows). --exact-scan-fraction sweeps IvfPqIndexSearchParams::
// exact_scan_fraction (the plan threshold; default: the library's).
// --hnsw-ef adds HnswIndex rows: one index per M x ef_construction x storage ("payload[+copy]": f32, f16, int8,
// int8+f16, int8-dim+none, ...; the copy re-ranks, f32 by default), an ef sweep, build seconds and bytes per vector
// in the build parameters. --peer hnswlib (when CMake found Debian's libhnswlib-dev) builds hnswlib on the same data
// with the same M / ef_construction / --build-threads, compiled into this program with our flags, and times its
// passes alternating with ours (A/B/A/B); its rows have system hnswlib-0.6.2. --no-ivf skips the IVF-PQ sweep.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "command_line.hpp"
#include "hnswlib_peer.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/dense/opq.hpp"
#include "sparsedense/core/id_filter.hpp"
#include "sparsedense/core/parallel.hpp"
#include "sparsedense/io/vecs_file.hpp"

using namespace sparsedense;
using bench::ResultRow;

namespace {

/// The command line.
struct Options {
    std::string base, queries, ground_truth, metric, refine_encoding = "f16", peer;
    std::size_t k = 10, threads = 1, max_queries = 1000, synthetic = 0, dim = 128, max_base = 0, build_threads = 0;
    std::size_t coarse_iterations = IvfPqIndexBuildParams{}.coarse_iterations, coarse_sample = IvfPqIndexBuildParams{}.coarse_points_per_centroid;
    int repeat = 1;
    std::vector<std::size_t> nlists, nbits{4, 8}, ms, nprobes{8, 16, 32, 64}, refines{4, 16}, hnsw_efs, hnsw_ms{16}, hnsw_efcs{200};
    std::vector<std::string> flat_storages, hnsw_storages{"f32"};
    std::vector<double> selectivities, scan_fractions;
    bool csv = false, opq = false, no_flat = false, no_ivf = false;
};

/// The data flags; `check` receives the constraints between them.
void add_data_options(CLI::App& app, Options& o) {
    app.add_option("--base", o.base, "base vectors (.fvecs)")->check(CLI::ExistingFile);
    app.add_option("--queries", o.queries, "queries (.fvecs)")->check(CLI::ExistingFile);
    app.add_option("--ground-truth", o.ground_truth, "true neighbours (.ivecs; default: exact search with FlatIndex)")->check(CLI::ExistingFile);
    app.add_option("--metric", o.metric, "ip, l2 or cosine (default with --synthetic: l2)")->check(bench::cli::parsed_by(parse_metric, "METRIC"));
    app.add_option("--synthetic", o.synthetic, "seeded clustered data (N base vectors, 1000 queries) instead of files")->check(bench::cli::positive);
    app.add_option("--dim", o.dim, "dimensions of --synthetic data")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--max-base", o.max_base, "base vectors read (default: all)")->check(bench::cli::positive);
    app.add_option("--max-queries", o.max_queries, "queries read (or generated, at most 1000)")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--k", o.k, "neighbours per query")->capture_default_str()->check(bench::cli::number_in(1, 100, false, "in [1, 100]"));
    app.add_option("--threads", o.threads, "threads of the batch rows")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--repeat", o.repeat, "time each single-thread configuration R times and report the median pass (noisy machines)")
        ->capture_default_str()->check(bench::cli::positive);
    app.add_flag("--csv", o.csv, "CSV rows (one header line) instead of the table");
}

Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app("recall@10 vs latency/throughput of the dense indexes (FlatIndex, IvfPqIndex 8-bit ADC and 4-bit fast-scan,\n"
                 "HnswIndex with --hnsw-ef) on an fvecs data set or on seeded synthetic clustered data.",
                 "dense_bench");
    add_data_options(app, o);
    const auto encoding = bench::cli::parsed_by(parse_vector_encoding, "ENCODING");
    app.add_flag("--no-flat", o.no_flat, "no exact flat rows");
    app.add_option("--flat-storage", o.flat_storages, "extra flat rows over these storage encodings (index flat-<encoding>)")->delimiter(',')->check(encoding);
    app.add_flag("--no-ivf", o.no_ivf, "skip the IVF-PQ sweep");
    app.add_option("--nlist", o.nlists, "coarse lists (default: about 4 sqrt(n), a power of 2)")->delimiter(',')->check(bench::cli::positive);
    app.add_option("--m", o.ms, "PQ sub-quantizers (default: d/4 for 4 bits, d/8 for 8)")->delimiter(',')->check(bench::cli::positive);
    app.add_option("--nbits", o.nbits, "PQ code bits (4 = fast-scan)")->delimiter(',')->capture_default_str()->check(CLI::IsMember({4, 8}));
    app.add_option("--nprobe", o.nprobes, "lists probed")->delimiter(',')->capture_default_str()->check(bench::cli::positive);
    app.add_option("--refine", o.refines, "refine factor (PQ candidates re-ranked per result; 0 = none)")->delimiter(',')->capture_default_str()
        ->check(bench::cli::non_negative);
    app.add_option("--refine-encoding", o.refine_encoding, "encoding of the re-ranking copy (f32, f16, bf16, int8)")->capture_default_str()->check(encoding);
    app.add_flag("--opq", o.opq, "train an OPQ rotation");
    app.add_option("--coarse-iterations", o.coarse_iterations, "k-means iterations of the coarse quantizer")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--coarse-sample", o.coarse_sample, "points per coarse centroid used to train k-means")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--build-threads", o.build_threads, "0 = all hardware threads")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--filter-selectivity", o.selectivities, "IVF-PQ rows under random bitset filters accepting these fractions (recall vs the filtered exact top-10)")
        ->delimiter(',')->check(bench::cli::fraction);
    app.add_option("--exact-scan-fraction", o.scan_fractions, "plan thresholds of the filtered rows (default: the library's)")->delimiter(',')->check(bench::cli::unit_interval);
    app.add_option("--hnsw-ef", o.hnsw_efs, "HnswIndex rows (ef sweep) for every --hnsw-M x --hnsw-efc x --hnsw-storage")->delimiter(',')->check(bench::cli::positive);
    app.add_option("--hnsw-M", o.hnsw_ms, "HNSW graph degrees")->delimiter(',')->capture_default_str()->check(bench::cli::positive);
    app.add_option("--hnsw-efc", o.hnsw_efcs, "HNSW build beam widths")->delimiter(',')->capture_default_str()->check(bench::cli::positive);
    const auto payload_copy = [](const std::string& s) {  // "payload[+copy]"
        const auto plus = s.find('+');
        if (plus != std::string::npos && s.substr(plus + 1) != "none") (void)parse_vector_encoding(s.substr(plus + 1));
        return parse_vector_encoding(s.substr(0, plus));
    };
    app.add_option("--hnsw-storage", o.hnsw_storages, "payload[+copy], e.g. int8+f16 (the copy re-ranks; none = no copy)")->delimiter(',')
        ->capture_default_str()->check(bench::cli::parsed_by(payload_copy, "PAYLOAD[+COPY]"));
    app.add_option("--peer", o.peer, "hnswlib: add hnswlib's rows, same M / efc / --build-threads (when CMake found libhnswlib-dev)")
        ->check(CLI::IsMember({"hnswlib"}));
    bench::cli::parse(app, argc, argv, [&o] {
        if (o.synthetic == 0 && (o.base.empty() || o.queries.empty())) throw CLI::ValidationError("give --base and --queries, or --synthetic N");
        if (o.synthetic == 0 && o.metric.empty()) throw CLI::ValidationError("--metric is required with --base");
    });
    if (o.metric.empty()) o.metric = "l2";
    return o;
}

/// n x d points like real embeddings: `clusters` Gaussian centres, each point its centre plus a Gaussian step in a
/// cluster-specific 16-dimensional subspace and a little full-dimensional noise (low intrinsic dimension, clusters
/// larger than an IVF cell), so that a query's neighbours spread over several cells and nprobe / refine visibly
/// change recall. Seeded; base and queries share the centres and subspaces.
DenseMatrix<float> synthetic(std::size_t n, std::size_t d, std::size_t clusters, std::uint64_t seed) {
    constexpr std::size_t kIntrinsic = 16;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::mt19937_64 shape_rng(12345);  // same centres and subspaces for base and queries
    std::vector<float> centres(clusters * d), bases(clusters * d * kIntrinsic);
    for (auto& c : centres) c = normal(shape_rng);
    for (auto& b : bases) b = 0.5f * normal(shape_rng);
    DenseMatrix<float> out(n, d);
    std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
    float z[kIntrinsic];
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = pick(rng);
        for (auto& x : z) x = normal(rng);
        const float* basis = bases.data() + c * d * kIntrinsic;
        for (std::size_t j = 0; j < d; ++j) {
            float v = centres[c * d + j] + 0.05f * normal(rng);
            for (std::size_t t = 0; t < kIntrinsic; ++t) v += basis[j * kIntrinsic + t] * z[t];
            out[i][j] = v;
        }
    }
    return out;
}

std::size_t round_pow2(double x) {
    std::size_t p = 1;
    while (static_cast<double>(p) * 1.41 < x) p *= 2;
    return p;
}

/// Where rows go: the table, and stdout as CSV when asked; with filter rows in the run the CSV gains a last column,
/// filter_selectivity (empty on unfiltered rows).
struct Output {
    bench::ResultTable& table;
    bool csv = false;
    bool filter_column = false;

    static std::string strip_newline(char* text, std::size_t size) {
        std::string line(text, size);
        std::free(text);
        if (!line.empty() && line.back() == '\n') line.pop_back();
        return line;
    }
    void header() const {
        if (!csv) return;
        if (!filter_column) return bench::ResultTable::print_csv_header();
        char* text = nullptr;
        std::size_t size = 0;
        std::FILE* mem = open_memstream(&text, &size);
        bench::ResultTable::print_csv_header(mem);
        std::fclose(mem);
        std::printf("%s,filter_selectivity\n", strip_newline(text, size).c_str());
    }
    void emit(const ResultRow& row, double selectivity = -1) const {
        if (!csv || !filter_column) return table.emit(row, csv);
        char* text = nullptr;
        std::size_t size = 0;
        std::FILE* mem = open_memstream(&text, &size);
        bench::ResultTable::print_csv_row(row, mem);
        std::fclose(mem);
        std::string line = strip_newline(text, size) + ",";
        if (selectivity >= 0) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", selectivity);
            line += buf;
        }
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        table.add(row);
    }
};

/// A random bitset accepting about `fraction` of the base vectors (fixed seed) and, per query, the exact top-k among
/// them (brute force on `scoring_base`, the base as the metric sees it: normalized for cosine).
struct FilterCase {
    double fraction = 1.0;
    IdBitset bits;
    std::size_t accepted = 0;
    DenseMatrix<std::int32_t> truth;
};

FilterCase make_filter_case(const DenseMatrix<float>& scoring_base, const DenseMatrix<float>& scoring_queries, Metric metric, double fraction,
                            std::size_t k, const DenseMatrix<std::int32_t>& unfiltered_truth) {
    const std::size_t n = scoring_base.rows(), d = scoring_base.cols(), nq = scoring_queries.rows();
    FilterCase c;
    c.fraction = fraction;
    c.bits = IdBitset(n);
    std::mt19937_64 rng(20261205);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<std::uint32_t> accepted;
    for (std::size_t i = 0; i < n; ++i)
        if (fraction >= 1.0 || u(rng) < fraction) c.bits.set(i), accepted.push_back(static_cast<std::uint32_t>(i));
    c.accepted = accepted.size();
    if (fraction >= 1.0) {  // every vector accepted: the unfiltered ground truth
        c.truth = unfiltered_truth;
        return c;
    }
    c.truth = DenseMatrix<std::int32_t>(nq, k, -1);
    sparsedense::detail::parallel_for(nq, 0, [&](std::size_t b, std::size_t e, std::size_t) {
        TopKCollector<> top(k);
        for (std::size_t q = b; q < e; ++q) {
            top.reset(k);
            const float* qv = scoring_queries.row(q).data();
            for (const std::uint32_t id : accepted) {
                const float* x = scoring_base.row(id).data();
                top.push(id, metric == Metric::l2 ? -simd::l2_squared(qv, x, d) : simd::dot(qv, x, d));
            }
            const auto best = top.finalize();
            for (std::size_t i = 0; i < best.size(); ++i) c.truth[q][i] = static_cast<std::int32_t>(best[i].id);
        }
    });
    return c;
}

/// A warm-up, then `repeat` timed single-thread passes of one(query) over all queries into `results`:
/// (seconds, per-query microseconds) per pass.
template <class SearchOne>
std::vector<std::pair<double, std::vector<double>>> timed_passes(DenseMatrixView<const float> queries, int repeat, SearchOne&& one,
                                                                 std::vector<SearchResults<>>& results) {
    const std::size_t nq = queries.rows;
    for (std::size_t i = 0; i < std::min<std::size_t>(nq, 50); ++i) results[i] = one(queries.row(i));  // warm-up
    std::vector<std::pair<double, std::vector<double>>> passes;  // (seconds, per-query microseconds)
    for (int r = 0; r < std::max(repeat, 1); ++r) {
        std::vector<double> latencies(nq);
        bench::Timer total;
        for (std::size_t i = 0; i < nq; ++i) {
            bench::Timer t;
            results[i] = one(queries.row(i));
            latencies[i] = t.microseconds();
        }
        passes.emplace_back(total.seconds(), std::move(latencies));
    }
    return passes;
}

template <class SearchOne, class SearchBatch>
void measure(const std::string& index, const std::string& build_params, const std::string& search_params, double build_s,
             double index_bytes, DenseMatrixView<const float> queries, DenseMatrixView<const std::int32_t> truth, std::size_t k,
             std::size_t threads, int repeat, SearchOne&& one, SearchBatch&& batch, const Output& output, std::FILE* log) {
    const bench::ResultTable& table = output.table;
    const std::size_t nq = queries.rows;
    std::vector<SearchResults<>> results(nq);
    auto passes = timed_passes(queries, repeat, one, results);
    const auto& median = bench::median_pass(passes);
    const double pass_seconds = median.first;
    const auto lat = bench::summarize_latencies(median.second);
    ResultRow row;
    row.index = index;
    row.build_params = build_params;
    row.search_params = search_params;
    row.build_s = build_s;
    row.recall_at_10 = bench::recall_at_k(results, truth, std::min<std::size_t>(k, 10));
    row.us_per_query = pass_seconds * 1e6 / static_cast<double>(nq);
    row.qps = static_cast<double>(nq) / pass_seconds;
    row.mode = "single";
    row.search_threads = 1;
    row.p99_us = lat.p99_us;
    row.index_bytes = index_bytes;
    output.emit(row);
    bench::Timer bt;
    const auto batch_results = batch(queries, threads);
    const double bs = bt.seconds();
    output.emit(bench::batch_row(row, bench::recall_at_k(batch_results, truth, std::min<std::size_t>(k, 10)), bs, nq, threads));
    std::fprintf(log, "  %-16s %-40s %-22s recall@10 %.4f  %8.1f us/query (single; p50 %.1f)  %9.0f qps (batch, %zu threads)\n", index.c_str(),
                           build_params.c_str(), search_params.c_str(), table.rows()[table.rows().size() - 2].recall_at_10,
                           table.rows()[table.rows().size() - 2].us_per_query, lat.p50_us, table.rows().back().qps, threads);
}

/// Recall@10 against a filtered truth that may hold fewer than 10 ids (-1 padded): hits / ids in the truth.
double filtered_recall(const std::vector<SearchResults<>>& results, const DenseMatrix<std::int32_t>& truth) {
    double total = 0.0;
    for (std::size_t q = 0; q < results.size(); ++q) {
        std::size_t want = 0, hit = 0;
        for (std::size_t i = 0; i < std::min<std::size_t>(truth.cols(), 10); ++i) {
            const std::int32_t t = truth[q][i];
            if (t < 0) continue;
            ++want;
            for (std::size_t j = 0; j < std::min<std::size_t>(results[q].size(), 10); ++j) hit += results[q][j].id == static_cast<std::uint32_t>(t);
        }
        total += want ? static_cast<double>(hit) / static_cast<double>(want) : 1.0;
    }
    return results.empty() ? 0.0 : total / static_cast<double>(results.size());
}

/// One filtered row: single-thread passes under the case's filter, recall@10 against its exact top-10.
template <class SearchOne>
void measure_filtered(const std::string& index, const std::string& build_params, const std::string& search_params, double build_s,
                      double index_bytes, DenseMatrixView<const float> queries, const FilterCase& fc, int repeat, SearchOne&& one,
                      const Output& output, std::FILE* log) {
    const std::size_t nq = queries.rows;
    std::vector<SearchResults<>> results(nq);
    auto passes = timed_passes(queries, repeat, one, results);
    std::size_t rejected = 0;  // results outside the filter (must stay 0)
    for (const auto& res : results)
        for (const auto& h : res) rejected += fc.bits.test(h.id) ? 0 : 1;
    if (rejected) raise(ErrorKind::invalid_data, "dense_bench: ", rejected, " results outside the filter");
    const auto& median = bench::median_pass(passes);
    const auto lat = bench::summarize_latencies(median.second);
    ResultRow row;
    row.index = index;
    row.build_params = build_params;
    row.search_params = search_params;
    row.build_s = build_s;
    row.recall_at_10 = filtered_recall(results, fc.truth);
    row.us_per_query = median.first * 1e6 / static_cast<double>(nq);
    row.qps = static_cast<double>(nq) / median.first;
    row.p99_us = lat.p99_us;
    row.index_bytes = index_bytes;
    output.emit(row, fc.fraction);
    std::fprintf(log, "  %-16s %-40s %-40s recall@10 %.4f  %8.1f us/query (single; p50 %.1f)  filter %.4g (%zu accepted)\n", index.c_str(),
                 build_params.c_str(), search_params.c_str(), row.recall_at_10, row.us_per_query, lat.p50_us, fc.fraction, fc.accepted);
}

/// One FilterCase per selectivity, scored on the base as the metric sees it (normalized for cosine).
std::vector<FilterCase> make_filter_cases(const DenseMatrix<float>& base, const DenseMatrix<float>& queries, Metric metric,
                                          const std::vector<double>& selectivities, const DenseMatrix<std::int32_t>& truth) {
    std::vector<FilterCase> cases;
    if (selectivities.empty()) return cases;
    DenseMatrix<float> sb(base.view()), sq(queries.view());
    if (metric == Metric::cosine) {
        for (std::size_t i = 0; i < sb.rows(); ++i) sparsedense::detail::normalize_in_place(sb.row(i));
        for (std::size_t i = 0; i < sq.rows(); ++i) sparsedense::detail::normalize_in_place(sq.row(i));
    }
    for (const double f : selectivities) cases.push_back(make_filter_case(sb, sq, metric, f, 10, truth));
    return cases;
}

/// The searches of one built IVF-PQ index: every nprobe x refine, unfiltered, then under each filter and plan threshold.
struct Sweep {
    DenseMatrixView<const float> queries;
    DenseMatrixView<const std::int32_t> truth;
    std::size_t k, threads;
    int repeat;
    const std::vector<FilterCase>& filter_cases;
    std::vector<double> scan_fractions;
    const Output& output;
    std::FILE* log;

    void run(const IvfPqIndex<>& index, const std::string& name, const std::string& bp, double build_s, std::size_t nlist,
             const std::vector<std::size_t>& nprobes, const std::vector<std::size_t>& refines) const {
        const double bytes = static_cast<double>(index.memory_bytes());
        for (std::size_t nprobe : nprobes) {
            if (nprobe > nlist) continue;
            for (std::size_t rf : refines) {
                const IvfPqIndexSearchParams sp{.nprobe = nprobe, .refine_factor = rf};
                char spb[64];
                std::snprintf(spb, sizeof spb, "nprobe=%zu;refine=%zu", nprobe, rf);
                measure(name, bp, spb, build_s, bytes, queries, truth, k, threads, repeat,
                        [&](std::span<const float> q) { return index.search(q, k, sp); },
                        [&](DenseMatrixView<const float> qs, std::size_t t) { return index.search_batch(qs, k, sp, t); }, output, log);
                for (const FilterCase& fc : filter_cases) {
                    const IdFilter filter(fc.bits);
                    const std::vector<double> fractions = scan_fractions.empty() ? std::vector<double>{sp.exact_scan_fraction} : scan_fractions;
                    for (const double esf : fractions) {
                        IvfPqIndexSearchParams fsp = sp;
                        fsp.exact_scan_fraction = esf;
                        char fpb[128];
                        std::snprintf(fpb, sizeof fpb, "%s;filter=%g;esf=%g", spb, fc.fraction, esf);
                        measure_filtered(name, bp, fpb, build_s, bytes, queries, fc, repeat,
                                         [&](std::span<const float> q) { return index.search(q, k, fsp, filter); }, output, log);
                    }
                }
            }
        }
    }
};

/// Trains (with an OPQ rotation when asked) and fills one IVF-PQ index.
IvfPqIndex<> build_ivf(const Options& o, const DenseMatrix<float>& base, Metric metric, std::size_t nlist, std::size_t m,
                       std::size_t nbits, VectorEncoding enc, bool opq) {
    IvfPqIndexBuildParams p;
    p.nlist = nlist;
    p.m = m;
    p.nbits = nbits;
    p.refine_encoding = enc;
    p.threads = o.build_threads;
    p.coarse_iterations = o.coarse_iterations;
    p.coarse_points_per_centroid = o.coarse_sample;
    IvfPqIndex<> index(base.cols(), metric, p);
    if (opq) {
        OpqParams op;
        op.m = m;
        op.nbits = nbits;
        op.threads = p.threads;
        index.train(base.view(), train_opq(base.view(), op));
    } else {
        index.train(base.view());
    }
    index.add(base.view());
    return index;
}

// ---- HNSW rows (--hnsw-ef) and the optional hnswlib peer

/// "payload[+copy]" -> build parameters: int8+f16 = int8 walk with an f16 re-ranking copy, int8+none = no copy.
HnswIndexBuildParams hnsw_params(const std::string& storage, std::size_t m, std::size_t efc, std::size_t threads) {
    const auto plus = storage.find('+');
    HnswIndexBuildParams p{.M = m, .ef_construction = efc, .storage = parse_vector_encoding(storage.substr(0, plus)), .threads = threads};
    const std::string copy = plus == std::string::npos ? "f32" : storage.substr(plus + 1);
    p.keep_f32 = copy != "none";
    if (p.keep_f32) p.rerank_storage = parse_vector_encoding(copy);
    return p;
}

/// One HNSW system's rows over the ef sweep; with a peer, the passes of ours and the peer alternate.
struct HnswRows {
    const Sweep& sweep;
    std::vector<std::size_t> efs;

    using SearchOne = std::function<SearchResults<>(std::span<const float>, std::size_t ef)>;
    struct System {
        std::string system, build_params;
        double build_s = 0, bytes = 0;
        SearchOne one;
        std::function<std::vector<SearchResults<>>(DenseMatrixView<const float>, std::size_t ef, std::size_t threads)> batch;  // may be empty
    };

    void run(const std::vector<System>& systems) const {
        const std::size_t nq = sweep.queries.rows, k10 = std::min<std::size_t>(sweep.k, 10);
        for (std::size_t ef : efs) {
            std::vector<std::vector<std::pair<double, std::vector<double>>>> passes(systems.size());
            std::vector<std::vector<SearchResults<>>> results(systems.size(), std::vector<SearchResults<>>(nq));
            for (int r = 0; r < std::max(sweep.repeat, 1); ++r)
                for (std::size_t s = 0; s < systems.size(); ++s) {
                    auto one = [&](std::span<const float> q) { return systems[s].one(q, ef); };
                    passes[s].push_back(timed_passes(sweep.queries, 1, one, results[s]).front());
                }
            for (std::size_t s = 0; s < systems.size(); ++s) {
                const auto& median = bench::median_pass(passes[s]);
                ResultRow row;
                row.system = systems[s].system;
                row.index = "hnsw";
                row.build_params = systems[s].build_params;
                row.search_params = "ef=" + std::to_string(ef);
                row.build_s = systems[s].build_s;
                row.recall_at_10 = bench::recall_at_k(results[s], sweep.truth, k10);
                row.us_per_query = median.first * 1e6 / static_cast<double>(nq);
                row.qps = static_cast<double>(nq) / median.first;
                row.p99_us = bench::summarize_latencies(median.second).p99_us;
                row.index_bytes = systems[s].bytes;
                sweep.output.emit(row);
                std::fprintf(sweep.log, "  %-14s hnsw %-40s ef=%-5zu recall@10 %.4f  %8.1f us/query (single)\n", row.system.c_str(),
                             row.build_params.c_str(), ef, row.recall_at_10, row.us_per_query);
                if (!systems[s].batch) continue;
                bench::Timer bt;
                const auto batch = systems[s].batch(sweep.queries, ef, sweep.threads);
                sweep.output.emit(bench::batch_row(row, bench::recall_at_k(batch, sweep.truth, k10), bt.seconds(), nq, sweep.threads));
            }
        }
    }
};

void run_hnsw(const Options& o, const DenseMatrix<float>& base, Metric metric, const Sweep& sweep) {
    const HnswRows rows{sweep, o.hnsw_efs};
    const std::vector<std::size_t>& ms = o.hnsw_ms;
    const std::vector<std::size_t>& efcs = o.hnsw_efcs;
    const std::vector<std::string>& storages = o.hnsw_storages;
    const std::size_t threads = detail::resolve_threads(o.build_threads);
    const std::size_t k = sweep.k;
    for (std::size_t m : ms) {
        for (std::size_t efc : efcs) {
            std::vector<std::unique_ptr<HnswIndex>> indexes;
            std::vector<HnswRows::System> systems;
            for (const std::string& storage : storages) {
                bench::Timer bt;
                indexes.push_back(std::make_unique<HnswIndex>(HnswIndex::build(base.view(), metric, hnsw_params(storage, m, efc, threads))));
                const HnswIndex* index = indexes.back().get();
                char bp[160];
                std::snprintf(bp, sizeof bp, "M=%zu;efc=%zu;storage=%s;threads=%zu;B/vec=%.1f", m, efc, storage.c_str(), threads, index->bytes_per_vector());
                systems.push_back({"sparsedense", bp, bt.seconds(), static_cast<double>(index->memory_bytes()),
                                   [index, k](std::span<const float> q, std::size_t ef) { return index->search(q, k, {.ef = ef}); },
                                   [index, k](DenseMatrixView<const float> qs, std::size_t ef, std::size_t t) { return index->search_batch(qs, k, {.ef = ef}, t); }});
            }
#if defined(SPARSEDENSE_HAVE_HNSWLIB)
            std::unique_ptr<bench::HnswlibPeer> peer;
            if (o.peer == "hnswlib") {
                bench::Timer bt;
                peer = std::make_unique<bench::HnswlibPeer>(base.view(), metric, m, efc, threads);
                char bp[160];
                std::snprintf(bp, sizeof bp, "M=%zu;efc=%zu;storage=f32;threads=%zu;B/vec=%.1f", m, efc, threads, peer->bytes_per_vector());
                bench::HnswlibPeer* p = peer.get();
                systems.push_back({"hnswlib-0.6.2", bp, bt.seconds(), p->bytes_per_vector() * static_cast<double>(base.rows()),
                                   [p, k](std::span<const float> q, std::size_t ef) { return p->search(q, k, ef); }, nullptr});
            }
#else
            if (!o.peer.empty()) std::fprintf(stderr, "dense_bench: built without hnswlib (libhnswlib-dev not found): --peer ignored\n");
#endif
            rows.run(systems);
        }
    }
}

/// The closing line: the flat scan's latency and, per recall target, the fastest approximate row reaching it.
void print_summary(const bench::ResultTable& table) {
    double flat_us = 0;
    for (const auto& r : table.rows())
        if (r.index == "flat" && r.mode == "single") flat_us = r.us_per_query;
    std::printf("\nsummary:");
    if (flat_us > 0) std::printf(" flat (exact) %.1f us/query;", flat_us);
    for (const double target : {0.90, 0.95, 0.99}) {
        const bench::ResultRow* best = nullptr;
        for (const auto& r : table.rows())
            if (r.index != "flat" && r.mode == "single" && r.search_params.find("filter=") == std::string::npos && r.recall_at_10 >= target && (!best || r.us_per_query < best->us_per_query)) best = &r;
        if (!best) {
            std::printf(" recall@10 >= %.2f: not reached;", target);
            continue;
        }
        std::printf(" recall@10 >= %.2f: %s %s %s at %.1f us/query", target, best->index.c_str(), best->build_params.c_str(),
                    best->search_params.c_str(), best->us_per_query);
        if (flat_us > 0) std::printf(" (%.1fx faster than flat)", flat_us / best->us_per_query);
        std::printf(";");
    }
    std::printf("\n");
}

/// Base, queries and (when given) the ground truth, from files or generated (--synthetic).
struct Data {
    DenseMatrix<float> base, queries;
    DenseMatrix<std::int32_t> truth;
    std::string name;
};

Data load_data(const Options& o) {
    Data data;
    if (o.synthetic) {
        const std::size_t n = o.synthetic, d = o.dim;
        const std::size_t clusters = std::max<std::size_t>(8, n / 5000);
        data.base = synthetic(n, d, clusters, 1);
        data.queries = synthetic(std::min<std::size_t>(o.max_queries, 1000), d, clusters, 2);
        data.name = "synthetic-" + std::to_string(n) + "x" + std::to_string(d);
        return data;
    }
    data.base = io::read_fvecs(o.base, o.max_base ? o.max_base : static_cast<std::size_t>(-1));
    data.queries = io::read_fvecs(o.queries, o.max_queries);
    if (data.queries.cols() != data.base.cols())
        raise(ErrorKind::dimension_mismatch, "queries (", data.queries.cols(), " dimensions) and base (", data.base.cols(), ") differ");
    data.name = o.base;
    if (!o.ground_truth.empty()) {
        data.truth = io::read_ivecs(o.ground_truth, data.queries.rows());
        if (data.truth.rows() < data.queries.rows())
            raise(ErrorKind::invalid_data, "ground truth has fewer rows (", data.truth.rows(), ") than queries (", data.queries.rows(), ")");
    }
    return data;
}

/// The flat rows: exact (unless --no-flat) and over each --flat-storage encoding. The exact flat index is also the
/// ground truth when none was given (or it holds fewer than min(k, 10) neighbours).
void run_flat(const Options& o, Data& data, Metric metric, const Output& output, std::FILE* log) {
    const std::size_t k = o.k, d = data.base.cols(), nq = data.queries.rows();
    const DenseMatrix<float>& base = data.base;
    const DenseMatrix<float>& queries = data.queries;
    FlatIndex flat(d, metric);
    bench::Timer build_timer;
    flat.add(base.view());
    const double flat_build = build_timer.seconds();
    DenseMatrix<std::int32_t>& truth = data.truth;
    if (truth.rows() == 0 || truth.cols() < std::min<std::size_t>(k, 10)) {
        const auto gt = flat.search_batch(queries.view(), std::max<std::size_t>(k, 10), {}, 0);
        truth = DenseMatrix<std::int32_t>(nq, std::max<std::size_t>(k, 10), -1);
        for (std::size_t q = 0; q < nq; ++q)
            for (std::size_t i = 0; i < gt[q].size(); ++i) truth[q][i] = static_cast<std::int32_t>(gt[q][i].id);
    }
    if (!o.no_flat)
        measure("flat", "f32,B/vec=" + std::to_string(flat.bytes_per_vector()), "exact", flat_build, static_cast<double>(flat.memory_bytes()),
                queries.view(), truth.view(), k, o.threads, o.repeat, [&](std::span<const float> q) { return flat.search(q, k); },
                [&](DenseMatrixView<const float> qs, std::size_t t) { return flat.search_batch(qs, k, {}, t); }, output, log);

    // reduced-precision storage (--flat-storage f16,int8,...): rows "flat-<encoding>"
    for (const std::string& name : o.flat_storages) {
        const VectorEncoding fe = parse_vector_encoding(name);
        bench::Timer ft;
        FlatIndex reduced(d, metric, fe);
        reduced.add(base.view());
        const double fb = ft.seconds();
        measure(std::string("flat-") + vector_encoding_name(fe), std::string(vector_encoding_name(fe)) + ",B/vec=" + std::to_string(reduced.bytes_per_vector()),
                "exact-on-stored", fb, static_cast<double>(reduced.memory_bytes()), queries.view(), truth.view(), k, o.threads, o.repeat,
                [&](std::span<const float> q) { return reduced.search(q, k); },
                [&](DenseMatrixView<const float> qs, std::size_t t) { return reduced.search_batch(qs, k, {}, t); }, output, log);
    }
}

/// The IVF-PQ sweep: one index per nlist x nbits x m, each searched over nprobe x refine (and the filters).
void run_ivf(const Options& o, const DenseMatrix<float>& base, Metric metric, const Sweep& sweep) {
    if (o.no_ivf) return;
    const std::size_t n = base.rows(), d = base.cols();
    std::vector<std::size_t> nlists = o.nlists;
    if (nlists.empty()) nlists = {std::max<std::size_t>(1, std::min(n / 32, round_pow2(4.0 * std::sqrt(static_cast<double>(n)))))};
    const VectorEncoding enc = parse_vector_encoding(o.refine_encoding);
    for (std::size_t nlist : nlists) {
        for (std::size_t nbits : o.nbits) {
            std::vector<std::size_t> mlist = o.ms;
            if (mlist.empty()) mlist = nbits == 4 ? std::vector<std::size_t>{std::max<std::size_t>(1, d / 4)} : std::vector<std::size_t>{std::max<std::size_t>(1, d / 8)};
            for (std::size_t m : mlist) {
                bench::Timer bt;
                const IvfPqIndex<> index = build_ivf(o, base, metric, nlist, m, nbits, enc, o.opq);
                const double build_s = bt.seconds();
                char bp[160];
                std::snprintf(bp, sizeof bp, "nlist=%zu;m=%zu;nbits=%zu;refine=%s%s;B/vec=%.1f", nlist, m, nbits, vector_encoding_name(enc),
                              o.opq ? ";opq" : "", index.bytes_per_vector());
                const std::string name = nbits == 4 ? "ivf-pq-fastscan" : "ivf-pq";
                sweep.run(index, name, bp, build_s, nlist, o.nprobes, o.refines);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    try {
        std::FILE* log = o.csv ? stderr : stdout;  // progress: beside the table, or out of the way of the CSV
        const Metric metric = parse_metric(o.metric);
        Data data = load_data(o);
        const std::size_t n = data.base.rows(), d = data.base.cols(), nq = data.queries.rows();
        std::fprintf(log, "dense_bench: %s  n=%zu d=%zu queries=%zu metric=%s k=%zu threads=%zu simd=%s\n", data.name.c_str(), n, d, nq,
                     metric_name(metric), o.k, o.threads, simd::simd_level_name(simd::active_simd_level()));
        bench::ResultTable table;
        const Output output{table, o.csv, !o.selectivities.empty()};
        output.header();
        run_flat(o, data, metric, output, log);
        const std::vector<FilterCase> filter_cases = make_filter_cases(data.base, data.queries, metric, o.selectivities, data.truth);
        const Sweep sweep{data.queries.view(), data.truth.view(), o.k, o.threads, o.repeat, filter_cases, o.scan_fractions, output, log};
        run_ivf(o, data.base, metric, sweep);
        if (!o.hnsw_efs.empty()) run_hnsw(o, data.base, metric, sweep);
        if (!o.csv) {
            table.print_table();
            print_summary(table);
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "dense_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
