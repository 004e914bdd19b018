// hnsw_bench: recall@10 vs latency of HnswIndex (one thread, one query at a time, an ef sweep) on an fvecs data set,
// optionally against hnswlib built in the same program on the same data with the same M / ef_construction /
// threads and the same compiler flags (`--peer hnswlib`; needs Debian's header-only libhnswlib-dev, found by CMake:
// a benchmark-only dependency, never one of the library's).
//
//   hnsw_bench --base B.fvecs --queries Q.fvecs [--ground-truth GT.ivecs] --metric ip|l2|cosine [--k 10]
//              [--max-queries N] [--M 16] [--ef-construction 200] [--storage f32,f16,int8-dim] [--keep-f32 1] [--rerank-storage f32|f16]
//              [--ef 10,20,40,80,160] [--build-threads 0] [--repeat 3] [--filter 0.1,0.01,0.001] [--peer hnswlib] [--csv]
//              [--cache DIR]
//
// Timing: each configuration's single-query pass is repeated --repeat times and the median pass is reported; with
// a peer, the passes of ours and the peer alternate (A/B/A/B) so that a noisy neighbour on the machine hits both.
// --cpu-time counts the searching thread's CPU time instead of wall time (build times stay wall-clock).
// CSV columns: the ten shared by every bench, then bytes_per_vector and filter_selectivity (1 = no filter).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "command_line.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/io/vecs_file.hpp"

#include "hnswlib_peer.hpp"

using namespace sparsedense;

