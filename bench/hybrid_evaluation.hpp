// bench/hybrid_evaluation.hpp -- an application beside the library (used by bench/hybrid_eval.cpp and its test)
//
// The end-to-end effectiveness check behind the hybrid_eval program and its test: on a BEIR-layout folder
// (corpus.jsonl, queries.jsonl, qrels.tsv) it
//   1. builds BM25 impact vectors from title + text (text/bm25.hpp: Porter, Lucene's 33 stop words, k1 0.9,
//      b 0.4 -- the Pyserini "flat" setting) and indexes them in the exact InvertedIndex;
//   2. when document and query embeddings are given (.fvecs + an id per line), indexes them in a FlatIndex (exact)
//      and checks its rankings against a brute-force double-precision reference;
//   3. fuses the two candidate lists (depth k0 each) with every method: convex combination under each score
//      normalization for an alpha sweep (missing scores re-scored exactly, plus list-minimum and zero variants for
//      min-max), RRF (k = 60) and weighted RRF over the same sweep;
//   4. scores every run with nDCG@10 and Recall@100 (metrics.hpp; queries with judgments only), and optionally
//      writes each method's best run as a TREC run file (for trec_eval or any other scorer).
// The best alpha is picked on the evaluated queries themselves (an oracle: it shows what fusion can reach; a
// deployment would tune on held-out queries, e.g. SciFact's train split).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/parallel.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/eval/beir.hpp"
#include "sparsedense/eval/metrics.hpp"
#include "sparsedense/eval/trec.hpp"
#include "sparsedense/hybrid/fusion.hpp"
#include "sparsedense/hybrid/hybrid_searcher.hpp"
#include "sparsedense/io/vecs_file.hpp"
#include "sparsedense/sparse/inverted_index.hpp"
#include "sparsedense/text/bm25.hpp"

namespace sparsedense::eval {

struct HybridEvaluationOptions {
    std::string collection;     ///< BEIR folder
    std::string qrels;          ///< judgments to evaluate with (default: the folder's qrels.tsv / qrels/test.tsv)
    std::string doc_vectors;    ///< .fvecs, one row per document (optional; all four or none)
    std::string doc_ids;        ///< one document id per line, row-aligned with doc_vectors
    std::string query_vectors;  ///< .fvecs, one row per query
    std::string query_ids;      ///< one query id per line
    Metric dense_metric = Metric::cosine;
    text::Bm25Params bm25{};
    std::size_t k0 = 100;                ///< candidate depth of each retriever (>= 100 for Recall@100)
    std::vector<double> alphas = default_alphas();
    double rrf_k = 60.0;
    bool check_dense_against_brute_force = true;
    std::size_t threads = 0;  ///< 0 = all hardware threads
    std::string run_dir;      ///< when set: write <method>.trec (TREC run, top 100) of each method's best configuration

    static std::vector<double> default_alphas() {
        std::vector<double> a;
        for (int i = 0; i <= 10; ++i) a.push_back(i / 10.0);
        return a;
    }
};

/// One evaluated configuration.
struct MethodResult {
    std::string method;  ///< bm25, dense, convex-<normalization>[-<missing>], rrf, rrf-weighted
    std::string params;  ///< e.g. "alpha=0.3,missing=exact"
    double alpha = std::numeric_limits<double>::quiet_NaN();  ///< sweep value (NaN when none)
    double ndcg_at_10 = 0.0;
    double recall_at_100 = 0.0;
    std::size_t queries = 0;
};

struct HybridEvaluationReport {
    std::size_t documents = 0;
    std::size_t queries = 0;          ///< queries searched (those with judgments)
    std::size_t vocabulary = 0;
    bool has_dense = false;
    std::vector<MethodResult> results;  ///< every configuration, sweeps included
    // dense vs brute force
    std::size_t dense_rank_mismatches = 0;  ///< ranks whose id differs from the reference (ties aside)
    double dense_max_score_error = 0.0;     ///< largest |flat score - reference score|
    double dense_reference_ndcg_at_10 = 0.0;
    double dense_reference_recall_at_100 = 0.0;

