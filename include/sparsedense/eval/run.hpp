// sparsedense/eval/run.hpp
//
// The data types of IR evaluation, shared by the readers, writers and metrics:
//   Qrels -- relevance judgments: query id -> (document id -> grade). Grade > 0 means relevant; larger is more
//            relevant (graded judgments feed nDCG's linear gain); 0 or negative means judged non-relevant.
//   Run   -- a system's ranked output: query id -> documents best first (id, score).
// Ids are strings, as in TREC and BEIR files. Also the line-oriented file helpers the readers share (errors carry
// "path:line").
#pragma once

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sparsedense/core/error.hpp"
#include "sparsedense/core/search_result.hpp"

namespace sparsedense::eval {

/// Judgments of one query: document id -> grade.
using Judgments = std::unordered_map<std::string, int>;
/// All judgments: query id -> Judgments (ordered by query id so output is deterministic).
using Qrels = std::map<std::string, Judgments>;

struct RankedDocument {
    std::string id;
    double score = 0.0;
    friend bool operator==(const RankedDocument&, const RankedDocument&) = default;
};
/// One query's ranking, best first.
using Ranking = std::vector<RankedDocument>;
/// A run: query id -> ranking.
using Run = std::map<std::string, Ranking>;

/// Converts library search results (internal u32 ids) to a Ranking using a table of external ids.
template <class Id, class Score>
[[nodiscard]] Ranking to_ranking(const SearchResults<Id, Score>& results, const std::vector<std::string>& external_ids) {
    Ranking r;
    r.reserve(results.size());
    for (const auto& hit : results) {
        if (static_cast<std::size_t>(hit.id) >= external_ids.size())
            raise(ErrorKind::out_of_range, "to_ranking: id ", static_cast<unsigned long long>(hit.id), " has no external id (",
                  external_ids.size(), " known)");
        r.push_back({external_ids[static_cast<std::size_t>(hit.id)], static_cast<double>(hit.score)});
    }
    return r;
}

namespace detail {

/// Reads a text file line by line, calling f(std::string_view line, std::size_t line_number) (1-based, '\r' stripped).
template <class F>
void for_each_line(const std::string& path, F&& f) {
    std::ifstream in(path, std::ios::binary);
    if (!in) raise(ErrorKind::io, "cannot open '", path, "' for reading");
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        f(std::string_view(line), number);
    }
    if (in.bad()) raise(ErrorKind::io, "error while reading '", path, "' after line ", number);
}

/// Splits on runs of spaces/tabs.
inline std::vector<std::string_view> split_whitespace(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t b = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > b) out.push_back(line.substr(b, i - b));
    }
    return out;
}

inline bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t'; });
}

/// Parses a whole-field integer in [-(2^63 - 1), 2^63 - 1]; false when the field is not one (or overflows).
inline bool parse_int(std::string_view s, long long& out) {
    if (s.empty()) return false;
    std::size_t i = 0;
    bool negative = false;
    if (s[0] == '-' || s[0] == '+') { negative = s[0] == '-'; i = 1; }
    if (i == s.size()) return false;
    long long v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        const int digit = s[i] - '0';
        if (v > (std::numeric_limits<long long>::max() - digit) / 10) return false;
        v = v * 10 + digit;
    }
    out = negative ? -v : v;
    return true;
}

/// Parses a relevance grade: a whole-field integer that fits an int; false otherwise.
inline bool parse_grade(std::string_view s, int& out) {
    long long v = 0;
    if (!parse_int(s, v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
    out = static_cast<int>(v);
    return true;
}

/// Parses a whole-field floating-point number; false when the field is not one.
inline bool parse_double(std::string_view s, double& out) {
    if (s.empty()) return false;
    const std::string tmp(s);
    char* end = nullptr;
    out = std::strtod(tmp.c_str(), &end);
    return end == tmp.c_str() + tmp.size();
}

[[noreturn]] inline void fail_line(const std::string& path, std::size_t line, std::string_view what) {
    raise(ErrorKind::invalid_data, path, ":", line, ": ", what);
}

}  // namespace detail

}  // namespace sparsedense::eval
