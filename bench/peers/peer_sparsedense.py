#!/usr/bin/env python3
"""sparsedense through its Python package (system sparsedense-py), called the way the peer scripts call theirs.

The same readers, recall@10, timing protocol and CSV columns as peer_faiss.py / peer_hnswlib.py / peer_seismic.py
(common.py), so a Python user sees our indexes and the PyPI peers measured alike, beside our C++ bench rows
(system sparsedense) from the same run:

  sparse (--corpus / --queries CSR): ClusteredInvertedIndex, lambda_ = sparse_bench's default round(1.3 sqrt(n)),
      f16 forward values, a query_cut x heap_factor sweep around the frontier rows of docs/sparse.md, and the
      exact InvertedIndex (term_at_a_time) as sparse_bench's exact-taat row;
  dense (--base / --queries fvecs):  HnswIndex (M 16, ef_construction 200; storage int8 + rerank_storage f16, and
      f32) with an ef sweep, and IvfPqIndex (4-bit PQ, refine from f16) with a few nprobe / refine_factor rows.

Rows per configuration: single / python-loop (one `search` call per query), single / batch-call (`search_batch`
with threads=1: the C++ loops over the queries one at a time, per-query work) and batch / all cores
(`search_batch(threads=--threads)`). Builds use --threads threads.
"""

from __future__ import annotations

import common  # noqa: F401  (thread environment first)

import argparse
import math
import time

import numpy as np
import scipy.sparse as sp

import sparsedense

from common import RowWriter, add_common_arguments, int_list, load_dense, log, read_csr, read_ivecs


def float_list(text: str, default: list[float]) -> list[float]:
    return [float(x) for x in text.split(",")] if text else default


def build_kind() -> str:
    return (f"sparsedense {sparsedense.__version__} Python package (nanobind), pip install of this tree "
            f"(scikit-build-core, CMake Release, the project's flags); wheel {common.wheel_tag('sparsedense')}")


