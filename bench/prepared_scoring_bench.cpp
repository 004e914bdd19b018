// prepared_scoring_bench: what the hybrid searcher's exact fill costs per query, the old way and the new way.
//
// The fill gives each document found by only one side its exact score on the other side (hybrid_searcher.hpp).
// Before the retriever shape, it called index.score(query, id) for every missing id: each call re-validated the
// query and re-did its conversion (scatter into a dense array, cosine normalisation, OPQ rotation). Now it calls
// index.prepare(query) once and then scorer(id) per id. This program times both on every index over real data,
// with the same ids (the ids a second ranking would contribute: here every 37th document, 100 per query), on one
// thread, and prints µs per query for each and their ratio.
//   prepared_scoring_bench [--data ../shared/data] [--queries 200] [--ids 100]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/dense/opq.hpp"
#include "sparsedense/io/csr_file.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

using namespace sparsedense;

namespace {

struct Row {
    std::string index;
    double per_id_us = 0, prepared_us = 0;
};

/// Median over `passes` of the mean µs per query of fn(query i) over all queries.
template <class Fn>
double time_per_query(std::size_t nq, int passes, Fn&& fn) {
    std::vector<double> t;
    for (int p = 0; p < passes; ++p) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < nq; ++i) fn(i);
        t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(nq));
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/// Times the fill of `ids_per_query` ids for every query, per-id score() against prepare() + scorer(id); checks both agree.
template <class Index, class QueryAt>
Row measure(const std::string& name, const Index& index, std::size_t nq, QueryAt&& query_at, std::size_t ids_per_query) {
    const std::size_t n = index.size();
    auto id_of = [&](std::size_t q, std::size_t j) { return static_cast<typename Index::id_type>((q * 7919 + j * 37) % n); };
    volatile float sink = 0;
    for (std::size_t q = 0; q < std::min<std::size_t>(nq, 5); ++q) {
        const auto scorer = index.prepare(query_at(q));
        for (std::size_t j = 0; j < ids_per_query; ++j)
            if (scorer(id_of(q, j)) != index.score(query_at(q), id_of(q, j))) {
                std::fprintf(stderr, "%s: prepared and per-id scores differ\n", name.c_str());
                std::exit(1);
            }
    }
    Row r{name};
    r.per_id_us = time_per_query(nq, 5, [&](std::size_t q) {
        float s = 0;
        for (std::size_t j = 0; j < ids_per_query; ++j) s += index.score(query_at(q), id_of(q, j));
        sink = sink + s;
    });
    r.prepared_us = time_per_query(nq, 5, [&](std::size_t q) {
        const auto scorer = index.prepare(query_at(q));
        float s = 0;
        for (std::size_t j = 0; j < ids_per_query; ++j) s += scorer(id_of(q, j));
        sink = sink + s;
    });
    return r;
}

struct Options {
    std::string data = "../shared/data";
    std::size_t queries = 200, ids = 100;
};

Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app("The hybrid searcher's exact fill per query: score(q, id) per id against prepare(q) + scorer(id), on every\n"
                 "index over splade-beir and bge-768 (one thread, median of 5 passes).",
                 "prepared_scoring_bench");
    app.add_option("--data", o.data, "the data folder (holds splade-beir/ and bge-768/)")->capture_default_str()->check(CLI::ExistingDirectory);
    app.add_option("--queries", o.queries, "queries per data set")->capture_default_str()->check(bench::cli::positive);
    app.add_option("--ids", o.ids, "ids scored per query")->capture_default_str()->check(bench::cli::positive);
    bench::cli::parse(app, argc, argv);
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    try {
        const std::string& data = options.data;
        const std::size_t nq = options.queries, ids = options.ids;
        std::vector<Row> rows;
        {
            const auto corpus = io::read_csr(data + "/splade-beir/corpus.csr");
            const auto queries = io::read_csr(data + "/splade-beir/queries.csr");
            const std::size_t q = std::min(nq, queries.rows());
            auto query_at = [&](std::size_t i) { return queries.row(i); };
            rows.push_back(measure("InvertedIndex (splade-beir)", InvertedIndex::build(corpus), q, query_at, ids));
            rows.push_back(measure("ClusteredInvertedIndex (splade-beir, f16)", ClusteredInvertedIndex::build(corpus, {.lambda = 500}), q, query_at, ids));
        }
        {
            const auto base = io::read_fvecs(data + "/bge-768/base.fvecs");
            const auto queries = io::read_fvecs(data + "/bge-768/query.fvecs", nq);
            const std::size_t q = queries.rows();
            auto query_at = [&](std::size_t i) { return std::span<const float>(queries.row(i)); };
            rows.push_back(measure("FlatIndex (bge-768, cosine)", FlatIndex::build(base.view(), Metric::cosine), q, query_at, ids));
            IvfPqIndexBuildParams p;
            p.nlist = 64;
            p.m = 96;
            IvfPqIndex<> ivf(base.cols(), Metric::cosine, p);
            OpqParams op;
            op.m = p.m;
            ivf.train(base.view(), train_opq(base.view().slice(0, std::min<std::size_t>(base.rows(), 20000)), op));
            ivf.add(base.view());
            rows.push_back(measure("IvfPqIndex (bge-768, cosine, OPQ, f16 kept)", ivf, q, query_at, ids));
        }
        std::printf("exact fill of %zu ids per query, one thread, median of 5 passes (us per query)\n", ids);
        std::printf("%-46s %14s %14s %8s\n", "index", "score(q, id)", "prepare + ids", "ratio");
        for (const auto& r : rows) std::printf("%-46s %14.1f %14.1f %7.1fx\n", r.index.c_str(), r.per_id_us, r.prepared_us, r.per_id_us / r.prepared_us);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "prepared_scoring_bench: %s\n", e.what());
        return 1;
    }
}
