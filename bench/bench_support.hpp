// bench/bench_support.hpp -- shared plumbing for the recall-vs-throughput programs (sparse_bench, dense_bench,
// hybrid_eval; their command lines are in command_line.hpp): timing, latency percentiles, recall@k against ground
// truth, and the result table printed for people or, with --csv, as the columns every system's results line up on:
//   system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "sparsedense/core/dense_matrix.hpp"
#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"

namespace sparsedense::bench {

/// Wall-clock stopwatch.
class Timer {
public:
    Timer() : start_(std::chrono::steady_clock::now()) {}
    void reset() { start_ = std::chrono::steady_clock::now(); }
    [[nodiscard]] double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    [[nodiscard]] double microseconds() const { return seconds() * 1e6; }

private:
    std::chrono::steady_clock::time_point start_;
};

/// Mean and percentiles of per-query latencies (microseconds).
struct LatencySummary {
    double mean_us = 0, p50_us = 0, p99_us = 0;
};
inline LatencySummary summarize_latencies(std::vector<double> us) {
    LatencySummary s;
    if (us.empty()) return s;
    s.mean_us = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<std::size_t>(p * static_cast<double>(us.size() - 1) + 0.5))]; };
    s.p50_us = pct(0.50);
    s.p99_us = pct(0.99);
    return s;
}

/// The median of timed passes (pairs of total seconds and per-query data), by total seconds: the figure the benches
/// report for a configuration, robust to one pass disturbed by the machine.
template <class Pass>
const Pass& median_pass(std::vector<Pass>& passes) {
    if (passes.empty()) raise(ErrorKind::invalid_argument, "median_pass: no passes");
    std::sort(passes.begin(), passes.end(), [](const Pass& a, const Pass& b) { return a.first < b.first; });
    return passes[passes.size() / 2];
}

/// Mean over queries of |returned top-k ∩ true top-k| / k. `truth` row q holds the true neighbours best first.
template <class Id, class Score>
double recall_at_k(const std::vector<SearchResults<Id, Score>>& results, DenseMatrixView<const std::int32_t> truth, std::size_t k) {
    if (results.size() > truth.rows)
        raise(ErrorKind::dimension_mismatch, "recall: ", results.size(), " result lists but ground truth for ", truth.rows, " queries");
    if (k > truth.cols) raise(ErrorKind::invalid_argument, "recall@", k, ": ground truth has only ", truth.cols, " neighbours per query");
    if (results.empty()) return 0.0;
    double total = 0.0;
    std::unordered_set<std::int64_t> expected;
    for (std::size_t q = 0; q < results.size(); ++q) {
        expected.clear();
        for (std::size_t i = 0; i < k; ++i) expected.insert(truth.row(q)[i]);
        std::size_t hit = 0;
        for (std::size_t i = 0; i < std::min(k, results[q].size()); ++i) hit += expected.count(static_cast<std::int64_t>(results[q][i].id));
        total += static_cast<double>(hit) / static_cast<double>(k);
    }
    return total / static_cast<double>(results.size());
}

/// One configuration's measurements.
struct ResultRow {
    std::string system = "sparsedense";
    std::string index;
    std::string build_params;
    std::string search_params;
    double build_s = 0;
    double recall_at_10 = 0;
    double qps = 0;
    double us_per_query = 0;
    std::string mode = "single";  ///< single (one query at a time) or batch
    int search_threads = 1;
    // shown in the human table only
    double p99_us = 0;
    double index_bytes = 0;
};

/// The batch twin of a single-query row: same configuration, `queries` searched in `seconds` on `threads` threads.
inline ResultRow batch_row(ResultRow row, double recall, double seconds, std::size_t queries, std::size_t threads) {
    row.recall_at_10 = recall;
    row.qps = static_cast<double>(queries) / seconds;
    row.us_per_query = seconds * 1e6 / static_cast<double>(queries);
    row.p99_us = 0;
    row.mode = "batch";
    row.search_threads = static_cast<int>(threads);
    return row;
}

/// Collects rows and prints them as an aligned table or as CSV with the standard header.
class ResultTable {
public:
    void add(ResultRow row) { rows_.push_back(std::move(row)); }
    /// Adds a row, printing it at once as CSV when `csv` (so long runs stream their results).
    void emit(ResultRow row, bool csv) {
        if (csv) print_csv_row(row), std::fflush(stdout);
        add(std::move(row));
    }
    [[nodiscard]] const std::vector<ResultRow>& rows() const noexcept { return rows_; }

    static void print_csv_header(std::FILE* out = stdout) {
        std::fprintf(out, "system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads,p99_us,index_bytes\n");
    }
    static void print_csv_row(const ResultRow& r, std::FILE* out = stdout) {
        // the ten common columns, then p99 (empty for batch rows: not measured) and the index's bytes in memory
        char p99[32] = "";
        if (r.mode != "batch") std::snprintf(p99, sizeof p99, "%.1f", r.p99_us);
        std::fprintf(out, "%s,%s,%s,%s,%.3f,%.4f,%.1f,%.2f,%s,%d,%s,%.0f\n", quote(r.system).c_str(), quote(r.index).c_str(),
                     quote(r.build_params).c_str(), quote(r.search_params).c_str(), r.build_s, r.recall_at_10, r.qps, r.us_per_query,
                     r.mode.c_str(), r.search_threads, p99, r.index_bytes);
    }
    void print_csv(std::FILE* out = stdout) const {
        print_csv_header(out);
        for (const auto& r : rows_) print_csv_row(r, out);
    }
    void print_table(std::FILE* out = stdout) const {
        std::size_t wi = 5, wb = 12, ws = 13;
        for (const auto& r : rows_) {
            wi = std::max(wi, r.index.size());
            wb = std::max(wb, r.build_params.size());
            ws = std::max(ws, r.search_params.size());
        }
        std::fprintf(out, "%-*s  %-*s  %-*s  %8s  %9s  %10s  %10s  %9s  %10s  %-6s  %7s\n", int(wi), "index", int(wb), "build_params", int(ws),
                     "search_params", "build_s", "recall@10", "qps", "us/query", "p99_us", "index_MB", "mode", "threads");
        for (const auto& r : rows_) {
            // a batch row has no per-query latencies: its us/query is the batch time divided by the queries
            char p99[32] = "-";
            if (r.mode != "batch") std::snprintf(p99, sizeof p99, "%.1f", r.p99_us);
            std::fprintf(out, "%-*s  %-*s  %-*s  %8.2f  %9.4f  %10.1f  %10.2f  %9s  %10.2f  %-6s  %7d\n", int(wi), r.index.c_str(), int(wb),
                         r.build_params.c_str(), int(ws), r.search_params.c_str(), r.build_s, r.recall_at_10, r.qps, r.us_per_query, p99,
                         r.index_bytes / 1e6, r.mode.c_str(), r.search_threads);
        }
    }

private:
    static std::string quote(const std::string& s) {
        if (s.find_first_of(",\"\n") == std::string::npos) return s;
        std::string q = "\"";
        for (char c : s) {
            if (c == '"') q += '"';
            q += c;
        }
        return q + "\"";
    }
    std::vector<ResultRow> rows_;
};

}  // namespace sparsedense::bench