def timed_build(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    index = fn()
    secs = time.perf_counter() - t0
    return index, secs, (time.process_time() - c0) / max(secs, 1e-9)


def sweep_rows(out: RowWriter, truth, fields: dict, sp_text: str, one, batch, one_query, threads: int) -> None:
    """The three rows of one search configuration: python-loop, batch-call on 1 thread, batch-call on all cores."""
    out.loop_row(truth, one, one_query, lambda r: r[0], search_params=sp_text, **fields)
    for t in sorted({1, threads}):
        out.batch_row(truth, lambda: batch(t), lambda r: list(r[0]), threads=t, search_params=sp_text, **fields)


def run_sparse(args, out: RowWriter) -> None:
    corpus, queries = read_csr(args.corpus), read_csr(args.queries)
    queries = queries.head(args.max_queries)
    truth = read_ivecs(args.ground_truth, queries.nrow)
    n, nq, k = corpus.nrow, queries.nrow, args.k
    ncol = max(corpus.ncol, queries.ncol)
    docs = sp.csr_matrix((corpus.data, corpus.indices, corpus.indptr), shape=(n, ncol))
    qmat = sp.csr_matrix((queries.data, queries.indices, queries.indptr), shape=(nq, ncol))
    one_query = [queries.row(i) for i in range(nq)]  # (indices, values): the binding reads them in place
    log(f"data: corpus {n} x {ncol} ({corpus.indptr[-1]} nnz), {nq} queries")

    cuts = int_list(args.query_cut, [5, 8, 10] if args.quick else [5, 6, 8, 10, 12])
    factors = float_list(args.heap_factor, [0.9, 0.7] if args.quick else [1.0, 0.9, 0.8, 0.7])
    for lam in int_list(args.lambda_, [round(1.3 * math.sqrt(n))]):
        index, build_s, cpw = timed_build(lambda: sparsedense.ClusteredInvertedIndex.build(
            docs, lambda_=lam, forward_values="f16", threads=args.threads))
        bp = f"lambda={lam},cf=0.3,alpha=0.5,forward=f16"
        nbytes = index.memory_bytes
        log(f"sparsedense-py: clustered {bp} built in {build_s:.1f} s (cpu/wall {cpw:.2f}), {nbytes / 1e6:.1f} MB")
        fields = dict(index="clustered", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                      index_bytes=nbytes, n_vectors=n)
        for qc in cuts:
            for hf in factors:
                sweep_rows(out, truth, fields, f"query_cut={qc},heap_factor={hf:g}",
                           lambda q: index.search(q, k, query_cut=qc, heap_factor=hf),
                           lambda t: index.search_batch(qmat, k, query_cut=qc, heap_factor=hf, threads=t),
                           one_query, args.threads)
        del index

    # the exact reference, as sparse_bench's exact-taat row (the 0.99 target's row on splade-beir)
    exact, build_s, _ = timed_build(lambda: sparsedense.InvertedIndex.build(docs, precision="f32", block_size=64,
                                                                            threads=args.threads))
    fields = dict(index="exact-taat", build_params="precision=f32,block=64", build_s=build_s, n_queries=nq,
                  build_threads=args.threads, index_bytes=exact.memory_bytes, n_vectors=n)
    sweep_rows(out, truth, fields, "algorithm=term_at_a_time",
               lambda q: exact.search(q, k, algorithm="term_at_a_time"),
               lambda t: exact.search_batch(qmat, k, algorithm="term_at_a_time", threads=t), one_query, args.threads)


def run_dense(args, out: RowWriter) -> None:
    base, queries, truth = load_dense(args)
    n, d = base.shape
    nq, k = len(queries), args.k
    one_query = [queries[i] for i in range(nq)]

    efs = int_list(args.ef, [16, 32, 64, 256] if args.quick else [10, 16, 24, 32, 48, 64, 96, 128, 256, 512])
    for storage in (args.hnsw_storage.split(",") if args.hnsw_storage else ["int8+f16", "f32"]):
        payload, _, copy = storage.partition("+")
        index, build_s, cpw = timed_build(lambda: sparsedense.HnswIndex.build(
            base, "ip", M=args.M, ef_construction=args.ef_construction, storage=payload, keep_f32=True,
            rerank_storage=copy or "f32", threads=args.threads))
        bp = f"M={args.M};efc={args.ef_construction};storage={storage}"
        nbytes = index.memory_bytes
        log(f"sparsedense-py: hnsw {bp} built in {build_s:.1f} s (cpu/wall {cpw:.2f}), {nbytes / n:.0f} B/vector")
        fields = dict(index="hnsw", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                      index_bytes=nbytes, n_vectors=n)
        for ef in efs:
            sweep_rows(out, truth, fields, f"ef={ef}", lambda q: index.search(q, k, ef=ef),
                       lambda t: index.search_batch(queries, k, ef=ef, threads=t), one_query, args.threads)
        del index

    if args.no_ivf:
        return
    m = args.pq_m or (d // 2 if d <= 128 else d // 4)
    nlist = args.nlist or max(1, min(n // 32, 1 << round(math.log2(4 * math.sqrt(n)))))
    index, build_s, cpw = timed_build(lambda: sparsedense.IvfPqIndex.build(
        base, "ip", nlist=nlist, m=m, nbits=4, refine_encoding="f16", threads=args.threads))
    bp = f"nlist={nlist};m={m};nbits=4;refine=f16"
    nbytes = index.memory_bytes
    log(f"sparsedense-py: ivf-pq {bp} built in {build_s:.1f} s (cpu/wall {cpw:.2f}), {nbytes / n:.0f} B/vector")
    fields = dict(index="ivf-pq-fastscan", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                  index_bytes=nbytes, n_vectors=n)
    for nprobe in int_list(args.nprobe, [8, 32] if args.quick else [8, 16, 32, 64, 128]):
        for rf in int_list(args.refine, [4, 16] if args.quick else [4, 8, 16]):
            sweep_rows(out, truth, fields, f"nprobe={nprobe},refine={rf}",
                       lambda q: index.search(q, k, nprobe=nprobe, refine_factor=rf),
                       lambda t: index.search_batch(queries, k, nprobe=nprobe, refine_factor=rf, threads=t),
                       one_query, args.threads)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", help="sparse corpus (BigANN .csr): the sparse rows")
    p.add_argument("--base", help="base vectors (.fvecs): the dense rows")
    p.add_argument("--queries", required=True, help="queries (.csr with --corpus, .fvecs with --base)")
    p.add_argument("--ground-truth", required=True, help="exact neighbours (.ivecs, best first)")
    p.add_argument("--metric", default="ip", choices=["ip", "cosine"], help="dense metric (cosine = ip on normalized rows)")
    p.add_argument("--lambda", dest="lambda_", default="", help="clustered: comma-separated lambda (default round(1.3 sqrt(n)))")
    p.add_argument("--query-cut", default="", help="clustered: query_cut sweep")
    p.add_argument("--heap-factor", default="", help="clustered: heap_factor sweep")
    p.add_argument("--hnsw-storage", default="", help="hnsw: payload[+rerank copy] list (default int8+f16,f32)")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef", default="", help="hnsw: ef sweep")
    p.add_argument("--no-ivf", action="store_true", help="skip the IvfPqIndex rows")
    p.add_argument("--nlist", type=int, default=0, help="ivf: lists (default ~4 sqrt(n), as run.sh)")
    p.add_argument("--pq-m", type=int, default=0, help="ivf: PQ sub-quantizers (default d/2 when d <= 128, else d/4)")
    p.add_argument("--nprobe", default="", help="ivf: nprobe sweep")
    p.add_argument("--refine", default="", help="ivf: refine_factor sweep")
    add_common_arguments(p)
    args = p.parse_args()
    if bool(args.corpus) == bool(args.base):
        p.error("give exactly one of --corpus (sparse) or --base (dense)")
    out = RowWriter(args, "sparsedense-py", f"sparsedense {sparsedense.__version__}", build_kind())
    log("sparsedense-py:", out.build_kind)
    if args.corpus:
        run_sparse(args, out)
    else:
        run_dense(args, out)
    out.close()


if __name__ == "__main__":
    main()
