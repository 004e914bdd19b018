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
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/io/vecs_file.hpp"

#include "hnswlib_peer.hpp"

using namespace sparsedense;

namespace {

const char* kUsage =
    "hnsw_bench --base B.fvecs --queries Q.fvecs [--ground-truth GT.ivecs] --metric ip|l2|cosine [--k 10] [--max-queries N]\n"
    "           [--M 16] [--ef-construction 200] [--storage f32,f16,bf16,int8,int8-dim] [--keep-f32 1] [--rerank-storage f32]\n"
    "           [--ef 10,20,40,80,160]\n"
    "           [--rerank N] [--build-threads 0] [--repeat 3] [--filter 0.1,0.01] [--filter-queries N]\n"
    "           [--peer hnswlib] [--csv] [--cpu-time]\n"
    "  --filter-queries N  the filtered rows use the first N queries (a selective filter makes the walk long)\n"
    "  --cpu-time  time the search passes in the thread's CPU time instead of wall time (a shared, loaded machine)\n"
    "  --cache DIR  save every built index in DIR and load it from there when present (build_s is then the first build's)";

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

/// --cache: the file of one index in DIR (named by the base file, its row count and the build parameters), or "".
std::string cache_key(const bench::Arguments& args, std::size_t rows, const std::string& what) {
    if (!args.has("--cache")) return "";
    std::filesystem::create_directories(args.get("--cache"));
    const std::string base = std::filesystem::path(args.get("--base")).parent_path().filename().string();
    return detail::concat(args.get("--cache"), "/", base, "-", rows, "-", what, ".idx");
}
void write_seconds(const std::string& key, double s) { std::ofstream(key + ".build_s") << s; }
double read_seconds(const std::string& key) {
    double s = 0;
    std::ifstream(key + ".build_s") >> s;
    return s;
}


}  // namespace

