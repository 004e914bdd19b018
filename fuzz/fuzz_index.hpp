// Shared body of the index-loader targets: the input (checksums fixed or not, see fuzz_support.hpp) is written to
// a file and given to Index::load(path), the public entry point. When the load succeeds, the index is used: a few
// queries derived from the input are searched (results at most k, best first, each id once, ids in range for
// indexes whose ids are positions, finite scores), every hit is re-scored with score(q, id), and the index is
// saved and loaded again, answering the same. With SPARSEDENSE_FUZZ_STRICT=1 in the environment, exact indexes
// must also agree with their own score(q, id) on every hit (a stricter notion of "consistent file").
#pragma once

#include <cmath>
#include <cstdlib>
#include <unordered_set>

#include "fuzz_support.hpp"
#include "sparsedense/core/search_result.hpp"
#include "sparsedense/core/sparse_vector.hpp"

namespace sparsedense::fuzz {

inline bool strict_mode() {
    static const bool strict = [] {
        const char* s = std::getenv("SPARSEDENSE_FUZZ_STRICT");
        return s != nullptr && *s == '1';
    }();
    return strict;
}

/// Sparse queries over `dim` terms: a few term ids spread over the vocabulary, weights from the input bytes.
inline std::vector<SparseVector<float>> sparse_queries(std::size_t dim, const std::uint8_t* data, std::size_t size) {
    std::vector<SparseVector<float>> out;
    if (dim == 0) return out;
    for (std::size_t q = 0; q < 3; ++q) {
        SparseVector<float> v;
        std::uint64_t prev = 0;
        bool first = true;
        for (std::uint64_t t : {std::uint64_t{0}, std::uint64_t{q + 1}, dim / 3, dim / 2 + q, dim - 1}) {
            if (t >= dim || (!first && t <= prev)) continue;
            v.ids.push_back(static_cast<std::uint32_t>(t));
            const std::uint8_t b = size ? data[(t * 7 + q) % size] : 1;
            v.values.push_back(0.25f + static_cast<float>(b) / 64.0f);
            prev = t;
            first = false;
        }
        out.push_back(std::move(v));
    }
    return out;
}

/// Dense queries of dimension `dim` (none when dim is implausibly large for the input: a query is the caller's
/// allocation, not the loader's).
inline std::vector<std::vector<float>> dense_queries(std::size_t dim, const std::uint8_t* data, std::size_t size) {
    std::vector<std::vector<float>> out;
    if (dim == 0 || dim > 4096) return out;
    for (std::size_t q = 0; q < 3; ++q) {
        std::vector<float> v(dim);
        for (std::size_t j = 0; j < dim; ++j) v[j] = size ? static_cast<float>(static_cast<int>(data[(j * 13 + q * 5) % size]) - 128) / 32.0f : 1.0f;
        out.push_back(std::move(v));
    }
    return out;
}

/// Checks one result list: at most k hits, best first, distinct ids, finite scores; ids below size() when
/// `ids_are_positions`.
template <class Results>
void check_results(const Results& hits, std::size_t k, std::size_t size, bool ids_are_positions, bool tie_order = true) {
    FUZZ_CHECK(hits.size() <= k);
    if (ids_are_positions) FUZZ_CHECK(hits.size() <= size);
    std::unordered_set<std::uint64_t> seen;
    for (std::size_t i = 0; i < hits.size(); ++i) {
        FUZZ_CHECK(!std::isnan(hits[i].score));
        if (ids_are_positions) FUZZ_CHECK(static_cast<std::uint64_t>(hits[i].id) < size);
        FUZZ_CHECK(seen.insert(static_cast<std::uint64_t>(hits[i].id)).second);
        if (i) FUZZ_CHECK(tie_order ? !ranks_before(hits[i], hits[i - 1]) : !(hits[i].score > hits[i - 1].score));
    }
}

/// The whole target for one index type. `search(index, query)` returns its results for k = 10; `queries` are
/// built by sparse_queries or dense_queries.
/// Known loader bugs, recorded in docs/reliability.md with a reproducer under tests/fuzz_regressions/known_bugs/:
/// a target skips the inputs a `known_bug(path)` predicate recognises (precisely: the predicate re-checks the one
/// condition the loader misses), so that fuzzing goes on past them; with SPARSEDENSE_FUZZ_KNOWN_BUGS=1 in the
/// environment nothing is skipped (to check a fix: the reproducer must then load or throw Error).
inline bool skip_known_bugs() {
    static const bool keep = [] {
        const char* s = std::getenv("SPARSEDENSE_FUZZ_KNOWN_BUGS");
        return s != nullptr && *s == '1';
    }();
    return !keep;
}
inline bool no_known_bug(const std::string&) { return false; }

template <class Index, class MakeQueries, class Search, class KnownBug = decltype(&no_known_bug)>
int fuzz_index_load(const char* tag, const std::uint8_t* data, std::size_t size, bool ids_are_positions, bool exact, MakeQueries make_queries,
                    Search search, KnownBug known_bug = &no_known_bug) {
    static InputFile in(tag);
    const auto bytes = index_file_bytes(data, size);
    const std::string& path = in.write(bytes);
    if (skip_known_bugs() && known_bug(path)) return 0;
    AllocationBound bound(size);
    const auto index = parse([&] { return Index::load(path); });
    if (!index) return 0;
    const std::size_t k = 10;
    const auto queries = make_queries(index->dimension(), data, size);
    std::vector<decltype(search(*index, queries.front()))> first;
    for (const auto& q : queries) {
        const auto hits = parse([&] { return search(*index, q); });
        FUZZ_CHECK(hits.has_value());  // a loaded index answers every valid query
        check_results(*hits, k, index->size(), ids_are_positions, true);
        bool can_score = true;
        if constexpr (requires { index->keeps_vectors(); }) can_score = index->keeps_vectors();  // IVF-PQ scores from kept vectors
        for (const auto& h : *hits) {
            if (!can_score) break;
            const auto s = parse([&] { return index->score(q, h.id); });
            FUZZ_CHECK(s.has_value());
            if (exact && strict_mode()) FUZZ_CHECK(*s == h.score || std::fabs(*s - h.score) <= 1e-3f * (1.0f + std::fabs(h.score)));
        }
        first.push_back(*hits);
    }
    // save and load again: the same answers
    const std::string copy = in.sibling(".copy.sdx");
    FUZZ_CHECK(run([&] { index->save(copy); }));
    const auto again = parse([&] { return Index::load(copy); });
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->size() == index->size() && again->dimension() == index->dimension());
    for (std::size_t i = 0; i < queries.size(); ++i) {
        const auto hits = parse([&] { return search(*again, queries[i]); });
        FUZZ_CHECK(hits.has_value() && *hits == first[i]);
    }
    return 0;
}

}  // namespace sparsedense::fuzz
