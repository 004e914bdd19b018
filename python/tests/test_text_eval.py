"""BM25 from text against a hand-written BM25; the metrics against ir-measures (pytrec_eval, trec_eval-compatible);
TREC and BEIR files round-tripping through ir-measures' and ranx's readers."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

import sparsedense as sd

ir_measures = pytest.importorskip("ir_measures")
ranx = pytest.importorskip("ranx")
from ir_measures import AP, R, RR, nDCG  # noqa: E402

DOCS = [
    "The quick brown fox jumps over the lazy dog.",
    "Foxes are quick; dogs are lazy. Running foxes!",
    "A study of running: jumping and runners.",
    "Naïve café owners serve crème brûlée.",
    "Lazy afternoons, lazy dogs, lazy foxes.",
]


def test_bm25_scores_equal_the_formula():
    enc = sd.Bm25Encoder()
    enc.add_documents(DOCS[:2])
    assert enc.add_document(DOCS[2]) == 2
    enc.add_documents(DOCS[3:])
    docs = enc.document_vectors()
    assert docs.shape == (5, enc.dimension) and docs.dtype == np.float32 and docs.indices.dtype == np.int32
    terms = [enc.analyze(d) for d in DOCS]
    assert terms[3] == ["naiv", "cafe", "owner", "serv", "creme", "brule"]
    avgdl = sum(map(len, terms)) / len(terms)
    assert enc.average_length == pytest.approx(avgdl)
    query = "lazy running foxes"
    q = enc.encode_query(query)
    index = sd.InvertedIndex.build(docs)
    ids, scores = index.search(q, 5)
    k1, b, n = 0.9, 0.4, len(DOCS)
    want = []
    for d, t in enumerate(terms):
        s = 0.0
        for term in enc.analyze(query):
            df = sum(term in x for x in terms)
            tf = t.count(term)
            if tf:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(t) / avgdl))
        want.append(s)
    for i, s in zip(ids, scores):
        if i >= 0:
            assert s == pytest.approx(want[i], rel=1e-5)
    assert set(ids[ids >= 0]) == {d for d, s in enumerate(want) if s > 0}
    assert enc.term_id("lazi") is not None and enc.term_id("zebra") is None
    qs = enc.encode_queries([query, "zebra"])
    assert qs.shape == (2, enc.dimension) and qs[1].nnz == 0
    with pytest.raises(sd.InvalidArgumentError):
        sd.Bm25Encoder(b=2.0)


def random_qrels_run(seed):
    r = np.random.default_rng(seed)
    qrels, run = {}, {}
    for q in range(40):
        docs = [f"d{i}" for i in r.choice(300, 60, replace=False)]
        qrels[f"q{q}"] = {d: int(r.integers(0, 3)) for d in docs[:12]}
        scores = np.round(r.uniform(0, 5, 60), 1)  # rounded: ties, broken as trec_eval does
        run[f"q{q}"] = {d: float(s) for d, s in zip(docs[5:], scores)}
    run["q_not_in_qrels"] = {"d1": 1.0}  # ignored by both
    return qrels, run


@pytest.mark.parametrize("seed", [1, 2])
def test_metrics_equal_ir_measures(seed):
    qrels, run = random_qrels_run(seed)
    theirs = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 100, AP, nDCG @ 5], qrels, run)
    assert sd.ndcg_at_k(qrels, run, 10) == pytest.approx(theirs[nDCG @ 10], abs=1e-9)
    assert sd.ndcg_at_k(qrels, run, 5) == pytest.approx(theirs[nDCG @ 5], abs=1e-9)
    # RR@10 comes from ir-measures' msmarco provider (trec_eval has no RR cut-off), which orders tied scores its own
    # way: compared on a run without ties
    untied = {q: {d: s + 1e-4 * i for i, (d, s) in enumerate(sorted(v.items()))} for q, v in run.items()}
    assert sd.mrr_at_k(qrels, untied, 10) == pytest.approx(ir_measures.calc_aggregate([RR @ 10], qrels, untied)[RR @ 10], abs=1e-9)
    assert sd.recall_at_k(qrels, run, 100) == pytest.approx(theirs[R @ 100], abs=1e-9)
    assert sd.mean_average_precision(qrels, run) == pytest.approx(theirs[AP], abs=1e-9)
    per_query = sd.evaluate(qrels, run, "ndcg", 10, per_query=True)
    # a judged query absent from the run scores 0 here (trec_eval -c); trec_eval's default leaves it out of the mean
    qrels_missing = dict(qrels, q_missing={"d1": 1})
    n = len(per_query)
    assert sd.ndcg_at_k(qrels_missing, run, 10) == pytest.approx(theirs[nDCG @ 10] * n / (n + 1), abs=1e-9)
    for m in ir_measures.iter_calc([nDCG @ 10], qrels, run):
        assert per_query[m.query_id] == pytest.approx(m.value, abs=1e-9)


def test_trec_files_round_trip(tmp_path):
    qrels, run = random_qrels_run(3)
    sd.write_trec_run(str(tmp_path / "run.trec"), run, "mine")
    sd.write_trec_qrels(str(tmp_path / "qrels.txt"), qrels)
    # through ir-measures' readers
    their_run = {}
    for r in ir_measures.read_trec_run(str(tmp_path / "run.trec")):
        their_run.setdefault(r.query_id, {})[r.doc_id] = r.score
    assert their_run == run
    their_qrels = {}
    for r in ir_measures.read_trec_qrels(str(tmp_path / "qrels.txt")):
        their_qrels.setdefault(r.query_id, {})[r.doc_id] = r.relevance
    assert their_qrels == qrels
    # through ranx's readers, and ranx's writer back to ours
    ranx_run = ranx.Run.from_file(str(tmp_path / "run.trec"), kind="trec").to_dict()
    assert ranx_run.keys() == run.keys() and all(ranx_run[q] == pytest.approx(run[q]) for q in run)
    assert ranx.Qrels.from_file(str(tmp_path / "qrels.txt"), kind="trec").to_dict() == {q: {d: g for d, g in j.items()} for q, j in qrels.items()}
    ranx.Run(run).save(str(tmp_path / "ranx.trec"), kind="trec")
    back = sd.read_trec_run(str(tmp_path / "ranx.trec"))
    assert back.keys() == run.keys() and all(back[q] == pytest.approx(run[q]) for q in run)
    assert sd.read_trec_qrels(str(tmp_path / "qrels.txt")) == qrels


def test_beir_files_round_trip(tmp_path):
    docs = [sd.BeirDocument(f"doc{i}", f"Title {i}", t) for i, t in enumerate(DOCS)]
    docs.append(sd.BeirDocument("quote", 'say "hi"\\', "tab\tand\nnewline, ünïcode"))
    queries = [sd.BeirQuery("1", "lazy fox"), sd.BeirQuery("2", "crème")]
    qrels = {"1": {"doc0": 1, "doc4": 2}, "2": {"doc3": 1}}
    sd.write_beir_corpus(str(tmp_path / "corpus.jsonl"), docs)
    sd.write_beir_queries(str(tmp_path / "queries.jsonl"), queries)
    sd.write_beir_qrels(str(tmp_path / "qrels.tsv"), qrels)
    with open(tmp_path / "corpus.jsonl", encoding="utf-8") as f:
        parsed = [json.loads(line) for line in f]
    assert [(d["_id"], d["title"], d["text"]) for d in parsed] == [(d.id, d.title, d.text) for d in docs]
    with open(tmp_path / "qrels.tsv", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows[0] == ["query-id", "corpus-id", "score"]
    assert {(q, d, int(g)) for q, d, g in rows[1:]} == {(q, d, g) for q, j in qrels.items() for d, g in j.items()}
    c = sd.read_beir_collection(str(tmp_path))
    assert c.corpus == docs and c.queries == queries and c.qrels == qrels
    (tmp_path / "bad.jsonl").write_text('{"_id": "1", "text": "ok"}\n{"_id": 2, "text": \n')
    with pytest.raises(sd.InvalidDataError, match="bad.jsonl:2"):
        sd.read_beir_corpus(str(tmp_path / "bad.jsonl"))
    with pytest.raises(sd.IoError):
        sd.read_beir_collection(str(tmp_path / "nowhere"))


def test_to_run(sparse_data):
    ids = np.array([[2, 0, -1], [1, -1, -1]])
    scores = np.array([[3.0, 1.0, -np.inf], [0.5, -np.inf, -np.inf]], np.float32)
    assert sd.to_run(ids, scores, ["qa", "qb"], ["x", "y", "z"]) == {"qa": {"z": 3.0, "x": 1.0}, "qb": {"y": 0.5}}
    with pytest.raises(sd.OutOfRangeError):
        sd.to_run(ids, scores, ["qa", "qb"], ["x"])
