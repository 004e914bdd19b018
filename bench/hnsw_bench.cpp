// hnsw_bench: recall@10 vs latency of HnswIndex (one thread, one query at a time, an ef sweep) on an fvecs data set,
// optionally against hnswlib built in the same program on the same data with the same M / ef_construction /
// threads and the same compiler flags (`--peer hnswlib`; needs Debian's header-only libhnswlib-dev, found by CMake:
// a benchmark-only dependency, never one of the library's).
//
//   hnsw_bench --base B.fvecs --queries Q.fvecs [--ground-truth GT.ivecs] --metric ip|l2|cosine [--k 10]
//              [--max-queries N] [--M 16] [--ef-construction 200] [--storage f32,f16,int8-dim] [--keep-f32 1]
//              [--ef 10,20,40,80,160] [--build-threads 0] [--repeat 3] [--filter 0.1,0.01,0.001] [--peer hnswlib] [--csv]
//
// Timing: each configuration's single-query pass is repeated --repeat times and the median pass is reported; with
// a peer, the passes of ours and the peer alternate (A/B/A/B) so that a noisy neighbour on the machine hits both.
// --cpu-time counts the searching thread's CPU time instead of wall time (build times stay wall-clock).
// CSV columns: the ten shared by every bench, then bytes_per_vector and filter_selectivity (1 = no filter).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/io/vecs_file.hpp"

#if defined(SPARSEDENSE_HAVE_HNSWLIB)
#include <hnswlib/hnswlib.h>
#endif

using namespace sparsedense;

namespace {

const char* kUsage =
    "hnsw_bench --base B.fvecs --queries Q.fvecs [--ground-truth GT.ivecs] --metric ip|l2|cosine [--k 10] [--max-queries N]\n"
    "           [--M 16] [--ef-construction 200] [--storage f32,f16,bf16,int8,int8-dim] [--keep-f32 1] [--ef 10,20,40,80,160]\n"
    "           [--rerank N] [--build-threads 0] [--repeat 3] [--filter 0.1,0.01] [--filter-queries N]\n"
    "           [--peer hnswlib] [--csv] [--cpu-time]\n"
    "  --filter-queries N  the filtered rows use the first N queries (a selective filter makes the walk long)\n"
    "  --cpu-time  time the search passes in the thread's CPU time instead of wall time (a shared, loaded machine)";

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

#if defined(SPARSEDENSE_HAVE_HNSWLIB)
/// hnswlib 0.6.2 on the same rows (normalised for cosine, which it runs as inner product), built on `threads`
/// threads with addPoint (thread-safe) as its Python binding does.
struct HnswlibPeer {
    std::unique_ptr<hnswlib::SpaceInterface<float>> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;

    HnswlibPeer(DenseMatrixView<const float> rows, Metric metric, std::size_t m, std::size_t efc, std::size_t threads) {
        if (metric == Metric::l2) space = std::make_unique<hnswlib::L2Space>(rows.cols);
        else space = std::make_unique<hnswlib::InnerProductSpace>(rows.cols);
        index = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), rows.rows, m, efc, 100);
        index->addPoint(rows.row_data(0), 0);
        std::atomic<std::size_t> next{1};
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                for (std::size_t i; (i = next.fetch_add(1)) < rows.rows;) index->addPoint(rows.row_data(i), i);
            });
        for (auto& th : pool) th.join();
    }
    /// Bytes per vector: the layer-0 block (links + vector + label), a node lock, its level and list pointer, its
    /// upper-layer lists (the label hash map is not counted).
    [[nodiscard]] double bytes_per_vector() const {
        double upper = 0;
        for (std::size_t i = 0; i < index->cur_element_count; ++i) upper += static_cast<double>(index->element_levels_[i] * index->size_links_per_element_);
        return static_cast<double>(index->size_data_per_element_ + sizeof(std::mutex) + sizeof(int) + sizeof(void*)) +
               upper / static_cast<double>(index->cur_element_count);
    }
    SearchResults<> search(std::span<const float> q, std::size_t k, std::size_t ef) {
        index->setEf(ef);
        auto heap = index->searchKnn(q.data(), k);
        SearchResults<> out(heap.size());
        for (std::size_t i = heap.size(); i-- > 0; heap.pop()) out[i] = {static_cast<std::uint32_t>(heap.top().second), -heap.top().first};
        return out;
    }
};
#endif

}  // namespace

int main(int argc, char** argv) {
    bench::Arguments args(argc, argv,
                          {"--base", "--queries", "--ground-truth", "--metric", "--k", "--max-queries", "--M", "--ef-construction", "--storage",
                           "--keep-f32", "--ef", "--rerank", "--build-threads", "--repeat", "--filter", "--filter-queries", "--peer"},
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
            const HnswIndexBuildParams bp{.M = m, .ef_construction = efc, .storage = parse_vector_encoding(name), .keep_f32 = keep_f32, .threads = build_threads};
            bench::Timer t;
            ours.push_back(std::make_unique<HnswIndex>(HnswIndex::build(base.view(), metric, bp)));
            const HnswIndex& index = *ours.back();
            System s{"sparsedense", "hnsw",
                     detail::concat("M=", m, " efc=", efc, " ", name, keep_f32 && name != "f32" ? "+f32" : "", " threads=", build_threads), t.seconds(),
                     index.bytes_per_vector(), nullptr};
            s.search = [&index, k, rerank](std::span<const float> q, std::size_t ef, const IdFilter& f) {
                return index.search(q, k, {.ef = ef, .rerank = rerank}, f);
            };
            std::fprintf(log, "built ours (%s) in %.2f s, %.1f bytes/vector\n", name.c_str(), s.build_s, s.bytes_per_vector);
            systems.push_back(std::move(s));
        }
#if defined(SPARSEDENSE_HAVE_HNSWLIB)
        std::unique_ptr<HnswlibPeer> peer;
        DenseMatrix<float> normalized;
        if (args.get("--peer") == "hnswlib") {
            DenseMatrixView<const float> rows = base.view();
            if (metric == Metric::cosine) {
                normalized = DenseMatrix<float>(base.view());
                for (std::size_t i = 0; i < normalized.rows(); ++i) detail::normalize_in_place(normalized.row(i));
                rows = normalized.view();
            }
            bench::Timer t;
            peer = std::make_unique<HnswlibPeer>(rows, metric, m, efc, build_threads);
            System s{"hnswlib-0.6.2", "hnsw", detail::concat("M=", m, " efc=", efc, " f32 threads=", build_threads), t.seconds(), peer->bytes_per_vector(), nullptr};
            std::vector<float> qn;
            s.search = [&peer, k, metric, qn](std::span<const float> q, std::size_t ef, const IdFilter&) mutable {
                if (metric != Metric::cosine) return peer->search(q, k, ef);
                qn.assign(q.begin(), q.end());
                detail::normalize_in_place(qn);
                return peer->search(qn, k, ef);
            };
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
