// sparsedense/eval/metrics.hpp
//
// IR effectiveness metrics over a ranking and one query's judgments, with trec_eval's conventions:
//   nDCG@k    -- DCG = sum_{i=1..k} gain_i / log2(i + 1) with *linear* gain = the grade (graded judgments,
//                trec_eval's ndcg_cut), divided by the DCG of the ideal ranking of all positively judged documents;
//   Recall@k  -- relevant documents in the top k / all relevant documents;
//   MRR@k     -- 1 / rank of the first relevant document in the top k (0 when none);
//   AP (MAP)  -- mean of precision at each relevant document retrieved, over all relevant documents;
// where "relevant" means grade >= 1 (trec_eval's default relevance level). evaluate() averages over the queries
// that have at least one relevant document (a judged query missing from the run scores 0; unjudged queries in the
// run are ignored), which is what BEIR / pytrec_eval-based numbers use. neighbor_recall() is the ANN recall@k of
// results against exact ground-truth neighbours: |top-k found ∩ true top-k| / k.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/validation.hpp"
#include "sparsedense/eval/run.hpp"

namespace sparsedense::eval {

namespace detail {
inline int grade_of(const Judgments& j, const std::string& doc) {
    const auto it = j.find(doc);
    return it == j.end() ? 0 : it->second;
}
inline std::size_t count_relevant(const Judgments& j) {
    return static_cast<std::size_t>(std::count_if(j.begin(), j.end(), [](const auto& p) { return p.second > 0; }));
}
}  // namespace detail

/// nDCG@k of one ranking (linear gain, log2 discount). 0 when the query has no relevant document.
[[nodiscard]] inline double ndcg_at_k(const Ranking& ranking, const Judgments& judgments, std::size_t k) {
    validate_k(k, "ndcg_at_k");
    double dcg = 0.0;
    const std::size_t n = std::min(k, ranking.size());
    for (std::size_t i = 0; i < n; ++i) {
        const int g = detail::grade_of(judgments, ranking[i].id);
        if (g > 0) dcg += static_cast<double>(g) / std::log2(static_cast<double>(i) + 2.0);
    }
    std::vector<int> ideal;
    for (const auto& [doc, g] : judgments)
        if (g > 0) ideal.push_back(g);
    std::sort(ideal.begin(), ideal.end(), std::greater<>());
    double idcg = 0.0;
    for (std::size_t i = 0; i < std::min(k, ideal.size()); ++i) idcg += static_cast<double>(ideal[i]) / std::log2(static_cast<double>(i) + 2.0);
    return idcg > 0.0 ? dcg / idcg : 0.0;
}

/// Recall@k: relevant documents among the first k / all relevant documents (0 when none are relevant).
[[nodiscard]] inline double recall_at_k(const Ranking& ranking, const Judgments& judgments, std::size_t k) {
    validate_k(k, "recall_at_k");
    const std::size_t relevant = detail::count_relevant(judgments);
    if (relevant == 0) return 0.0;
    std::size_t found = 0;
    for (std::size_t i = 0; i < std::min(k, ranking.size()); ++i) found += detail::grade_of(judgments, ranking[i].id) > 0;
    return static_cast<double>(found) / static_cast<double>(relevant);
}

/// Reciprocal rank of the first relevant document within the first k (0 when none).
[[nodiscard]] inline double reciprocal_rank_at_k(const Ranking& ranking, const Judgments& judgments, std::size_t k) {
    validate_k(k, "reciprocal_rank_at_k");
    for (std::size_t i = 0; i < std::min(k, ranking.size()); ++i)
        if (detail::grade_of(judgments, ranking[i].id) > 0) return 1.0 / static_cast<double>(i + 1);
    return 0.0;
}

/// Average precision over the whole ranking (the per-query term of MAP).
[[nodiscard]] inline double average_precision(const Ranking& ranking, const Judgments& judgments) {
    const std::size_t relevant = detail::count_relevant(judgments);
    if (relevant == 0) return 0.0;
    double sum = 0.0;
    std::size_t found = 0;
    for (std::size_t i = 0; i < ranking.size(); ++i) {
        if (detail::grade_of(judgments, ranking[i].id) > 0) {
            ++found;
            sum += static_cast<double>(found) / static_cast<double>(i + 1);
        }
    }
    return sum / static_cast<double>(relevant);
}

enum class Measure { ndcg, recall, reciprocal_rank, average_precision };

/// One measure of one ranking (k ignored by average_precision).
[[nodiscard]] inline double measure(Measure m, const Ranking& ranking, const Judgments& judgments, std::size_t k) {
    switch (m) {
        case Measure::ndcg: return ndcg_at_k(ranking, judgments, k);
        case Measure::recall: return recall_at_k(ranking, judgments, k);
        case Measure::reciprocal_rank: return reciprocal_rank_at_k(ranking, judgments, k);
        case Measure::average_precision: return average_precision(ranking, judgments);
    }
    return 0.0;
}

struct Evaluation {
    double mean = 0.0;                       ///< mean over the evaluated queries
    std::size_t queries = 0;                 ///< number of evaluated queries (those with >= 1 relevant document)
    std::map<std::string, double> per_query; ///< each evaluated query's value
};

/// Mean of a measure over the judged queries (>= 1 relevant document); a judged query absent from the run scores 0.
[[nodiscard]] inline Evaluation evaluate(const Qrels& qrels, const Run& run, Measure m, std::size_t k = 10) {
    Evaluation e;
    const Ranking empty;
    double sum = 0.0;
    for (const auto& [qid, judgments] : qrels) {
        if (detail::count_relevant(judgments) == 0) continue;
        const auto it = run.find(qid);
        const double v = measure(m, it == run.end() ? empty : it->second, judgments, k);
        e.per_query.emplace(qid, v);
        sum += v;
        ++e.queries;
    }
    e.mean = e.queries > 0 ? sum / static_cast<double>(e.queries) : 0.0;
    return e;
}

[[nodiscard]] inline double mean_ndcg_at_k(const Qrels& q, const Run& r, std::size_t k) { return evaluate(q, r, Measure::ndcg, k).mean; }
[[nodiscard]] inline double mean_recall_at_k(const Qrels& q, const Run& r, std::size_t k) { return evaluate(q, r, Measure::recall, k).mean; }
[[nodiscard]] inline double mrr_at_k(const Qrels& q, const Run& r, std::size_t k) { return evaluate(q, r, Measure::reciprocal_rank, k).mean; }
[[nodiscard]] inline double mean_average_precision(const Qrels& q, const Run& r) { return evaluate(q, r, Measure::average_precision).mean; }

/// ANN recall@k of one result list against the exact neighbours (ids of the true top-k or more, best first):
/// |{first k results} ∩ {first k truth ids}| / k. k must not exceed truth.size().
template <class Id, class Score, class TruthId>
[[nodiscard]] double neighbor_recall(const SearchResults<Id, Score>& results, std::span<const TruthId> truth, std::size_t k) {
    validate_k(k, "neighbor_recall");
    if (k > truth.size()) raise(ErrorKind::invalid_argument, "neighbor_recall: k = ", k, " exceeds the ", truth.size(), " ground-truth ids");
    std::vector<std::uint64_t> t;
    t.reserve(k);
    for (std::size_t i = 0; i < k; ++i) t.push_back(static_cast<std::uint64_t>(truth[i]));
    std::sort(t.begin(), t.end());
    std::size_t hits = 0;
    for (std::size_t i = 0; i < std::min(k, results.size()); ++i)
        hits += std::binary_search(t.begin(), t.end(), static_cast<std::uint64_t>(results[i].id));
    return static_cast<double>(hits) / static_cast<double>(k);
}

/// Mean neighbor_recall over queries; truth is row-major, truth_stride ids per query.
template <class Id, class Score, class TruthId>
[[nodiscard]] double mean_neighbor_recall(const std::vector<SearchResults<Id, Score>>& results, std::span<const TruthId> truth,
                                          std::size_t truth_stride, std::size_t k) {
    if (results.empty()) return 0.0;
    if (truth.size() < results.size() * truth_stride)
        raise(ErrorKind::dimension_mismatch, "mean_neighbor_recall: ", results.size(), " queries x ", truth_stride,
              " ids need ", results.size() * truth_stride, " ground-truth ids, got ", truth.size());
    double sum = 0.0;
    for (std::size_t q = 0; q < results.size(); ++q) sum += neighbor_recall(results[q], truth.subspan(q * truth_stride, truth_stride), k);
    return sum / static_cast<double>(results.size());
}

}  // namespace sparsedense::eval
