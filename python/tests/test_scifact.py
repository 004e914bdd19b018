"""SciFact from Python in a few lines: BM25 nDCG@10 within 0.01 of the published 0.679, every metric equal to
ir-measures' on that run, and the hybrid (BM25 + all-MiniLM-L6-v2 vectors) fused runs equal to the C++ hybrid_eval
program's (run when a Release build of it exists: $SPARSEDENSE_HYBRID_EVAL or build/test-release/bench/hybrid_eval).
Skipped, reported, without ../shared/data."""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

import sparsedense as sd
from conftest import ROOT, data_path

ir_measures = pytest.importorskip("ir_measures")


@pytest.fixture(scope="module")
def scifact():
    folder = data_path("scifact")
    c = sd.read_beir_collection(str(folder))
    enc = sd.Bm25Encoder()
    enc.add_documents([d.title + " " + d.text for d in c.corpus])
    bm25 = sd.InvertedIndex.build(enc.document_vectors())
    queries = enc.encode_queries([q.text for q in c.queries])
    qids, dids = [q.id for q in c.queries], [d.id for d in c.corpus]
    return folder, c, bm25, queries, qids, dids


def minilm(folder, name, ids):
    """Rows of <name>.minilm.fvecs in the order of `ids` (the .ids.txt file is row-aligned with the vectors)."""
    vecs = sd.read_fvecs(str(folder / f"{name}.minilm.fvecs"))
    row = {line.strip(): i for i, line in enumerate(open(folder / f"{name}.minilm.ids.txt"))}
    return np.ascontiguousarray(vecs[[row[i] for i in ids]])


def test_bm25_ndcg_and_metrics_equal_ir_measures(scifact):
    _, c, bm25, queries, qids, dids = scifact
    run = sd.to_run(*bm25.search_batch(queries, 100), qids, dids)
    ndcg = sd.ndcg_at_k(c.qrels, run, 10)
    assert abs(ndcg - 0.679) <= 0.01, ndcg
    from ir_measures import AP, R, RR, nDCG

    theirs = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 100, AP], c.qrels, run)
    assert ndcg == pytest.approx(theirs[nDCG @ 10], abs=1e-9)
    assert sd.mrr_at_k(c.qrels, run, 10) == pytest.approx(theirs[RR @ 10], abs=1e-9)
    assert sd.recall_at_k(c.qrels, run, 100) == pytest.approx(theirs[R @ 100], abs=1e-9)
    assert sd.mean_average_precision(c.qrels, run) == pytest.approx(theirs[AP], abs=1e-9)


def hybrid_eval_binary():
    for p in (os.environ.get("SPARSEDENSE_HYBRID_EVAL", ""), str(ROOT / "build" / "test-release" / "bench" / "hybrid_eval")):
        if p and os.access(p, os.X_OK):
            return p
    pytest.skip("no hybrid_eval binary (set SPARSEDENSE_HYBRID_EVAL or run the Release stage first)")


def test_hybrid_equals_cpp_hybrid_eval(scifact, tmp_path):
    folder, c, bm25, queries, qids, dids = scifact
    data_path("scifact", "corpus.minilm.fvecs")
    exe = hybrid_eval_binary()
    doc_vecs, query_vecs = minilm(folder, "corpus", dids), minilm(folder, "queries", qids)
    dense = sd.FlatIndex.build(doc_vecs, "cosine")
    subprocess.run([exe, "--collection", str(folder), "--doc-vectors", str(folder / "corpus.minilm.fvecs"),
                    "--doc-ids", str(folder / "corpus.minilm.ids.txt"), "--query-vectors", str(folder / "queries.minilm.fvecs"),
                    "--query-ids", str(folder / "queries.minilm.ids.txt"), "--alphas", "0.3", "--threads", "2",
                    "--write-runs", str(tmp_path)], check=True, capture_output=True, timeout=600)
    searcher = sd.HybridSearcher(bm25, dense, k0_sparse=100, k0_dense=100)
    for method, fusion in (("convex-min_max", sd.Fusion.convex(0.3, "min_max")), ("convex-z_score", sd.Fusion.convex(0.3, "z_score")),
                           ("convex-dbsf", sd.Fusion.convex(0.3, "dbsf")), ("rrf", sd.Fusion.rrf(60))):
        ours = sd.to_run(*searcher.search_batch(queries, query_vecs, 100, fusion=fusion), qids, dids)
        theirs = sd.read_trec_run(str(tmp_path / f"{method}.trec"))
        assert ours.keys() == theirs.keys()
        for q in ours:
            assert ours[q].keys() == theirs[q].keys(), (method, q)
            for d, s in ours[q].items():
                assert s == pytest.approx(theirs[q][d], rel=1e-5, abs=1e-6)
        assert sd.ndcg_at_k(c.qrels, ours, 10) == pytest.approx(sd.ndcg_at_k(c.qrels, theirs, 10), abs=1e-9)
    dense_run = sd.to_run(*dense.search_batch(query_vecs, 100), qids, dids)
    assert sd.ndcg_at_k(c.qrels, dense_run, 10) == pytest.approx(0.645, abs=0.01)