    [[nodiscard]] const MethodResult* find(const std::string& method) const {
        for (const auto& r : results)
            if (r.method == method) return &r;
        return nullptr;
    }
    /// The best configuration (by nDCG@10; ties to the first) of `method`, over its sweep.
    [[nodiscard]] const MethodResult* best(const std::string& method) const {
        const MethodResult* b = nullptr;
        for (const auto& r : results)
            if (r.method == method && (b == nullptr || r.ndcg_at_10 > b->ndcg_at_10)) b = &r;
        return b;
    }
    /// Distinct method names in order of first appearance.
    [[nodiscard]] std::vector<std::string> methods() const {
        std::vector<std::string> out;
        for (const auto& r : results)
            if (std::find(out.begin(), out.end(), r.method) == out.end()) out.push_back(r.method);
        return out;
    }
    /// The best fusion configuration over every fusion method.
    [[nodiscard]] const MethodResult* best_fusion() const {
        const MethodResult* b = nullptr;
        for (const auto& r : results)
            if (r.method != "bm25" && r.method != "dense" && (b == nullptr || r.ndcg_at_10 > b->ndcg_at_10)) b = &r;
        return b;
    }
};

namespace detail {

inline std::vector<std::string> read_id_lines(const std::string& path) {
    std::vector<std::string> ids;
    for_each_line(path, [&](std::string_view line, std::size_t n) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
        if (line.empty()) fail_line(path, n, "empty id");
        ids.emplace_back(line);
    });
    return ids;
}

/// Rows of `vectors` reordered to follow `wanted` ids; every wanted id must be present.
inline DenseMatrix<float> align_rows(const DenseMatrix<float>& vectors, const std::vector<std::string>& ids, const std::vector<std::string>& wanted,
                                     const std::string& what) {
    if (ids.size() != vectors.rows())
        raise(ErrorKind::dimension_mismatch, what, ": ", vectors.rows(), " vectors but ", ids.size(), " ids");
    std::unordered_map<std::string, std::size_t> row;
    row.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) row.emplace(ids[i], i);
    DenseMatrix<float> out(wanted.size(), vectors.cols());
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const auto it = row.find(wanted[i]);
        if (it == row.end()) raise(ErrorKind::invalid_data, what, ": no vector for id '", wanted[i], "'");
        std::copy(vectors.row(it->second).begin(), vectors.row(it->second).end(), out.row(i).begin());
    }
    return out;
}

inline std::string alpha_text(double a) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", a);
    std::string s(buf);
    while (s.size() > 3 && s.back() == '0') s.pop_back();  // 0.30 -> 0.3, 1.00 -> 1.0
    return s;
}

}  // namespace detail

