#!/usr/bin/env python3
"""Learned-sparse retrieval on splade-beir (46,282 SPLADE++ vectors, 1,000 queries; ../shared/data/splade-beir):
the approximate ClusteredInvertedIndex (Seismic-style) against the exact InvertedIndex -- recall@10 against the
shipped exact top-100 and queries per second of a batch on every core -- then a filtered search (ids allowed by a
mask: every document of an "even tenant") and a memory-mapped save / load.

usage: python examples/python/splade_sparse.py [--data ../shared/data] [--threads 0]
"""
import argparse
import pathlib
import tempfile
import time

import numpy as np

import sparsedense as sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    folder = pathlib.Path(a.data) / "splade-beir"

    docs, queries = sd.read_csr(str(folder / "corpus.csr")), sd.read_csr(str(folder / "queries.csr"))
    gt = np.fromfile(folder / "gt_top100.ivecs", dtype=np.int32).reshape(queries.shape[0], -1)[:, 1:11]
    recall = lambda ids: np.mean([len(set(r) & set(g)) / 10 for r, g in zip(ids, gt)])

    t = time.perf_counter()
    exact = sd.InvertedIndex.build(docs)
    approx = sd.ClusteredInvertedIndex.build(docs, centroid_fraction=0.3, progress=True)  # lambda_ 0: 1.3 sqrt(n) = 280 here
    print(f"built both indexes in {time.perf_counter() - t:.1f} s ({docs.shape[0]} documents, {docs.nnz} non-zeros)")
    for name, index, params in (("exact InvertedIndex", exact, {}),
                                ("clustered qc=8 hf=0.8", approx, {"query_cut": 8, "heap_factor": 0.8}),
                                ("clustered qc=12 hf=0.7", approx, {"query_cut": 12, "heap_factor": 0.7})):
        t = time.perf_counter()
        ids, scores = index.search_batch(queries, 10, threads=a.threads, **params)
        dt = time.perf_counter() - t
        print(f"{name:24s} recall@10 {recall(ids):.4f}  {queries.shape[0] / dt:8.0f} queries/s")

    tenant = np.arange(docs.shape[0]) % 2 == 0
    ids, _ = approx.search_batch(queries, 10, filter=tenant)
    assert (ids[ids >= 0] % 2 == 0).all()
    print(f"filtered (half the documents): {int((ids >= 0).sum())} hits, all allowed")

    with tempfile.TemporaryDirectory() as tmp:
        approx.save(f"{tmp}/splade.idx")
        loaded = sd.ClusteredInvertedIndex.load(f"{tmp}/splade.idx")  # memory-mapped, not copied
        same = np.array_equal(loaded.search_batch(queries, 10)[0], approx.search_batch(queries, 10)[0])
        print(f"save / load: {loaded.memory_bytes / 2**20:.1f} MiB, same results: {same}")


if __name__ == "__main__":
    main()
