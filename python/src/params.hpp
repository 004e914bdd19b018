// python/src/params.hpp -- search parameters of every index from Python values: the string forms of their enums,
// non-negative integers checked (a negative one is a ValueError, not a wrapped size_t), and the dict form used by
// the hybrid searcher's per-side parameters (`sparse_params={"query_cut": 12}`).
#pragma once

#include <nanobind/stl/optional.h>

#include <optional>

#include "index_common.hpp"
#include "sparsedense/dense/flat_index.hpp"
#include "sparsedense/dense/hnsw_index.hpp"
#include "sparsedense/dense/ivf_pq_index.hpp"
#include "sparsedense/sparse/clustered_inverted_index.hpp"
#include "sparsedense/sparse/clustered_tuning.hpp"
#include "sparsedense/sparse/inverted_index.hpp"

namespace sdpy {

using PyIvfPq = sd::IvfPqIndex<std::uint32_t>;

inline std::size_t to_size(long long v, const char* name) {
    if (v < 0) bad_argument(std::string(name) + " must be >= 0, got " + std::to_string(v));
    return static_cast<std::size_t>(v);
}

inline sd::ExactAlgorithm parse_algorithm(const std::string& s) {
    for (auto a : {sd::ExactAlgorithm::automatic, sd::ExactAlgorithm::maxscore, sd::ExactAlgorithm::block_max_wand,
                   sd::ExactAlgorithm::term_at_a_time, sd::ExactAlgorithm::document_at_a_time})
        if (s == sd::exact_algorithm_name(a)) return a;
    bad_argument("algorithm must be one of automatic, maxscore, block_max_wand, term_at_a_time, document_at_a_time; got '" + s + "'");
}

inline sd::BlockTraversal parse_traversal(const std::string& s) {
    if (s == "list_by_list") return sd::BlockTraversal::list_by_list;
    if (s == "first_list_sorted") return sd::BlockTraversal::first_list_sorted;
    if (s == "best_first") return sd::BlockTraversal::best_first;
    bad_argument("traversal must be one of list_by_list, first_list_sorted, best_first; got '" + s + "'");
}

inline sd::InvertedIndexSearchParams inverted_params(const std::string& algorithm, double exact_scan_fraction) {
    sd::InvertedIndexSearchParams p;
    p.algorithm = parse_algorithm(algorithm);
    p.exact_scan_fraction = exact_scan_fraction;
    return p;
}

inline sd::ClusteredInvertedIndexSearchParams clustered_params(long long query_cut, double heap_factor, long long knn, const std::string& traversal,
                                                               double exact_scan_fraction, double query_mass = 1.0) {
    sd::ClusteredInvertedIndexSearchParams p;
    p.query_cut = to_size(query_cut, "query_cut");
    p.heap_factor = static_cast<float>(heap_factor);
    p.knn = to_size(knn, "knn");
    p.traversal = parse_traversal(traversal);
    p.exact_scan_fraction = exact_scan_fraction;
    p.query_mass = query_mass;
    return p;
}

inline sd::FlatIndexSearchParams flat_params(double exact_scan_fraction) {
    sd::FlatIndexSearchParams p;
    p.exact_scan_fraction = exact_scan_fraction;
    return p;
}

inline sd::IvfPqIndexSearchParams ivfpq_params(long long nprobe, long long refine_factor, double exact_scan_fraction) {
    sd::IvfPqIndexSearchParams p;
    p.nprobe = to_size(nprobe, "nprobe");
    p.refine_factor = to_size(refine_factor, "refine_factor");
    p.exact_scan_fraction = exact_scan_fraction;
    return p;
}

/// rerank: None = every candidate of the walk (kAll).
inline sd::HnswIndexSearchParams hnsw_params(long long ef, double exact_scan_fraction, std::optional<long long> rerank) {
    sd::HnswIndexSearchParams p;
    p.ef = to_size(ef, "ef");
    p.exact_scan_fraction = exact_scan_fraction;
    p.rerank = rerank ? to_size(*rerank, "rerank") : sd::HnswIndexSearchParams::kAll;
    return p;
}

template <class T>
T dict_get(const nb::dict& d, const char* key, T fallback) {
    return d.contains(key) ? nb::cast<T>(d[key]) : fallback;
}

template <>
inline sd::InvertedIndexSearchParams params_from_dict(const nb::dict& d) {
    check_keys(d, {"algorithm", "exact_scan_fraction"}, "InvertedIndex search parameters");
    const sd::InvertedIndexSearchParams def;
    return inverted_params(dict_get<std::string>(d, "algorithm", "automatic"), dict_get(d, "exact_scan_fraction", def.exact_scan_fraction));
}

template <>
inline sd::ClusteredInvertedIndexSearchParams params_from_dict(const nb::dict& d) {
    check_keys(d, {"query_cut", "heap_factor", "knn", "traversal", "exact_scan_fraction", "query_mass"}, "ClusteredInvertedIndex search parameters");
    const sd::ClusteredInvertedIndexSearchParams def;
    return clustered_params(dict_get<long long>(d, "query_cut", static_cast<long long>(def.query_cut)),
                            dict_get<double>(d, "heap_factor", def.heap_factor), dict_get<long long>(d, "knn", static_cast<long long>(def.knn)),
                            dict_get<std::string>(d, "traversal", "best_first"), dict_get(d, "exact_scan_fraction", def.exact_scan_fraction),
                            dict_get(d, "query_mass", def.query_mass));
}

template <>
inline sd::FlatIndexSearchParams params_from_dict(const nb::dict& d) {
    check_keys(d, {"exact_scan_fraction"}, "FlatIndex search parameters");
    return flat_params(dict_get(d, "exact_scan_fraction", sd::FlatIndexSearchParams{}.exact_scan_fraction));
}

template <>
inline sd::IvfPqIndexSearchParams params_from_dict(const nb::dict& d) {
    check_keys(d, {"nprobe", "refine_factor", "exact_scan_fraction"}, "IvfPqIndex search parameters");
    const sd::IvfPqIndexSearchParams def;
    return ivfpq_params(dict_get<long long>(d, "nprobe", static_cast<long long>(def.nprobe)),
                        dict_get<long long>(d, "refine_factor", static_cast<long long>(def.refine_factor)),
                        dict_get(d, "exact_scan_fraction", def.exact_scan_fraction));
}

template <>
inline sd::HnswIndexSearchParams params_from_dict(const nb::dict& d) {
    check_keys(d, {"ef", "exact_scan_fraction", "rerank"}, "HnswIndex search parameters");
    const sd::HnswIndexSearchParams def;
    std::optional<long long> rerank = static_cast<long long>(def.rerank);
    if (d.contains("rerank")) rerank = nb::cast<std::optional<long long>>(d["rerank"]);
    return hnsw_params(dict_get<long long>(d, "ef", static_cast<long long>(def.ef)), dict_get(d, "exact_scan_fraction", def.exact_scan_fraction),
                       rerank);
}

}  // namespace sdpy
