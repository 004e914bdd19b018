// python/src/text_eval.cpp -- BM25 from text (Analyzer, Bm25Encoder: include/sparsedense/text/), the BEIR and TREC
// readers and writers and the trec_eval-convention metrics (include/sparsedense/eval/). Runs cross the boundary as
// {query_id: {doc_id: score}} dicts (the pytrec_eval / ranx / ir-measures form); a ranking is that dict sorted by
// score descending, ties by document id descending (trec_eval's order).
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/unordered_map.h>

#include <algorithm>

#include "common.hpp"
#include "sparsedense/eval/beir.hpp"
#include "sparsedense/eval/metrics.hpp"
#include "sparsedense/eval/run.hpp"
#include "sparsedense/eval/trec.hpp"
#include "sparsedense/text/analyzer.hpp"
#include "sparsedense/text/bm25.hpp"

namespace sdpy {

namespace {

namespace ev = sd::eval;
namespace tx = sd::text;

using PyRun = std::map<std::string, std::unordered_map<std::string, double>>;

ev::Run to_cpp_run(const PyRun& run) {
    ev::Run out;
    for (const auto& [qid, docs] : run) {
        ev::Ranking r;
        r.reserve(docs.size());
        for (const auto& [doc, score] : docs) r.push_back({doc, score});
        std::sort(r.begin(), r.end(), [](const ev::RankedDocument& a, const ev::RankedDocument& b) {
            return a.score > b.score || (a.score == b.score && a.id > b.id);
        });
        out.emplace(qid, std::move(r));
    }
    return out;
}

PyRun to_py_run(const ev::Run& run) {
    PyRun out;
    for (const auto& [qid, ranking] : run) {
        auto& d = out[qid];
        for (const auto& doc : ranking) d.emplace(doc.id, doc.score);
    }
    return out;
}

ev::Measure parse_measure(const std::string& s) {
    if (s == "ndcg") return ev::Measure::ndcg;
    if (s == "recall") return ev::Measure::recall;
    if (s == "mrr" || s == "rr" || s == "reciprocal_rank") return ev::Measure::reciprocal_rank;
    if (s == "map" || s == "ap" || s == "average_precision") return ev::Measure::average_precision;
    bad_argument("measure must be 'ndcg', 'recall', 'mrr' or 'map', got '" + s + "'");
}

nb::object csr_to_scipy(const sd::CsrMatrix<float>& m, std::size_t rows) {
    const std::size_t nnz = m.indices.size();
    auto* indptr = new std::int64_t[rows + 1];
    auto* indices = new std::int32_t[nnz];
    auto* values = new float[nnz];
    for (std::size_t i = 0; i <= rows; ++i) indptr[i] = static_cast<std::int64_t>(m.indptr[i]);
    for (std::size_t i = 0; i < nnz; ++i) indices[i] = static_cast<std::int32_t>(m.indices[i]);
    std::copy(m.values.begin(), m.values.end(), values);
    nb::capsule o1(indptr, [](void* p) noexcept { delete[] static_cast<std::int64_t*>(p); });
    nb::capsule o2(indices, [](void* p) noexcept { delete[] static_cast<std::int32_t*>(p); });
    nb::capsule o3(values, [](void* p) noexcept { delete[] static_cast<float*>(p); });
    nb::object a1 = nb::cast(nb::ndarray<nb::numpy, std::int64_t, nb::ndim<1>>(indptr, {rows + 1}, o1));
    nb::object a2 = nb::cast(nb::ndarray<nb::numpy, std::int32_t, nb::ndim<1>>(indices, {nnz}, o2));
    nb::object a3 = nb::cast(nb::ndarray<nb::numpy, float, nb::ndim<1>>(values, {nnz}, o3));
    nb::module_ sp = nb::module_::import_("scipy.sparse");
    return sp.attr("csr_matrix")(nb::make_tuple(a3, a2, a1), "shape"_a = nb::make_tuple(rows, m.cols));
}

nb::tuple sparse_vector_to_python(const sd::SparseVector<float>& v) {
    const std::size_t n = v.ids.size();
    auto* ids = new std::int32_t[n];
    auto* vals = new float[n];
    for (std::size_t i = 0; i < n; ++i) {
        ids[i] = static_cast<std::int32_t>(v.ids[i]);
        vals[i] = v.values[i];
    }
    nb::capsule o1(ids, [](void* p) noexcept { delete[] static_cast<std::int32_t*>(p); });
    nb::capsule o2(vals, [](void* p) noexcept { delete[] static_cast<float*>(p); });
    return nb::make_tuple(nb::ndarray<nb::numpy, std::int32_t, nb::ndim<1>>(ids, {n}, o1), nb::ndarray<nb::numpy, float, nb::ndim<1>>(vals, {n}, o2));
}

tx::AnalyzerOptions analyzer_options(bool stem, bool remove_stop_words, bool lowercase, bool fold_accents) {
    tx::AnalyzerOptions o;
    o.stem = stem;
    o.remove_stop_words = remove_stop_words;
    o.tokenizer.lowercase = lowercase;
    o.tokenizer.fold_accents = fold_accents;
    return o;
}

}  // namespace

void register_text_eval(nb::module_& m) {
    nb::class_<tx::Analyzer>(m, "Analyzer",
                             "The text pipeline of BM25: tokenize (lowercase, ASCII folding, split on non-alphanumerics), drop Lucene's "
                             "33 English stop words, Porter-stem -- as behind Anserini/Pyserini's English BM25.")
        .def(
            "__init__",
            [](tx::Analyzer* self, bool stem, bool remove_stop_words, bool lowercase, bool fold_accents) {
                new (self) tx::Analyzer(analyzer_options(stem, remove_stop_words, lowercase, fold_accents));
            },
            nb::kw_only(), "stem"_a = true, "remove_stop_words"_a = true, "lowercase"_a = true, "fold_accents"_a = true)
        .def("analyze", &tx::Analyzer::analyze, "text"_a, "The indexable terms of `text`, in order (repeats included).");

    nb::class_<tx::Bm25Encoder>(m, "Bm25Encoder",
                                "BM25 from text: add every document (ids 0, 1, ... in order), then document_vectors() gives BM25 impact "
                                "vectors whose inner product with encode_query() is the BM25 score (k1, b as Anserini's BEIR setting). "
                                "Index them with InvertedIndex for exact BM25 top-k.")
        .def(
            "__init__",
            [](tx::Bm25Encoder* self, double k1, double b, bool stem, bool remove_stop_words, bool lowercase, bool fold_accents) {
                tx::Bm25Params p;
                p.k1 = static_cast<float>(k1);
                p.b = static_cast<float>(b);
                new (self) tx::Bm25Encoder(p, tx::Analyzer(analyzer_options(stem, remove_stop_words, lowercase, fold_accents)));
            },
            nb::kw_only(), "k1"_a = 0.9, "b"_a = 0.4, "stem"_a = true, "remove_stop_words"_a = true, "lowercase"_a = true, "fold_accents"_a = true,
            "k1: term-frequency saturation (>= 0). b: length normalization in [0, 1]. The analyzer switches as Analyzer's.")
        .def("add_document", &tx::Bm25Encoder::add_document, "text"_a, "Adds one document; returns its id.")
        .def(
            "add_documents",
            [](tx::Bm25Encoder& e, const std::vector<std::string>& texts) {
                nb::gil_scoped_release release;
                for (const auto& t : texts) e.add_document(t);
            },
            "texts"_a, "Adds documents in order (ids continue from num_documents).")
        .def(
            "document_vectors", [](const tx::Bm25Encoder& e) { return csr_to_scipy(e.document_vectors(), e.num_documents()); },
            "BM25 impact vectors of every added document: scipy.sparse.csr_matrix (n, vocabulary size), float32, int32 indices.")
        .def(
            "encode_query", [](const tx::Bm25Encoder& e, const std::string& text) { return sparse_vector_to_python(e.encode_query(text)); }, "text"_a,
            "Query vector (indices int32, values float32): known terms weighted by their count.")
        .def(
            "encode_queries",
            [](const tx::Bm25Encoder& e, const std::vector<std::string>& texts) {
                sd::CsrMatrix<float> q(e.dimension());
                {
                    nb::gil_scoped_release release;
                    for (const auto& t : texts) q.push_back(e.encode_query(t).view());
                }
                return csr_to_scipy(q, texts.size());
            },
            "texts"_a, "Query vectors of every text as a scipy.sparse.csr_matrix (len(texts), vocabulary size).")
        .def_prop_ro("num_documents", &tx::Bm25Encoder::num_documents)
        .def_prop_ro("dimension", &tx::Bm25Encoder::dimension, "Vocabulary size.")
        .def_prop_ro("average_length", &tx::Bm25Encoder::average_length)
        .def_prop_ro("vocabulary", [](const tx::Bm25Encoder& e) { return e.vocabulary().terms(); }, "Terms by id.")
        .def(
            "term_id", [](const tx::Bm25Encoder& e, const std::string& term) { return e.vocabulary().find(term); }, "term"_a,
            "The id of an (analyzed) term, or None.")
        .def("idf", &tx::Bm25Encoder::idf, "term_id"_a)
        .def("analyze", [](const tx::Bm25Encoder& e, const std::string& text) { return e.analyzer().analyze(text); }, "text"_a);

    nb::class_<ev::BeirDocument>(m, "BeirDocument", "One corpus.jsonl record.")
        .def(nb::init<>())
        .def("__init__", [](ev::BeirDocument* d, std::string id, std::string title, std::string text) { new (d) ev::BeirDocument{id, title, text}; },
             "id"_a, "title"_a = "", "text"_a = "")
        .def_rw("id", &ev::BeirDocument::id)
        .def_rw("title", &ev::BeirDocument::title)
        .def_rw("text", &ev::BeirDocument::text)
        .def("__eq__", [](const ev::BeirDocument& a, const ev::BeirDocument& b) { return a == b; })
        .def("__repr__", [](const ev::BeirDocument& d) { return "BeirDocument(id='" + d.id + "', title='" + d.title.substr(0, 40) + "', ...)"; });
    nb::class_<ev::BeirQuery>(m, "BeirQuery", "One queries.jsonl record.")
        .def(nb::init<>())
        .def("__init__", [](ev::BeirQuery* q, std::string id, std::string text) { new (q) ev::BeirQuery{id, text}; }, "id"_a, "text"_a = "")
        .def_rw("id", &ev::BeirQuery::id)
        .def_rw("text", &ev::BeirQuery::text)
        .def("__eq__", [](const ev::BeirQuery& a, const ev::BeirQuery& b) { return a == b; })
        .def("__repr__", [](const ev::BeirQuery& q) { return "BeirQuery(id='" + q.id + "', text='" + q.text.substr(0, 40) + "')"; });
    nb::class_<ev::BeirCollection>(m, "BeirCollection", "A BEIR folder in memory: corpus, queries, qrels.")
        .def_ro("corpus", &ev::BeirCollection::corpus)
        .def_ro("queries", &ev::BeirCollection::queries)
        .def_ro("qrels", &ev::BeirCollection::qrels);

    m.def("read_beir_corpus", [](const std::string& p) { nb::gil_scoped_release r; return ev::read_beir_corpus(p); }, "path"_a,
          "corpus.jsonl -> list[BeirDocument] (missing title = ''; bad JSON or a repeated id raises InvalidDataError naming path:line).");
    m.def("read_beir_queries", [](const std::string& p) { nb::gil_scoped_release r; return ev::read_beir_queries(p); }, "path"_a,
          "queries.jsonl -> list[BeirQuery].");
    m.def("read_beir_qrels", [](const std::string& p) { nb::gil_scoped_release r; return ev::read_beir_qrels(p); }, "path"_a,
          "BEIR qrels .tsv (header, then query-id corpus-id score) -> {query_id: {doc_id: grade}}.");
    m.def("write_beir_corpus", &ev::write_beir_corpus, "path"_a, "docs"_a);
    m.def("write_beir_queries", &ev::write_beir_queries, "path"_a, "queries"_a);
    m.def("write_beir_qrels", &ev::write_beir_qrels, "path"_a, "qrels"_a);
    m.def(
        "read_beir_collection",
        [](const std::string& dir, bool only_judged, const std::string& qrels_path) {
            nb::gil_scoped_release r;
            return ev::read_beir_collection(dir, only_judged, qrels_path);
        },
        "dir"_a, "only_judged_queries"_a = true, "qrels_path"_a = "",
        "Reads DIR/corpus.jsonl, DIR/queries.jsonl and DIR/qrels.tsv (else DIR/qrels/test.tsv, or qrels_path); with "
        "only_judged_queries, queries without judgments are dropped (the BEIR test-split convention).");
    m.def("read_trec_qrels", &ev::read_trec_qrels, "path"_a, "TREC qrels ('qid iter docid grade') -> {query_id: {doc_id: grade}}.");
    m.def("write_trec_qrels", &ev::write_trec_qrels, "path"_a, "qrels"_a);
    m.def("read_trec_run", [](const std::string& p) { return to_py_run(ev::read_trec_run(p)); }, "path"_a,
          "TREC run ('qid Q0 docid rank score tag') -> {query_id: {doc_id: score}}.");
    m.def("write_trec_run", [](const std::string& p, const PyRun& run, const std::string& tag) { ev::write_trec_run(p, to_cpp_run(run), tag); },
          "path"_a, "run"_a, "tag"_a = "sparsedense",
          "Writes {query_id: {doc_id: score}} as a TREC run, each query's documents by score descending (ties: doc id descending).");

    m.def(
        "evaluate",
        [](const ev::Qrels& qrels, const PyRun& run, const std::string& measure, long long k, bool per_query) -> nb::object {
            const ev::Measure mm = parse_measure(measure);
            const std::size_t kk = mm == ev::Measure::average_precision ? 1 : check_k(k, "evaluate");
            const ev::Evaluation e = ev::evaluate(qrels, to_cpp_run(run), mm, kk);
            if (per_query) return nb::cast(e.per_query);
            return nb::cast(e.mean);
        },
        "qrels"_a, "run"_a, "measure"_a = "ndcg", "k"_a = 10, "per_query"_a = false,
        "Mean of a measure over the judged queries (>= 1 relevant document; a judged query missing from the run scores 0), "
        "trec_eval conventions: 'ndcg' (@k, linear gain), 'recall' (@k), 'mrr' (@k), 'map' (k ignored). Relevant = grade >= 1. "
        "per_query=True returns {query_id: value}.");

    m.def(
        "to_run",
        [](nb::handle ids, nb::handle scores, const std::vector<std::string>& query_ids, const std::vector<std::string>& doc_ids) {
            nb::object ia = numpy().attr("ascontiguousarray")(ids, "dtype"_a = numpy().attr("int64"));
            nb::object sa = numpy().attr("ascontiguousarray")(scores, "dtype"_a = numpy().attr("float64"));
            nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu> i2;
            nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu> s2;
            if (!nb::try_cast(ia, i2, false) || !nb::try_cast(sa, s2, false) || i2.shape(0) != s2.shape(0) || i2.shape(1) != s2.shape(1))
                throw sd::Error(sd::ErrorKind::dimension_mismatch, "to_run: ids and scores must be 2-D arrays of one shape");
            if (i2.shape(0) != query_ids.size())
                throw sd::Error(sd::ErrorKind::dimension_mismatch,
                                "to_run: " + std::to_string(i2.shape(0)) + " result rows but " + std::to_string(query_ids.size()) + " query ids");
            PyRun run;
            for (std::size_t q = 0; q < i2.shape(0); ++q) {
                auto& d = run[query_ids[q]];
                for (std::size_t j = 0; j < i2.shape(1); ++j) {
                    const std::int64_t id = i2.data()[q * i2.shape(1) + j];
                    if (id < 0) continue;
                    if (static_cast<std::size_t>(id) >= doc_ids.size())
                        throw sd::Error(sd::ErrorKind::out_of_range, "to_run: id " + std::to_string(id) + " has no document id (" +
                                                                         std::to_string(doc_ids.size()) + " known)");
                    d.emplace(doc_ids[static_cast<std::size_t>(id)], s2.data()[q * s2.shape(1) + j]);
                }
            }
            return run;
        },
        "ids"_a, "scores"_a, "query_ids"_a, "doc_ids"_a,
        "Search results (ids (nq, k), scores (nq, k); -1 padding skipped) as a run {query_id: {doc_id: score}} through the "
        "external id tables.");
}

}  // namespace sdpy