namespace {

struct Row {
    bench::ResultRow base;
    double bytes_per_vector = 0;
    double selectivity = 1.0;
};

void print_row(const Row& r, bool csv) {
    if (csv) {
        std::printf("%s,%s,\"%s\",\"%s\",%.3f,%.4f,%.1f,%.2f,%s,%d,%.1f,%g\n", r.base.system.c_str(), r.base.index.c_str(), r.base.build_params.c_str(),
                    r.base.search_params.c_str(), r.base.build_s, r.base.recall_at_10, r.base.qps, r.base.us_per_query, r.base.mode.c_str(),
                    r.base.search_threads, r.bytes_per_vector, r.selectivity);
    } else {
        std::printf("%-12s %-6s %-34s %-30s build %7.2f s  recall@10 %.4f  %9.1f us/query  %8.1f B/vec  sel %g\n", r.base.system.c_str(),
                    r.base.index.c_str(), r.base.build_params.c_str(), r.base.search_params.c_str(), r.base.build_s, r.base.recall_at_10,
                    r.base.us_per_query, r.bytes_per_vector, r.selectivity);
    }
    std::fflush(stdout);
}

/// One system under test: a name, its build facts and a single-query search.
struct System {
    std::string system, index, build_params;
    double build_s = 0, bytes_per_vector = 0;
    std::function<SearchResults<>(std::span<const float>, std::size_t ef, const IdFilter&)> search;
};

/// Seconds of CPU time this thread has used (--cpu-time: on a shared machine, time spent descheduled is not counted).
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
bool g_cpu_time = false;

/// Times `repeat` passes of every system over the queries, alternating systems pass by pass; returns per system
/// the median pass seconds and the results of the last pass.
std::vector<std::pair<double, std::vector<SearchResults<>>>> interleaved(const std::vector<System*>& systems, DenseMatrixView<const float> queries,
                                                                          std::size_t ef, const IdFilter& filter, int repeat) {
    const std::size_t nq = queries.rows;
    std::vector<std::vector<double>> seconds(systems.size());
    std::vector<std::pair<double, std::vector<SearchResults<>>>> out(systems.size());
    for (std::size_t s = 0; s < systems.size(); ++s) {
        out[s].second.resize(nq);
        for (std::size_t i = 0; i < std::min<std::size_t>(nq, 50); ++i) out[s].second[i] = systems[s]->search(queries.row(i), ef, filter);  // warm-up
    }
    for (int r = 0; r < std::max(repeat, 1); ++r) {
        for (std::size_t s = 0; s < systems.size(); ++s) {
            bench::Timer t;
            const double cpu0 = thread_cpu_seconds();
            for (std::size_t i = 0; i < nq; ++i) out[s].second[i] = systems[s]->search(queries.row(i), ef, filter);
            seconds[s].push_back(g_cpu_time ? thread_cpu_seconds() - cpu0 : t.seconds());
        }
    }
    for (std::size_t s = 0; s < systems.size(); ++s) {
        std::sort(seconds[s].begin(), seconds[s].end());
        out[s].first = seconds[s][seconds[s].size() / 2];
    }
    return out;
}

Row make_row(const System& sys, const std::string& search_params, double seconds, double recall, std::size_t nq, double selectivity) {
    Row row;
    row.base.system = sys.system;
    row.base.index = sys.index;
    row.base.build_params = sys.build_params;
    row.base.search_params = search_params;
    row.base.build_s = sys.build_s;
    row.base.recall_at_10 = recall;
    row.base.us_per_query = seconds * 1e6 / static_cast<double>(nq);
    row.base.qps = static_cast<double>(nq) / seconds;
    row.bytes_per_vector = sys.bytes_per_vector;
    row.selectivity = selectivity;
    return row;
}

/// The command line.
struct Options {
    std::string base, queries, ground_truth, metric, rerank_storage = "f32", peer, cache;
    std::size_t k = 10, max_queries = 1000, M = 16, ef_construction = 200, build_threads = 0, rerank = HnswIndexSearchParams{}.rerank;
    std::size_t filter_queries = 0;  ///< 0: all queries
    int repeat = 3, keep_f32 = 1;
    std::vector<std::string> storages{"f32"};
    std::vector<std::size_t> efs{10, 20, 40, 80, 160, 320};
    std::vector<double> filters;
    bool csv = false, cpu_time = false;
};

Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app("recall@10 vs latency of HnswIndex (one thread, one query at a time, an ef sweep), optionally against hnswlib\n"
                 "built in the same program on the same data (--peer hnswlib). CSV columns: the ten shared by every bench, then\n"
                 "bytes_per_vector and filter_selectivity (1 = no filter).",
                 "hnsw_bench");
    const auto encoding = bench::cli::parsed_by(parse_vector_encoding, "ENCODING");
    app.add_option("--base", o.base, "base vectors (.fvecs)")->required()->check(CLI::ExistingFile);
    app.add_option("--queries", o.queries, "queries (.fvecs)")->required()->check(CLI::ExistingFile);
    app.add_option("--ground-truth", o.ground_truth, "true neighbours (.ivecs; default: exact search with FlatIndex)")->check(CLI::ExistingFile);
    app.add_option("--metric", o.metric, "ip, l2 or cosine")->required()->check(bench::cli::parsed_by(parse_metric, "METRIC"));
    app.add_option("--k", o.k, "neighbours per query")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--max-queries", o.max_queries, "queries read")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--M", o.M, "graph degree")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--ef-construction", o.ef_construction, "build beam width")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--storage", o.storages, "walk payloads, one index each (f32, f16, bf16, int8, int8-dim)")->delimiter(',')->capture_default_str()->check(encoding);
    app.add_option("--keep-f32", o.keep_f32, "1: keep a re-ranking copy beside a reduced payload; 0: none")->capture_default_str()->check(CLI::Range(0, 1));
    app.add_option("--rerank-storage", o.rerank_storage, "encoding of the re-ranking copy")->capture_default_str()->check(encoding);
    app.add_option("--ef", o.efs, "search beam widths swept")->delimiter(',')->capture_default_str()->check(bench::cli::positive);
    app.add_option("--rerank", o.rerank, "candidates re-scored exactly")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--build-threads", o.build_threads, "0 = all hardware threads")->capture_default_str()->check(bench::cli::non_negative);
    app.add_option("--repeat", o.repeat, "timed passes per configuration (the median is reported)")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--filter", o.filters, "selectivities of random bitset filters (filtered rows, ours only)")->delimiter(',')->check(bench::cli::fraction);
    app.add_option("--filter-queries", o.filter_queries, "the filtered rows use the first N queries (default: all)")->check(bench::cli::positive);
    app.add_option("--peer", o.peer, "hnswlib: also build and time hnswlib (when CMake found libhnswlib-dev)")->check(CLI::IsMember({"hnswlib"}));
    app.add_flag("--csv", o.csv, "CSV rows instead of the table");
    app.add_flag("--cpu-time", o.cpu_time, "time the search passes in the thread's CPU time instead of wall time (a shared, loaded machine)");
    app.add_option("--cache", o.cache, "save every built index in DIR and load it from there when present (build_s is then the first build's)");
    bench::cli::parse(app, argc, argv);
    return o;
}

