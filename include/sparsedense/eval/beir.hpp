// sparsedense/eval/beir.hpp
//
// BEIR collection files (Thakur et al., NeurIPS 2021 Datasets & Benchmarks): corpus.jsonl with one
// {"_id", "title", "text"} object per line, queries.jsonl with {"_id", "text"}, and qrels/*.tsv with a header
// line then "query-id corpus-id score". Extra members (e.g. "metadata") are ignored; a missing title is empty; a
// missing "_id" or "text", a repeated id, bad JSON or a bad qrels line throws sparsedense::Error naming
// "path:line". read_beir_collection() loads a folder: corpus.jsonl, queries.jsonl and qrels.tsv (or
// qrels/test.tsv), keeping only queries that have judgments when asked (the BEIR test-split convention).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sparsedense/eval/json.hpp"
#include "sparsedense/eval/run.hpp"

namespace sparsedense::eval {

struct BeirDocument {
    std::string id;
    std::string title;
    std::string text;
    friend bool operator==(const BeirDocument&, const BeirDocument&) = default;
};

struct BeirQuery {
    std::string id;
    std::string text;
    friend bool operator==(const BeirQuery&, const BeirQuery&) = default;
};

namespace detail {
template <class F>
void for_each_json_line(const std::string& path, F&& f) {
    for_each_line(path, [&](std::string_view line, std::size_t n) {
        if (is_blank(line)) return;
        std::vector<JsonMember> members;
        try {
            members = parse_json_object(line);
        } catch (const Error& e) {
            // keep the scanner's own message ("json, column c: ..."), without a second "sparsedense: <kind>: " prefix
            std::string_view what = e.what();
            const std::string prefix = std::string("sparsedense: ") + error_kind_name(e.kind()) + ": ";
            if (what.starts_with(prefix)) what.remove_prefix(prefix.size());
            fail_line(path, n, what);
        }
        f(members, n);
    });
}
inline const JsonMember* find_member(const std::vector<JsonMember>& members, std::string_view key) {
    for (const auto& m : members)
        if (m.key == key) return &m;
    return nullptr;
}
}  // namespace detail

[[nodiscard]] inline std::vector<BeirDocument> read_beir_corpus(const std::string& path) {
    std::vector<BeirDocument> docs;
    std::unordered_set<std::string> ids;
    detail::for_each_json_line(path, [&](const std::vector<JsonMember>& m, std::size_t n) {
        const auto* id = detail::find_member(m, "_id");
        const auto* text = detail::find_member(m, "text");
        const auto* title = detail::find_member(m, "title");
        if (id == nullptr) detail::fail_line(path, n, "document has no \"_id\"");
        if (text == nullptr) detail::fail_line(path, n, "document '" + id->value + "' has no \"text\"");
        if (!ids.insert(id->value).second) detail::fail_line(path, n, "document id '" + id->value + "' repeated");
        docs.push_back({id->value, title != nullptr && title->is_string ? title->value : std::string(), text->value});
    });
    return docs;
}

[[nodiscard]] inline std::vector<BeirQuery> read_beir_queries(const std::string& path) {
    std::vector<BeirQuery> queries;
    std::unordered_set<std::string> ids;
    detail::for_each_json_line(path, [&](const std::vector<JsonMember>& m, std::size_t n) {
        const auto* id = detail::find_member(m, "_id");
        const auto* text = detail::find_member(m, "text");
        if (id == nullptr) detail::fail_line(path, n, "query has no \"_id\"");
        if (text == nullptr) detail::fail_line(path, n, "query '" + id->value + "' has no \"text\"");
        if (!ids.insert(id->value).second) detail::fail_line(path, n, "query id '" + id->value + "' repeated");
        queries.push_back({id->value, text->value});
    });
    return queries;
}

/// qrels TSV: an optional header line (recognised by a non-integer last field on line 1), then
/// "query-id corpus-id score" (tabs or spaces).
[[nodiscard]] inline Qrels read_beir_qrels(const std::string& path) {
    Qrels qrels;
    detail::for_each_line(path, [&](std::string_view line, std::size_t n) {
        if (detail::is_blank(line)) return;
        const auto f = detail::split_whitespace(line);
        long long any = 0;
        int grade = 0;
        if (n == 1 && (f.empty() || !detail::parse_int(f.back(), any))) return;  // header
        if (f.size() != 3) detail::fail_line(path, n, "expected 3 fields 'query-id corpus-id score', got " + std::to_string(f.size()));
        if (!detail::parse_grade(f[2], grade)) detail::fail_line(path, n, "score '" + std::string(f[2]) + "' is not an integer in the int range");
        if (!qrels[std::string(f[0])].emplace(std::string(f[1]), grade).second)
            detail::fail_line(path, n, "document '" + std::string(f[1]) + "' judged twice for query '" + std::string(f[0]) + "'");
    });
    return qrels;
}

inline void write_beir_qrels(const std::string& path, const Qrels& qrels) {
    std::ofstream out(path, std::ios::binary);
    if (!out) raise(ErrorKind::io, "cannot open '", path, "' for writing");
    out << "query-id\tcorpus-id\tscore\n";
    for (const auto& [qid, judgments] : qrels) {
        std::map<std::string, int> sorted(judgments.begin(), judgments.end());
        for (const auto& [doc, grade] : sorted) out << qid << '\t' << doc << '\t' << grade << '\n';
    }
    if (!out) raise(ErrorKind::io, "error while writing '", path, "'");
}

inline void write_beir_corpus(const std::string& path, const std::vector<BeirDocument>& docs) {
    std::ofstream out(path, std::ios::binary);
    if (!out) raise(ErrorKind::io, "cannot open '", path, "' for writing");
    std::string line;
    for (const auto& d : docs) {
        line = "{\"_id\": ";
        append_json_string(line, d.id);
        line += ", \"title\": ";
        append_json_string(line, d.title);
        line += ", \"text\": ";
        append_json_string(line, d.text);
        line += "}\n";
        out << line;
    }
    if (!out) raise(ErrorKind::io, "error while writing '", path, "'");
}

inline void write_beir_queries(const std::string& path, const std::vector<BeirQuery>& queries) {
    std::ofstream out(path, std::ios::binary);
    if (!out) raise(ErrorKind::io, "cannot open '", path, "' for writing");
    std::string line;
    for (const auto& q : queries) {
        line = "{\"_id\": ";
        append_json_string(line, q.id);
        line += ", \"text\": ";
        append_json_string(line, q.text);
        line += "}\n";
        out << line;
    }
    if (!out) raise(ErrorKind::io, "error while writing '", path, "'");
}

/// A BEIR folder in memory.
struct BeirCollection {
    std::vector<BeirDocument> corpus;
    std::vector<BeirQuery> queries;
    Qrels qrels;
};

/// Reads DIR/corpus.jsonl, DIR/queries.jsonl and DIR/qrels.tsv (else DIR/qrels/test.tsv; or `qrels_path` when
/// given, e.g. a train split). With only_judged_queries, queries without any judgment are dropped (SciFact's
/// queries.jsonl lists train queries too).
[[nodiscard]] inline BeirCollection read_beir_collection(const std::string& dir, bool only_judged_queries = true,
                                                         const std::string& qrels_path = "") {
    namespace fs = std::filesystem;
    const fs::path root(dir);
    if (!fs::is_directory(root)) raise(ErrorKind::io, "BEIR collection folder '", dir, "' not found");
    BeirCollection c;
    c.corpus = read_beir_corpus((root / "corpus.jsonl").string());
    c.queries = read_beir_queries((root / "queries.jsonl").string());
    fs::path qrels = root / "qrels.tsv";
    if (!qrels_path.empty()) qrels = qrels_path;
    else if (!fs::exists(qrels)) qrels = root / "qrels" / "test.tsv";
    c.qrels = read_beir_qrels(qrels.string());
    if (only_judged_queries)
        std::erase_if(c.queries, [&](const BeirQuery& q) { return c.qrels.find(q.id) == c.qrels.end(); });
    return c;
}

}  // namespace sparsedense::eval
