// kernels_benchmark: every dense and sparse kernel at every SIMD level this CPU has, for d in
// {64, 100, 128, 384, 768, 1024}, over cache-resident row sets (~512 KiB, L2) and out-of-cache ones (1 GiB),
// with GFLOP/s and GB/s counters. The `stream_read` benchmark in the same binary reads the same 1 GiB with plain
// vector loads: scan figures are reported as a fraction of it (see docs/benchmarks.md).
//
// flat_vs_stream/<shape>/<storage> runs FlatIndex::search interleaved with a plain stream read of the index's own
// bytes (the flat scan as a fraction of the same-run bandwidth); flat_batch_vs_single/<shape>/<storage> interleaves
// single searches with a 96-query search_batch (the batch speed-up); panel_dot/f32 is the batch kernel in cache.
//
//   ./kernels_benchmark --benchmark_filter='dot_many/f32/avx512'    one family
//   ./kernels_benchmark --benchmark_filter=flat_vs_stream --benchmark_repetitions=3
//   ./kernels_benchmark --benchmark_filter='stream_read|dram'        out-of-cache only
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "sparsedense/core/csr_matrix.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/simd/dense_kernels.hpp"
#include "sparsedense/simd/sparse_kernels.hpp"

using namespace sparsedense;
using namespace sparsedense::simd;