/// --cache: the file of one index in DIR (named by the base file, its row count and the build parameters), or "".
std::string cache_key(const Options& o, std::size_t rows, const std::string& what) {
    if (o.cache.empty()) return "";
    std::filesystem::create_directories(o.cache);
    const std::string base = std::filesystem::path(o.base).parent_path().filename().string();
    return detail::concat(o.cache, "/", base, "-", rows, "-", what, ".idx");
}
void write_seconds(const std::string& key, double s) { std::ofstream(key + ".build_s") << s; }
double read_seconds(const std::string& key) {
    double s = 0;
    std::ifstream(key + ".build_s") >> s;
    return s;
}

/// Base, queries and the ground truth (the given file's, else FlatIndex's exact top-k).
struct Data {
    DenseMatrix<float> base, queries;
    DenseMatrix<std::int32_t> truth;
};

Data load_data(const Options& o, Metric metric) {
    Data data;
    data.base = io::read_fvecs(o.base);
    data.queries = io::read_fvecs(o.queries, o.max_queries);
    const std::size_t nq = data.queries.rows();
    if (!o.ground_truth.empty()) {
        data.truth = io::read_ivecs(o.ground_truth, nq);
    } else {
        const FlatIndex flat = FlatIndex::build(data.base.view(), metric);
        data.truth = DenseMatrix<std::int32_t>(nq, o.k);
        for (std::size_t q = 0; q < nq; ++q) {
            const auto hits = flat.search(data.queries.view().row(q), o.k);
            for (std::size_t i = 0; i < o.k; ++i) data.truth[q][i] = static_cast<std::int32_t>(hits[i].id);
        }
    }
    return data;
}

/// The systems under test: ours (one index per --storage) and, with --peer hnswlib, hnswlib.
struct Systems {
    std::vector<std::unique_ptr<HnswIndex>> ours;
#if defined(SPARSEDENSE_HAVE_HNSWLIB)
    std::unique_ptr<bench::HnswlibPeer> peer;
#endif
    std::vector<System> all;  ///< ours in --storage order, then the peer
};

