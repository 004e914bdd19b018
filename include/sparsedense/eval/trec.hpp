// sparsedense/eval/trec.hpp
//
// TREC file formats, as read and written by trec_eval:
//   qrels: "query-id iteration doc-id grade" per line (iteration is ignored, conventionally 0);
//   run:   "query-id Q0 doc-id rank score tag" per line.
// Readers throw sparsedense::Error naming "path:line" on malformed lines (wrong field count, non-numeric grade /
// rank / score, a grade outside the int range, a NaN score, a document listed twice for one query). A run is
// returned best first per query: by score descending, ties by the file's rank column, then by file order. Writers produce the same formats (scores with
// enough digits to round-trip a float).
#pragma once

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <unordered_set>

#include "sparsedense/eval/run.hpp"

namespace sparsedense::eval {

[[nodiscard]] inline Qrels read_trec_qrels(const std::string& path) {
    Qrels qrels;
    detail::for_each_line(path, [&](std::string_view line, std::size_t n) {
        if (detail::is_blank(line)) return;
        const auto f = detail::split_whitespace(line);
        if (f.size() != 4) detail::fail_line(path, n, "expected 4 fields 'query-id iteration doc-id grade', got " + std::to_string(f.size()));
        int grade = 0;
        if (!detail::parse_grade(f[3], grade)) detail::fail_line(path, n, "grade '" + std::string(f[3]) + "' is not an integer in the int range");
        auto& j = qrels[std::string(f[0])];
        if (!j.emplace(std::string(f[2]), grade).second)
            detail::fail_line(path, n, "document '" + std::string(f[2]) + "' judged twice for query '" + std::string(f[0]) + "'");
    });
    return qrels;
}

inline void write_trec_qrels(const std::string& path, const Qrels& qrels) {
    std::ofstream out(path, std::ios::binary);
    if (!out) raise(ErrorKind::io, "cannot open '", path, "' for writing");
    for (const auto& [qid, judgments] : qrels) {
        std::map<std::string, int> sorted(judgments.begin(), judgments.end());
        for (const auto& [doc, grade] : sorted) out << qid << " 0 " << doc << ' ' << grade << '\n';
    }
    if (!out) raise(ErrorKind::io, "error while writing '", path, "'");
}

[[nodiscard]] inline Run read_trec_run(const std::string& path) {
    struct Entry { RankedDocument doc; long long rank; std::size_t order; };
    std::map<std::string, std::vector<Entry>> entries;
    std::map<std::string, std::unordered_set<std::string>> seen;
    std::size_t order = 0;
    detail::for_each_line(path, [&](std::string_view line, std::size_t n) {
        if (detail::is_blank(line)) return;
        const auto f = detail::split_whitespace(line);
        if (f.size() != 6) detail::fail_line(path, n, "expected 6 fields 'query-id Q0 doc-id rank score tag', got " + std::to_string(f.size()));
        long long rank = 0;
        double score = 0.0;
        if (!detail::parse_int(f[3], rank)) detail::fail_line(path, n, "rank '" + std::string(f[3]) + "' is not an integer");
        if (!detail::parse_double(f[4], score) || std::isnan(score)) detail::fail_line(path, n, "score '" + std::string(f[4]) + "' is not a number");
        const std::string qid(f[0]);
        if (!seen[qid].emplace(f[2]).second)
            detail::fail_line(path, n, "document '" + std::string(f[2]) + "' listed twice for query '" + qid + "'");
        entries[qid].push_back({{std::string(f[2]), score}, rank, order++});
    });
    Run run;
    for (auto& [qid, list] : entries) {
        std::sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) {
            if (a.doc.score != b.doc.score) return a.doc.score > b.doc.score;
            if (a.rank != b.rank) return a.rank < b.rank;
            return a.order < b.order;
        });
        auto& r = run[qid];
        r.reserve(list.size());
        for (auto& e : list) r.push_back(std::move(e.doc));
    }
    return run;
}

/// Writes "qid Q0 doc rank score tag" lines, ranks from 1 in the order given.
inline void write_trec_run(const std::string& path, const Run& run, const std::string& tag = "sparsedense") {
    std::ofstream out(path, std::ios::binary);
    if (!out) raise(ErrorKind::io, "cannot open '", path, "' for writing");
    char score[64];
    for (const auto& [qid, ranking] : run) {
        for (std::size_t i = 0; i < ranking.size(); ++i) {
            std::snprintf(score, sizeof score, "%.9g", ranking[i].score);
            out << qid << " Q0 " << ranking[i].id << ' ' << (i + 1) << ' ' << score << ' ' << tag << '\n';
        }
    }
    if (!out) raise(ErrorKind::io, "error while writing '", path, "'");
}

}  // namespace sparsedense::eval