namespace {

constexpr std::size_t dram_bytes = std::size_t{1} << 30;  // 1 GiB: far beyond the 32 MiB L3
constexpr std::size_t cache_bytes = std::size_t{512} << 10;  // fits the 1 MiB L2
constexpr std::size_t l1_bytes = std::size_t{24} << 10;      // fits the 32 KiB L1d
const std::size_t dims[] = {64, 100, 128, 384, 768, 1024};

// One 1 GiB arena shared by every out-of-cache benchmark (filled once, not timed).
std::byte* dram_arena() {
    static std::vector<std::byte, AlignedAllocator<std::byte>> arena = [] {
        std::vector<std::byte, AlignedAllocator<std::byte>> a(dram_bytes);
        // small finite values for every element type (0x3c = 1.0 in f16 high byte patterns stay finite)
        for (std::size_t i = 0; i < a.size(); i += 2) {
            a[i] = std::byte{0x11};
            a[i + 1] = std::byte{0x3a};
        }
        return a;
    }();
    return arena.data();
}
std::byte* cache_arena() {
    static std::vector<std::byte, AlignedAllocator<std::byte>> arena = [] {
        std::vector<std::byte, AlignedAllocator<std::byte>> a(cache_bytes);
        for (std::size_t i = 0; i < a.size(); i += 2) {
            a[i] = std::byte{0x11};
            a[i + 1] = std::byte{0x3a};
        }
        return a;
    }();
    return arena.data();
}

__attribute__((target("avx2"))) float stream_sum(const float* p, std::size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (std::size_t i = 0; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
    }
    alignas(32) float out[8];
    _mm256_store_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

void stream_read(benchmark::State& state) {
    const auto* p = reinterpret_cast<const float*>(dram_arena());
    const std::size_t n = dram_bytes / sizeof(float);
    for (auto _ : state) benchmark::DoNotOptimize(stream_sum(p, n));
    state.counters["GB"] = benchmark::Counter(static_cast<double>(dram_bytes) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- Flat search against the machine's streaming read bandwidth, on the same bytes in the same run.
// stream_bytes(): a plain integer reduction over a buffer (unaligned 256-bit loads, four accumulators): the
// bandwidth any scan of those bytes can hope for.
__attribute__((target("avx2"))) std::uint64_t stream_bytes(const std::uint8_t* p, std::size_t n) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    std::size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        s0 = _mm256_add_epi64(s0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
        s1 = _mm256_add_epi64(s1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
        s2 = _mm256_add_epi64(s2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
        s3 = _mm256_add_epi64(s3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
    }
    alignas(32) std::uint64_t out[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
    std::uint64_t t = out[0] + out[1] + out[2] + out[3];
    for (; i < n; ++i) t += p[i];
    return t;
}

double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Seeded uniform [-1, 1) values.
std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
    std::vector<float> v(n);
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& f : v) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        f = static_cast<float>(x >> 40) * (2.0f / 16777216.0f) - 1.0f;
    }
    return v;
}

// One FlatIndex at a time (the last shape asked for), built from seeded random rows in chunks.
const FlatIndex& flat_index(std::size_t n, std::size_t dim, VectorEncoding enc) {
    static std::unique_ptr<FlatIndex> index;
    static std::size_t key_n = 0, key_dim = 0;
    static VectorEncoding key_enc = VectorEncoding::f32;
    if (!index || key_n != n || key_dim != dim || key_enc != enc) {
        index.reset();
        index = std::make_unique<FlatIndex>(dim, Metric::inner_product, enc);
        constexpr std::size_t chunk = 16384;
        for (std::size_t first = 0; first < n; first += chunk) {
            const std::size_t rows = std::min(chunk, n - first);
            const auto values = random_values(rows * dim, first + 1);
            index->add(DenseMatrixView<const float>(values.data(), rows, dim));
        }
        key_n = n, key_dim = dim, key_enc = enc;
    }
    return *index;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Interleaved A/B in one benchmark: each iteration streams the index's stored bytes (A), then runs one top-10
// search (B, a fresh random query). Counters: median GB/s of each (thread CPU time), and flat / stream.
void flat_vs_stream(benchmark::State& state, std::size_t n, std::size_t dim, VectorEncoding enc) {
    const FlatIndex& index = flat_index(n, dim, enc);
    const auto bytes = index.store().raw_bytes();
    const double scanned = static_cast<double>(index.memory_bytes());  // values + int8 scales / norms
    std::vector<std::vector<float>> queries;
    for (std::uint64_t s = 0; s < 16; ++s) queries.push_back(random_values(dim, 1000 + s));
    SearchResults<> out;
    std::vector<double> stream_gbs, flat_gbs, ratio;
    std::size_t it = 0;
    for (auto _ : state) {
        const double t0 = thread_seconds();
        benchmark::DoNotOptimize(stream_bytes(bytes.data(), bytes.size()));
        const double t1 = thread_seconds();
        index.search_into(queries[it++ % queries.size()], 10, out);
        benchmark::DoNotOptimize(out.data());
        const double t2 = thread_seconds();
        stream_gbs.push_back(static_cast<double>(bytes.size()) / (t1 - t0) / 1e9);
        flat_gbs.push_back(scanned / (t2 - t1) / 1e9);
        ratio.push_back(flat_gbs.back() / stream_gbs.back());
    }
    state.counters["stream_GBps"] = median(stream_gbs);
    state.counters["flat_GBps"] = median(flat_gbs);
    state.counters["flat/stream"] = median(ratio);
    state.counters["flat_us"] = scanned / median(flat_gbs) / 1e3;
    state.counters["MB"] = scanned / 1e6;
}

// Interleaved A/B: each iteration runs 4 single-query searches (A) and one search_batch of 96 queries on one
// thread (B). Counters: median per-query microseconds of each, and their ratio (the batch speed-up).
void flat_batch_vs_single(benchmark::State& state, std::size_t n, std::size_t dim, VectorEncoding enc) {
    const FlatIndex& index = flat_index(n, dim, enc);
    constexpr std::size_t nq = 96, singles = 4;
    const auto qv = random_values(nq * dim, 77);
    const DenseMatrixView<const float> queries(qv.data(), nq, dim);
    SearchResults<> out;
    std::vector<double> single_us, batch_us, ratio;
    for (auto _ : state) {
        const double t0 = thread_seconds();
        for (std::size_t i = 0; i < singles; ++i) index.search_into(queries.row(i), 10, out);
        const double t1 = thread_seconds();
        benchmark::DoNotOptimize(index.search_batch(queries, 10, {}, 1));
        const double t2 = thread_seconds();
        single_us.push_back((t1 - t0) * 1e6 / singles);
        batch_us.push_back((t2 - t1) * 1e6 / nq);
        ratio.push_back(single_us.back() / batch_us.back());
    }
    state.counters["single_us"] = median(single_us);
    state.counters["batch_us"] = median(batch_us);
    state.counters["speedup"] = median(ratio);
}

// The panel (GEMM-like) kernel alone on cache-resident packed rows: its FMA-bound ceiling in GFLOP/s.
void panel(benchmark::State& state, SimdLevel level, std::size_t dim) {
    ScopedSimdLevel scoped(level);
    const std::size_t nq = 96, nr = (std::size_t{65536} / dim) / 16 * 16;
    const auto q = random_values(nq * dim, 5), rows = random_values(nr * dim, 6);
    aligned_vector<float> panels(nr * dim);
    pack_panels(rows.data(), nr, dim, dim, panels.data());
    std::vector<float> out(nq * nr);
    for (auto _ : state) {
        panel_dot(q.data(), nq, dim, panels.data(), nr, dim, out.data(), nr);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP"] = benchmark::Counter(2.0 * double(nq) * double(nr) * double(dim) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void set_counters(benchmark::State& state, double flops, double bytes) {
    state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["GB"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// One query against every row of the set: the flat-scan kernel.
template <class T, bool L2>
void many(benchmark::State& state, SimdLevel level, std::size_t dim, bool dram, bool l1 = false) {
    ScopedSimdLevel scoped(level);
    const std::size_t bytes = dram ? dram_bytes : (l1 ? l1_bytes : cache_bytes);
    const auto* rows = reinterpret_cast<const T*>(dram ? dram_arena() : cache_arena());
    const std::size_t count = bytes / (dim * sizeof(T));
    std::vector<float> q(dim, 0.5f), out(count);
    for (auto _ : state) {
        if constexpr (L2) l2_squared_many(q.data(), rows, count, dim, dim, out.data());
        else dot_many(q.data(), rows, count, dim, dim, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * double(count) * double(dim) * (L2 ? 1.5 : 1.0), double(count) * double(dim) * sizeof(T));
}

// Integer dot of one query against every row (one call per row).
template <class T>
void int_many(benchmark::State& state, SimdLevel level, std::size_t dim, bool dram) {
    ScopedSimdLevel scoped(level);
    const std::size_t bytes = dram ? dram_bytes : cache_bytes;
    const auto* rows = reinterpret_cast<const T*>(dram ? dram_arena() : cache_arena());
    const std::size_t count = bytes / dim;
    std::vector<T> q(dim, T(3));
    std::int64_t total = 0;
    for (auto _ : state) {
        for (std::size_t r = 0; r < count; ++r) total += dot(q.data(), rows + r * dim, dim);
        benchmark::DoNotOptimize(total);
    }
    set_counters(state, 2.0 * double(count) * double(dim), double(count) * double(dim));
}

// A block of 16 queries against a cache-resident row set: the register-blocked many-vs-many kernel.
void block(benchmark::State& state, SimdLevel level, std::size_t dim) {
    ScopedSimdLevel scoped(level);
    const std::size_t nq = 16, nr = (256u << 10) / (dim * sizeof(float));
    std::vector<float> q(nq * dim, 0.25f), out(nq * nr);
    const auto* rows = reinterpret_cast<const float*>(cache_arena());
    for (auto _ : state) {
        dot_block(q.data(), nq, dim, rows, nr, dim, dim, out.data(), nr);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, 2.0 * double(nq) * double(nr) * double(dim), double(nr) * double(dim) * sizeof(float));
}

void sparse_dense(benchmark::State& state, SimdLevel level, std::size_t nnz) {
    ScopedSimdLevel scoped(level);
    const std::size_t dim = 30522, rows = 4096;
    std::vector<float> dense(dim, 0.5f);
    std::vector<std::uint32_t> ids(rows * nnz);
    std::vector<float> values(rows * nnz, 1.0f);
    std::uint64_t x = 88172645463325252ull;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<std::uint32_t> row(nnz);
        for (auto& id : row) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            id = static_cast<std::uint32_t>(x % dim);
        }
        std::sort(row.begin(), row.end());
        std::copy(row.begin(), row.end(), ids.begin() + static_cast<std::ptrdiff_t>(r * nnz));
    }
    float total = 0;
    for (auto _ : state) {
        for (std::size_t r = 0; r < rows; ++r) total += sparse_dot_dense(ids.data() + r * nnz, values.data() + r * nnz, nnz, dense.data());
        benchmark::DoNotOptimize(total);
    }
    set_counters(state, 2.0 * double(rows) * double(nnz), double(rows) * double(nnz) * 12.0);
}

void sparse_sparse(benchmark::State& state, std::size_t na, std::size_t nb) {
    const std::size_t dim = 30522;
    auto make = [&](std::size_t n, std::uint64_t seed) {
        std::vector<std::uint32_t> ids;
        std::uint64_t x = seed;
        while (ids.size() < n) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            ids.push_back(static_cast<std::uint32_t>(x % dim));
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        }
        return ids;
    };
    const auto a = make(na, 1), b = make(nb, 2);
    const std::vector<float> av(na, 1.0f), bv(nb, 1.0f);
    for (auto _ : state) benchmark::DoNotOptimize(sparse_dot_sparse(a.data(), av.data(), na, b.data(), bv.data(), nb));
    set_counters(state, 2.0 * double(std::min(na, nb)), double(na + nb) * 8.0);
}

void register_all() {
    struct FlatShape {
        const char* name;
        std::size_t n, dim;
    };
    // glove-100's shape (331,479 x 100: 132.6 MB f32; its int8 copy, 36 MB, half fits the 32 MiB L3), a 1M x 100
    // one (400 MB f32, 108 MB int8) and a 768-d one (bge-base's width; 402 MB f32)
    for (const FlatShape shape : {FlatShape{"glove", 331479, 100}, FlatShape{"n1M_d100", 1000000, 100}, FlatShape{"d768", 131072, 768}})
        for (const VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16, VectorEncoding::int8_per_vector})
            benchmark::RegisterBenchmark((std::string("flat_vs_stream/") + shape.name + "/" + vector_encoding_name(enc)).c_str(),
                                         [=](benchmark::State& s) { flat_vs_stream(s, shape.n, shape.dim, enc); })
                ->Unit(benchmark::kMillisecond)
                ->MinTime(1.0);
    for (const VectorEncoding enc : {VectorEncoding::f32, VectorEncoding::f16})
        for (const FlatShape shape : {FlatShape{"glove", 331479, 100}, FlatShape{"d768", 131072, 768}})
            benchmark::RegisterBenchmark((std::string("flat_batch_vs_single/") + shape.name + "/" + vector_encoding_name(enc)).c_str(),
                                         [=](benchmark::State& s) { flat_batch_vs_single(s, shape.n, shape.dim, enc); })
                ->Unit(benchmark::kMillisecond)
                ->MinTime(2.0);
    benchmark::RegisterBenchmark("stream_read/dram/1GiB", stream_read)->Unit(benchmark::kMillisecond)->MinTime(0.5);
    for (SimdLevel level : supported_simd_levels()) {
        const std::string l = simd_level_name(level);
        for (const bool dram : {false, true}) {
            const std::string where = dram ? "dram" : "cache";
            for (std::size_t d : dims) {
                const std::string suffix = "/" + l + "/" + where + "/d" + std::to_string(d);
                auto reg = [&](const std::string& name, auto fn) {
                    auto* b = benchmark::RegisterBenchmark((name + suffix).c_str(), fn);
                    b->Unit(dram ? benchmark::kMillisecond : benchmark::kMicrosecond);
                    if (dram) b->MinTime(0.3);
                };
                reg("dot_many/f32", [=](benchmark::State& s) { many<float, false>(s, level, d, dram); });
                reg("l2_many/f32", [=](benchmark::State& s) { many<float, true>(s, level, d, dram); });
                reg("dot_many/f16", [=](benchmark::State& s) { many<float16, false>(s, level, d, dram); });
                reg("dot_many/bf16", [=](benchmark::State& s) { many<bfloat16, false>(s, level, d, dram); });
                reg("dot/i8", [=](benchmark::State& s) { int_many<std::int8_t>(s, level, d, dram); });
                reg("dot/u8", [=](benchmark::State& s) { int_many<std::uint8_t>(s, level, d, dram); });
                if (!dram) {
                    reg("dot_block/f32", [=](benchmark::State& s) { block(s, level, d); });
                    reg("panel_dot/f32", [=](benchmark::State& s) { panel(s, level, d); });
                    auto* b = benchmark::RegisterBenchmark(("dot_many/f32" + suffix).replace(("dot_many/f32" + suffix).find("/cache/"), 7, "/l1/").c_str(),
                                                           [=](benchmark::State& s) { many<float, false>(s, level, d, false, true); });
                    b->Unit(benchmark::kMicrosecond);
                }
            }
        }
        for (std::size_t nnz : {60u, 120u})
            benchmark::RegisterBenchmark(("sparse_dot_dense/" + l + "/nnz" + std::to_string(nnz)).c_str(),
                                         [=](benchmark::State& s) { sparse_dense(s, level, nnz); })
                ->Unit(benchmark::kMicrosecond);
    }
    for (auto [na, nb] : {std::pair{60u, 120u}, std::pair{120u, 120u}, std::pair{20u, 3000u}})
        benchmark::RegisterBenchmark(("sparse_dot_sparse/" + std::to_string(na) + "x" + std::to_string(nb)).c_str(),
                                     [=](benchmark::State& s) { sparse_sparse(s, na, nb); });
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