void build_ours(const Options& o, const DenseMatrix<float>& base, Metric metric, Systems& systems, std::FILE* log) {
    const bool keep_f32 = o.keep_f32 != 0;
    const std::size_t k = o.k, rerank = o.rerank, m = o.M, efc = o.ef_construction;
    const std::size_t build_threads = detail::resolve_threads(o.build_threads);
    const VectorEncoding rerank_storage = parse_vector_encoding(o.rerank_storage);
    const std::string copy_name = detail::concat("+", vector_encoding_name(rerank_storage));
    for (const auto& name : o.storages) {
        const HnswIndexBuildParams bp{.M = m, .ef_construction = efc, .storage = parse_vector_encoding(name), .keep_f32 = keep_f32,
                                      .rerank_storage = rerank_storage, .threads = build_threads};
        const std::string key = cache_key(o, base.rows(), detail::concat("ours-", name, "-", keep_f32, rerank_storage == VectorEncoding::f32 ? std::string() : copy_name, "-", m, "-", efc, "-", metric_name(metric)));
        bench::Timer t;
        double build_s = 0;
        if (!key.empty() && std::filesystem::exists(key)) {
            systems.ours.push_back(std::make_unique<HnswIndex>(HnswIndex::load(key)));
            build_s = read_seconds(key);
        } else {
            systems.ours.push_back(std::make_unique<HnswIndex>(HnswIndex::build(base.view(), metric, bp)));
            build_s = t.seconds();
            if (!key.empty()) systems.ours.back()->save(key), write_seconds(key, build_s);
        }
        const HnswIndex& index = *systems.ours.back();
        System s{"sparsedense", "hnsw",
                 detail::concat("M=", m, " efc=", efc, " ", name, keep_f32 && name != "f32" ? copy_name : std::string(), " threads=", build_threads), build_s,
                 index.bytes_per_vector(), nullptr};
        s.search = [&index, k, rerank](std::span<const float> q, std::size_t ef, const IdFilter& f) {
            return index.search(q, k, {.ef = ef, .rerank = rerank}, f);
        };
        std::fprintf(log, "built ours (%s) in %.2f s, %.1f bytes/vector\n", name.c_str(), s.build_s, s.bytes_per_vector);
        systems.all.push_back(std::move(s));
    }
}

void build_peer(const Options& o, const DenseMatrix<float>& base, Metric metric, Systems& systems, std::FILE* log) {
#if defined(SPARSEDENSE_HAVE_HNSWLIB)
    if (o.peer != "hnswlib") return;
    const std::size_t k = o.k, m = o.M, efc = o.ef_construction, build_threads = detail::resolve_threads(o.build_threads);
    const std::string key = cache_key(o, base.rows(), detail::concat("hnswlib-", m, "-", efc, "-", metric_name(metric)));
    const bool was_cached = !key.empty() && std::filesystem::exists(key);
    bench::Timer t;
    systems.peer = std::make_unique<bench::HnswlibPeer>(base.view(), metric, m, efc, build_threads, key);
    double build_s = t.seconds();
    if (was_cached) build_s = read_seconds(key);
    else if (!key.empty()) write_seconds(key, build_s);
    bench::HnswlibPeer* peer = systems.peer.get();
    System s{"hnswlib-0.6.2", "hnsw", detail::concat("M=", m, " efc=", efc, " f32 threads=", build_threads), build_s, peer->bytes_per_vector(), nullptr};
    s.search = [peer, k](std::span<const float> q, std::size_t ef, const IdFilter&) { return peer->search(q, k, ef); };
    std::fprintf(log, "built hnswlib in %.2f s, %.1f bytes/vector\n", s.build_s, s.bytes_per_vector);
    systems.all.push_back(std::move(s));
#else
    (void)base, (void)metric, (void)systems, (void)log;
    if (!o.peer.empty()) std::fprintf(stderr, "note: built without hnswlib (libhnswlib-dev not found): --peer ignored\n");
#endif
}

/// The unfiltered ef sweep over every system, their passes interleaved.
void run_unfiltered(const Options& o, std::vector<System>& systems, const Data& data) {
    const std::size_t nq = data.queries.rows();
    std::vector<System*> all;
    for (auto& s : systems) all.push_back(&s);
    for (const std::size_t ef : o.efs) {
        const auto timed = interleaved(all, data.queries.view(), ef, {}, o.repeat);
        for (std::size_t s = 0; s < all.size(); ++s)
            print_row(make_row(*all[s], detail::concat("ef=", ef), timed[s].first, bench::recall_at_k(timed[s].second, data.truth.view(), std::min<std::size_t>(o.k, 10)), nq, 1.0), o.csv);
    }
}