int main(int argc, char** argv) {
    bench::Arguments args(argc, argv,
                          {"--base", "--queries", "--ground-truth", "--metric", "--k", "--max-queries", "--M", "--ef-construction", "--storage",
                           "--keep-f32", "--rerank-storage", "--ef", "--rerank", "--build-threads", "--repeat", "--filter", "--filter-queries", "--peer", "--cache"},
                          {"--csv", "--cpu-time"}, kUsage);
    try {
        const bool csv = args.has("--csv");
        g_cpu_time = args.has("--cpu-time");
        std::FILE* log = csv ? stderr : stdout;
        if (!args.has("--base") || !args.has("--queries") || !args.has("--metric")) args.die("--base, --queries and --metric are required");
        const Metric metric = parse_metric(args.get("--metric"));
        const std::size_t k = static_cast<std::size_t>(args.get_int("--k", 10));
        const std::size_t max_q = static_cast<std::size_t>(args.get_int("--max-queries", 1000));
        const std::size_t m = static_cast<std::size_t>(args.get_int("--M", 16));
        const std::size_t efc = static_cast<std::size_t>(args.get_int("--ef-construction", 200));
        const std::size_t build_threads = detail::resolve_threads(static_cast<std::size_t>(args.get_int("--build-threads", 0)));
        const int repeat = static_cast<int>(args.get_int("--repeat", 3));
        const bool keep_f32 = args.get_int("--keep-f32", 1) != 0;
        const VectorEncoding rerank_storage = parse_vector_encoding(args.get("--rerank-storage", "f32"));
        const std::string copy_name = detail::concat("+", vector_encoding_name(rerank_storage));
        const std::size_t rerank = static_cast<std::size_t>(args.get_int("--rerank", static_cast<long long>(HnswIndexSearchParams{}.rerank)));
        std::vector<double> efs = args.get_list("--ef");
        if (efs.empty()) efs = {10, 20, 40, 80, 160, 320};
        std::vector<std::string> storages;
        for (std::string s = args.get("--storage", "f32"); !s.empty();) {
            const auto comma = s.find(',');
            storages.push_back(s.substr(0, comma));
            s = comma == std::string::npos ? "" : s.substr(comma + 1);
        }

        const DenseMatrix<float> base = io::read_fvecs(args.get("--base"));
        const DenseMatrix<float> queries = io::read_fvecs(args.get("--queries"), max_q);
        const std::size_t nq = queries.rows();
        DenseMatrix<std::int32_t> truth;
        if (args.has("--ground-truth")) {
            truth = io::read_ivecs(args.get("--ground-truth"), nq);
        } else {
            const FlatIndex flat = FlatIndex::build(base.view(), metric);
            truth = DenseMatrix<std::int32_t>(nq, k);
            for (std::size_t q = 0; q < nq; ++q) {
                const auto hits = flat.search(queries.view().row(q), k);
                for (std::size_t i = 0; i < k; ++i) truth[q][i] = static_cast<std::int32_t>(hits[i].id);
            }
        }
        std::fprintf(log, "data: %zu x %zu base, %zu queries, metric %s, SIMD %s, build threads %zu\n", base.rows(), base.cols(), nq, metric_name(metric),
                     simd::simd_level_name(simd::active_simd_level()), build_threads);
        if (csv) std::printf("system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads,bytes_per_vector,filter_selectivity\n");

        std::vector<std::unique_ptr<HnswIndex>> ours;
        std::vector<System> systems;
        for (const auto& name : storages) {
            const HnswIndexBuildParams bp{.M = m, .ef_construction = efc, .storage = parse_vector_encoding(name), .keep_f32 = keep_f32,
                                        .rerank_storage = rerank_storage, .threads = build_threads};
            const std::string key = cache_key(args, base.rows(), detail::concat("ours-", name, "-", keep_f32, rerank_storage == VectorEncoding::f32 ? std::string() : copy_name, "-", m, "-", efc, "-", metric_name(metric)));
            bench::Timer t;
            double build_s = 0;
            if (!key.empty() && std::filesystem::exists(key)) {
                ours.push_back(std::make_unique<HnswIndex>(HnswIndex::load(key)));
                build_s = read_seconds(key);
            } else {
                ours.push_back(std::make_unique<HnswIndex>(HnswIndex::build(base.view(), metric, bp)));
                build_s = t.seconds();
                if (!key.empty()) ours.back()->save(key), write_seconds(key, build_s);
            }
            const HnswIndex& index = *ours.back();
            System s{"sparsedense", "hnsw",
                     detail::concat("M=", m, " efc=", efc, " ", name, keep_f32 && name != "f32" ? copy_name : std::string(), " threads=", build_threads), build_s,
                     index.bytes_per_vector(), nullptr};
            s.search = [&index, k, rerank](std::span<const float> q, std::size_t ef, const IdFilter& f) {
                return index.search(q, k, {.ef = ef, .rerank = rerank}, f);
            };
            std::fprintf(log, "built ours (%s) in %.2f s, %.1f bytes/vector\n", name.c_str(), s.build_s, s.bytes_per_vector);
            systems.push_back(std::move(s));
        }
#if defined(SPARSEDENSE_HAVE_HNSWLIB)
        std::unique_ptr<bench::HnswlibPeer> peer;
        if (args.get("--peer") == "hnswlib") {
            const std::string key = cache_key(args, base.rows(), detail::concat("hnswlib-", m, "-", efc, "-", metric_name(metric)));
            const bool was_cached = !key.empty() && std::filesystem::exists(key);
            bench::Timer t;
            peer = std::make_unique<bench::HnswlibPeer>(base.view(), metric, m, efc, build_threads, key);
            double build_s = t.seconds();
            if (was_cached) build_s = read_seconds(key);
            else if (!key.empty()) write_seconds(key, build_s);
            System s{"hnswlib-0.6.2", "hnsw", detail::concat("M=", m, " efc=", efc, " f32 threads=", build_threads), build_s, peer->bytes_per_vector(), nullptr};
            s.search = [&peer, k](std::span<const float> q, std::size_t ef, const IdFilter&) { return peer->search(q, k, ef); };
            std::fprintf(log, "built hnswlib in %.2f s, %.1f bytes/vector\n", s.build_s, s.bytes_per_vector);
            systems.push_back(std::move(s));
        }
#else
        if (args.has("--peer")) std::fprintf(stderr, "note: built without hnswlib (libhnswlib-dev not found): --peer ignored\n");
#endif
        std::vector<System*> all;
        for (auto& s : systems) all.push_back(&s);
        for (double ef_d : efs) {
            const auto ef = static_cast<std::size_t>(ef_d);
            const auto timed = interleaved(all, queries.view(), ef, {}, repeat);
            for (std::size_t s = 0; s < all.size(); ++s)
                print_row(make_row(*all[s], detail::concat("ef=", ef), timed[s].first, bench::recall_at_k(timed[s].second, truth.view(), std::min<std::size_t>(k, 10)), nq, 1.0), csv);
        }
        // filtered rows (ours only: hnswlib 0.6.2 has no filter): truth from the exact filtered scan
        const auto selectivities = args.get_list("--filter");
        if (!selectivities.empty()) {
            const FlatIndex flat = FlatIndex::build(base.view(), metric);
            const std::size_t fq = std::min<std::size_t>(nq, static_cast<std::size_t>(args.get_int("--filter-queries", static_cast<long long>(nq))));
            const DenseMatrixView<const float> fqueries = queries.view().slice(0, fq);
            for (double sel : selectivities) {
                IdBitset bits(base.rows());
                std::mt19937_64 rng(17);
                std::bernoulli_distribution take(sel);
                for (std::size_t i = 0; i < base.rows(); ++i)
                    if (take(rng)) bits.set(i);
                DenseMatrix<std::int32_t> ftruth(fq, k, -1);
                for (std::size_t q = 0; q < fq; ++q) {
                    const auto hits = flat.search(queries.view().row(q), k, {}, bits);
                    for (std::size_t i = 0; i < hits.size(); ++i) ftruth[q][i] = static_cast<std::int32_t>(hits[i].id);
                }
                // both plans, whatever the default threshold would choose: the walk over the ef sweep, the exact scan once
                std::vector<System> plans;
                for (std::size_t s = 0; s < ours.size(); ++s) {
                    for (double fraction : {0.0, 1.0}) {
                        System p = systems[s];
                        const HnswIndex& index = *ours[s];
                        p.search = [&index, k, rerank, fraction](std::span<const float> q, std::size_t ef, const IdFilter& f) {
                            return index.search(q, k, {.ef = ef, .exact_scan_fraction = fraction, .rerank = rerank}, f);
                        };
                        plans.push_back(std::move(p));
                    }
                }
                for (double ef_d : efs) {
                    const auto ef = static_cast<std::size_t>(ef_d);
                    std::vector<System*> mine;
                    for (std::size_t s = 0; s < plans.size(); ++s)
                        if (s % 2 == 0 || ef_d == efs.front()) mine.push_back(&plans[s]);
                    const auto timed = interleaved(mine, fqueries, ef, bits, repeat);
                    for (std::size_t s = 0; s < mine.size(); ++s) {
                        const bool exact = (mine[s] - plans.data()) % 2 == 1;
                        print_row(make_row(*mine[s], exact ? std::string("plan=exact") : detail::concat("ef=", ef, " plan=walk"), timed[s].first,
                                           bench::recall_at_k(timed[s].second, ftruth.view(), std::min<std::size_t>(k, 10)), fq, sel),
                                  csv);
                    }
                }
            }
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