/// Runs the whole evaluation (see the file comment). Throws Error on unreadable or inconsistent inputs.
[[nodiscard]] inline HybridEvaluationReport run_hybrid_evaluation(const HybridEvaluationOptions& opt) {
    if (opt.k0 < 100) raise(ErrorKind::invalid_argument, "hybrid evaluation: k0 must be >= 100 (Recall@100), got ", opt.k0);
    const bool any_vectors = !opt.doc_vectors.empty() || !opt.doc_ids.empty() || !opt.query_vectors.empty() || !opt.query_ids.empty();
    const bool all_vectors = !opt.doc_vectors.empty() && !opt.doc_ids.empty() && !opt.query_vectors.empty() && !opt.query_ids.empty();
    if (any_vectors && !all_vectors)
        raise(ErrorKind::invalid_argument, "hybrid evaluation: give all of doc vectors, doc ids, query vectors and query ids, or none");

    const BeirCollection c = read_beir_collection(opt.collection, true, opt.qrels);
    HybridEvaluationReport report;
    report.documents = c.corpus.size();
    report.queries = c.queries.size();
    report.has_dense = all_vectors;
    if (c.corpus.empty()) raise(ErrorKind::invalid_data, "hybrid evaluation: empty corpus in '", opt.collection, "'");

    std::vector<std::string> doc_ids(c.corpus.size()), query_ids(c.queries.size());
    for (std::size_t i = 0; i < c.corpus.size(); ++i) doc_ids[i] = c.corpus[i].id;
    for (std::size_t i = 0; i < c.queries.size(); ++i) query_ids[i] = c.queries[i].id;

    // --- BM25 through the exact inverted index
    text::Bm25Encoder encoder(opt.bm25);
    std::string buffer;
    for (const auto& d : c.corpus) {
        buffer.assign(d.title);
        buffer.push_back(' ');
        buffer.append(d.text);
        encoder.add_document(buffer);
    }
    report.vocabulary = encoder.vocabulary().size();
    const CsrMatrix<float> doc_matrix = encoder.document_vectors();
    InvertedIndexBuildParams ip;
    ip.threads = opt.threads;
    const InvertedIndex sparse = InvertedIndex::build(doc_matrix, ip);
    std::vector<SparseVector<float>> sparse_queries(c.queries.size());
    for (std::size_t q = 0; q < c.queries.size(); ++q) sparse_queries[q] = encoder.encode_query(c.queries[q].text);

    const std::size_t nq = c.queries.size();
    std::vector<SearchResults<>> bm25(nq), dense(nq);
    sparsedense::detail::parallel_for(nq, opt.threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t q = b; q < e; ++q) bm25[q] = sparse.search(sparse_queries[q].view(), opt.k0);
    });

    std::map<std::string, std::pair<double, Run>> best_runs;  // method -> (nDCG@10, run), only with run_dir
    const auto add_run = [&](const std::string& method, const std::string& params, double alpha, const std::vector<SearchResults<>>& lists) {
        Run run;
        for (std::size_t q = 0; q < nq; ++q) {
            auto ranking = to_ranking(lists[q], doc_ids);
            if (ranking.size() > 100) ranking.resize(100);
            run[query_ids[q]] = std::move(ranking);
        }
        const auto nd = evaluate(c.qrels, run, Measure::ndcg, 10);
        const auto rc = evaluate(c.qrels, run, Measure::recall, 100);
        report.results.push_back({method, params, alpha, nd.mean, rc.mean, nd.queries});
        if (!opt.run_dir.empty()) {
            auto it = best_runs.find(method);
            if (it == best_runs.end()) best_runs.emplace(method, std::make_pair(nd.mean, std::move(run)));
            else if (nd.mean > it->second.first) it->second = {nd.mean, std::move(run)};
        }
    };
    const auto write_runs = [&]() {
        if (opt.run_dir.empty()) return;
        std::filesystem::create_directories(opt.run_dir);
        for (const auto& [method, best] : best_runs)
            write_trec_run((std::filesystem::path(opt.run_dir) / (method + ".trec")).string(), best.second, method);
    };
    {
        char p[64];
        std::snprintf(p, sizeof p, "k1=%g,b=%g", static_cast<double>(opt.bm25.k1), static_cast<double>(opt.bm25.b));
        add_run("bm25", p, std::numeric_limits<double>::quiet_NaN(), bm25);
    }
    if (!all_vectors) {
        write_runs();
        return report;
    }

    // --- dense through the flat index, checked against a brute-force reference
    const auto doc_vecs = detail::align_rows(io::read_fvecs(opt.doc_vectors), detail::read_id_lines(opt.doc_ids), doc_ids, "document vectors");
    const auto query_vecs = detail::align_rows(io::read_fvecs(opt.query_vectors), detail::read_id_lines(opt.query_ids), query_ids, "query vectors");
    if (doc_vecs.cols() != query_vecs.cols())
        raise(ErrorKind::dimension_mismatch, "document vectors have dimension ", doc_vecs.cols(), ", query vectors ", query_vecs.cols());
    FlatIndex flat(doc_vecs.cols(), opt.dense_metric);
    flat.add(doc_vecs.view());
    sparsedense::detail::parallel_for(nq, opt.threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t q = b; q < e; ++q) dense[q] = flat.search(std::span<const float>(query_vecs.row(q)), opt.k0);
    });
    add_run("dense", std::string("flat,") + metric_name(opt.dense_metric), std::numeric_limits<double>::quiet_NaN(), dense);

    if (opt.check_dense_against_brute_force) {
        // Double-precision brute force with the same metric; a rank may differ from the flat index only where the
        // two scores it swaps are within float rounding of each other.
        const std::size_t dim = doc_vecs.cols();
        std::vector<double> doc_norm(doc_vecs.rows(), 1.0);
        if (opt.dense_metric == Metric::cosine)
            for (std::size_t d = 0; d < doc_vecs.rows(); ++d) {
                double s = 0.0;
                for (const float x : doc_vecs.row(d)) s += static_cast<double>(x) * x;
                doc_norm[d] = s > 0.0 ? std::sqrt(s) : 1.0;
            }
        std::vector<SearchResults<std::uint32_t, double>> reference(nq);
        sparsedense::detail::parallel_for(nq, opt.threads, [&](std::size_t b, std::size_t e, std::size_t) {
            std::vector<SearchResult<std::uint32_t, double>> all(doc_vecs.rows());
            for (std::size_t q = b; q < e; ++q) {
                const auto qv = query_vecs.row(q);
                double qn = 1.0;
                if (opt.dense_metric == Metric::cosine) {
                    double s = 0.0;
                    for (const float x : qv) s += static_cast<double>(x) * x;
                    qn = s > 0.0 ? std::sqrt(s) : 1.0;
                }
                for (std::size_t d = 0; d < doc_vecs.rows(); ++d) {
                    const auto dv = doc_vecs.row(d);
                    double s = 0.0;
                    if (opt.dense_metric == Metric::l2) {
                        for (std::size_t j = 0; j < dim; ++j) s -= (static_cast<double>(qv[j]) - dv[j]) * (static_cast<double>(qv[j]) - dv[j]);
                    } else {
                        for (std::size_t j = 0; j < dim; ++j) s += static_cast<double>(qv[j]) * dv[j];
                        if (opt.dense_metric == Metric::cosine) s /= qn * doc_norm[d];
                    }
                    all[d] = {static_cast<std::uint32_t>(d), s};
                }
                const std::size_t m = std::min(opt.k0, all.size());
                std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m), all.end(), RanksBefore{});
                reference[q].assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m));
            }
        });
        Run ref_run;
        for (std::size_t q = 0; q < nq; ++q) {
            const auto& f = dense[q];
            const auto& r = reference[q];
            if (f.size() != r.size()) report.dense_rank_mismatches += std::max(f.size(), r.size()) - std::min(f.size(), r.size());
            for (std::size_t i = 0; i < std::min(f.size(), r.size()); ++i) {
                report.dense_max_score_error = std::max(report.dense_max_score_error, std::fabs(static_cast<double>(f[i].score) - r[i].score));
                if (f[i].id != r[i].id) {
                    // tolerated only when the reference scores of the two ids are equal within float rounding
                    const double exact_other = [&] {
                        for (const auto& h : r)
                            if (h.id == f[i].id) return h.score;
                        return -std::numeric_limits<double>::infinity();
                    }();
                    if (!(std::fabs(exact_other - r[i].score) <= 1e-6 * std::max(1.0, std::fabs(r[i].score)))) ++report.dense_rank_mismatches;
                }
            }
            Ranking ranking;
            for (const auto& h : r) ranking.push_back({doc_ids[h.id], h.score});
            ref_run[query_ids[q]] = std::move(ranking);
        }
        report.dense_reference_ndcg_at_10 = evaluate(c.qrels, ref_run, Measure::ndcg, 10).mean;
        report.dense_reference_recall_at_100 = evaluate(c.qrels, ref_run, Measure::recall, 100).mean;
    }

    // --- fusion: candidates once per query through the HybridSearcher (both lists at depth k0, exact-filled on
    // both sides), then fused with every parameter setting
    const HybridSearcher searcher(sparse, flat);
    auto hp = searcher.default_params();
    hp.k0_sparse = hp.k0_dense = opt.k0;
    std::vector<FusionCandidates> candidates(nq);
    sparsedense::detail::parallel_for(nq, opt.threads, [&](std::size_t b, std::size_t e, std::size_t) {
        for (std::size_t q = b; q < e; ++q) {
            candidates[q] = searcher.candidates(sparse_queries[q].view(), std::span<const float>(query_vecs.row(q)), 100, hp);
            if (!candidates[q].sparse_filled || !candidates[q].dense_filled)
                raise(ErrorKind::invalid_data, "hybrid evaluation: candidates of query ", q, " were not exact-filled");
        }
    });
    const auto fuse_all = [&](const FusionParams& p) {
        std::vector<SearchResults<>> out(nq);
        sparsedense::detail::parallel_for(nq, opt.threads, [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t q = b; q < e; ++q) out[q] = fuse(candidates[q], p, 100);
        });
        return out;
    };
    struct Sweep { ScoreNormalization n; MissingScore m; std::string name; };
    std::vector<Sweep> sweeps;
    for (auto n : {ScoreNormalization::none, ScoreNormalization::min_max, ScoreNormalization::centered_min_max, ScoreNormalization::z_score,
                   ScoreNormalization::dbsf})
        sweeps.push_back({n, MissingScore::exact, std::string("convex-") + normalization_name(n)});
    sweeps.push_back({ScoreNormalization::min_max, MissingScore::list_minimum, "convex-min_max-listmin"});
    sweeps.push_back({ScoreNormalization::min_max, MissingScore::zero, "convex-min_max-zero"});
    for (const auto& s : sweeps)
        for (const double a : opt.alphas)
            add_run(s.name, "alpha=" + detail::alpha_text(a) + ",missing=" + missing_score_name(s.m), a,
                    fuse_all(FusionParams::convex(s.n, a, s.m)));
    {
        char p[64];
        std::snprintf(p, sizeof p, "k=%g", opt.rrf_k);
        add_run("rrf", p, std::numeric_limits<double>::quiet_NaN(), fuse_all(FusionParams::rrf(opt.rrf_k)));
        for (const double a : opt.alphas) {
            std::snprintf(p, sizeof p, "k=%g,w_sparse=%s,w_dense=%s", opt.rrf_k, detail::alpha_text(a).c_str(), detail::alpha_text(1.0 - a).c_str());
            add_run("rrf-weighted", p, a, fuse_all(FusionParams::rrf(opt.rrf_k, a, 1.0 - a)));
        }
    }
    write_runs();
    return report;
}

}  // namespace sparsedense::eval