/// A random bitset accepting about `selectivity` of the rows (seed 17) and the exact top-k under it of the first `fq` queries.
std::pair<IdBitset, DenseMatrix<std::int32_t>> filter_case(const FlatIndex& flat, const Data& data, double selectivity, std::size_t fq, std::size_t k) {
    IdBitset bits(data.base.rows());
    std::mt19937_64 rng(17);
    std::bernoulli_distribution take(selectivity);
    for (std::size_t i = 0; i < data.base.rows(); ++i)
        if (take(rng)) bits.set(i);
    DenseMatrix<std::int32_t> ftruth(fq, k, -1);
    for (std::size_t q = 0; q < fq; ++q) {
        const auto hits = flat.search(data.queries.view().row(q), k, {}, bits);
        for (std::size_t i = 0; i < hits.size(); ++i) ftruth[q][i] = static_cast<std::int32_t>(hits[i].id);
    }
    return {std::move(bits), std::move(ftruth)};
}

/// Filtered rows (ours only: hnswlib 0.6.2 has no filter), truth from the exact filtered scan; both plans whatever the
/// default threshold would choose: the walk over the ef sweep, the exact scan once.
void run_filtered(const Options& o, const Systems& systems, const Data& data, Metric metric) {
    if (o.filters.empty()) return;
    const std::size_t nq = data.queries.rows(), k = o.k, rerank = o.rerank;
    const FlatIndex flat = FlatIndex::build(data.base.view(), metric);
    const std::size_t fq = std::min<std::size_t>(nq, o.filter_queries ? o.filter_queries : nq);
    const DenseMatrixView<const float> fqueries = data.queries.view().slice(0, fq);
    for (double sel : o.filters) {
        const auto [bits, ftruth] = filter_case(flat, data, sel, fq, k);
        std::vector<System> plans;
        for (std::size_t s = 0; s < systems.ours.size(); ++s) {
            for (double fraction : {0.0, 1.0}) {
                System p = systems.all[s];
                const HnswIndex& index = *systems.ours[s];
                p.search = [&index, k, rerank, fraction](std::span<const float> q, std::size_t ef, const IdFilter& f) {
                    return index.search(q, k, {.ef = ef, .exact_scan_fraction = fraction, .rerank = rerank}, f);
                };
                plans.push_back(std::move(p));
            }
        }
        for (const std::size_t ef : o.efs) {
            std::vector<System*> mine;
            for (std::size_t s = 0; s < plans.size(); ++s)
                if (s % 2 == 0 || ef == o.efs.front()) mine.push_back(&plans[s]);
            const auto timed = interleaved(mine, fqueries, ef, bits, o.repeat);
            for (std::size_t s = 0; s < mine.size(); ++s) {
                const bool exact = (mine[s] - plans.data()) % 2 == 1;
                print_row(make_row(*mine[s], exact ? std::string("plan=exact") : detail::concat("ef=", ef, " plan=walk"), timed[s].first,
                                   bench::recall_at_k(timed[s].second, ftruth.view(), std::min<std::size_t>(k, 10)), fq, sel),
                          o.csv);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    try {
        g_cpu_time = o.cpu_time;
        std::FILE* log = o.csv ? stderr : stdout;
        const Metric metric = parse_metric(o.metric);
        const Data data = load_data(o, metric);
        std::fprintf(log, "data: %zu x %zu base, %zu queries, metric %s, SIMD %s, build threads %zu\n", data.base.rows(), data.base.cols(),
                     data.queries.rows(), metric_name(metric), simd::simd_level_name(simd::active_simd_level()), detail::resolve_threads(o.build_threads));
        if (o.csv) std::printf("system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads,bytes_per_vector,filter_selectivity\n");
        Systems systems;
        build_ours(o, data.base, metric, systems, log);
        build_peer(o, data.base, metric, systems, log);
        run_unfiltered(o, systems.all, data);
        run_filtered(o, systems, data, metric);
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
