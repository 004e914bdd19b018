#!/usr/bin/env python3
"""python_bench -- the cost of calling sparsedense from Python, measured against the C++ calls on the same index in
the same process (interleaved A/B/A/B, medians of repeats, per-process CPU time so other load on the machine
matters less):

  batch     index.search_batch(queries, k, **params) from Python  vs  index._cpp_search_batch_seconds(...), the C++
            search_batch on the same queries with no conversion of inputs or results -> throughput ratio (goal >= 0.95);
  one-query a Python loop of index.search(q, k, **params)  vs  index._cpp_search_seconds(q, k, repeats, ...), the C++
            search_into loop on the same query -> overhead per call in microseconds (goal <= 3 us).

Data sets (../shared/data): splade-beir with ClusteredInvertedIndex (query_cut 8, heap_factor 0.8: the defaults),
glove-100 with IvfPqIndex (cosine, nlist 1024, m 50, 4-bit, nprobe 32, refine 8). --synthetic runs a small random
FlatIndex instead (no data needed). Prints a table; --csv prints the project's benchmark columns.

usage: nice -n 5 python bench/python_bench.py [--data DIR] [--sets splade-beir,glove-100] [--repeats 7]
                                               [--threads 1] [--csv] [--synthetic]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np

import sparsedense as sd

K = 10


def read_ivecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:]


def recall_at_10(ids, gt):
    return float(np.mean([len(set(a[:K]) & set(b[:K])) / K for a, b in zip(ids, gt)]))


def cpu():
    return time.process_time()


def measure_batch(index, queries, params, threads, repeats):
    """(python seconds, c++ seconds) per batch: medians of interleaved repeats, process CPU time."""
    py, cc = [], []
    index.search_batch(queries, K, threads=threads, **params)  # warm-up
    for _ in range(repeats):
        t = cpu()
        index._cpp_search_batch_seconds(queries, K, threads, params)
        cc.append(cpu() - t)
        t = cpu()
        index.search_batch(queries, K, threads=threads, **params)
        py.append(cpu() - t)
    return statistics.median(py), statistics.median(cc)


def measure_one(index, queries, params, repeats, calls_per_query=20):
    """(python us/call, c++ us/call) over the queries: medians of interleaved repeats, thread CPU time."""
    rows = [queries[i] for i in range(min(200, queries.shape[0]))]
    if hasattr(queries, "indptr"):  # sparse: the (indices, values) form (a one-row CSR also works, slower to unpack)
        rows = [(r.indices, r.data) for r in rows]
    py, cc = [], []
    for _ in range(repeats):
        t = time.thread_time()
        for q in rows:
            index._cpp_search_seconds(q, K, calls_per_query, params)
        cc.append(time.thread_time() - t)
        t = time.thread_time()
        for q in rows:
            for _ in range(calls_per_query):
                index.search(q, K, **params)
        py.append(time.thread_time() - t)
    n = len(rows) * calls_per_query
    return statistics.median(py) / n * 1e6, statistics.median(cc) / n * 1e6


def measure_overhead(repeats, calls=20000):
    """Pure call overhead: a tiny index (16 documents) whose C++ search takes well under a microsecond, so the Python
    call -- argument parsing, input check, GIL release, the two result arrays -- dominates. Returns
    {kind: (python us/call, c++ us/call)} for a dense (FlatIndex, d=64) and a sparse (InvertedIndex, 20 terms) query."""
    import scipy.sparse as sp

    r = np.random.default_rng(3)
    x = r.standard_normal((16, 64)).astype(np.float32)
    flat = sd.FlatIndex.build(x, "ip")
    docs = sp.random(16, 1000, density=0.05, format="csr", dtype=np.float32, random_state=4)
    inv = sd.InvertedIndex.build(docs)
    q_sparse = (np.arange(0, 1000, 50, dtype=np.int32), np.ones(20, np.float32))
    out = {}
    for kind, index, q in (("dense", flat, x[0].copy()), ("sparse", inv, q_sparse)):
        py, cc = [], []
        for _ in range(repeats):
            t = time.thread_time()
            index._cpp_search_seconds(q, K, calls, {})
            cc.append(time.thread_time() - t)
            t = time.thread_time()
            for _ in range(calls):
                index.search(q, K)
            py.append(time.thread_time() - t)
        out[kind] = (statistics.median(py) / calls * 1e6, statistics.median(cc) / calls * 1e6)
    return out


def splade(data):
    folder = data / "splade-beir"
    docs, queries = sd.read_csr(str(folder / "corpus.csr")), sd.read_csr(str(folder / "queries.csr"))
    t = time.perf_counter()
    index = sd.ClusteredInvertedIndex.build(docs, lambda_=500)  # the figures in docs/python.md were measured at 500
    build_s = time.perf_counter() - t
    return ("splade-beir", "ClusteredInvertedIndex", "lambda=500,beta=0.3,alpha=0.5,f16", index, build_s, queries,
            {"query_cut": 8, "heap_factor": 0.8}, read_ivecs(folder / "gt_top100.ivecs"))


def glove(data):
    folder = data / "glove-100"
    base, queries = sd.read_fvecs(str(folder / "base.fvecs")), np.ascontiguousarray(sd.read_fvecs(str(folder / "query.fvecs")))
    t = time.perf_counter()
    index = sd.IvfPqIndex.build(np.ascontiguousarray(base), "cosine", nlist=1024, m=50, nbits=4)
    build_s = time.perf_counter() - t
    return ("glove-100", "IvfPqIndex", "cosine,nlist=1024,m=50,nbits=4,refine=f16", index, build_s, queries,
            {"nprobe": 32, "refine_factor": 8}, read_ivecs(folder / "gt_angular_top100.ivecs"))


def synthetic(_):
    r = np.random.default_rng(1)
    x = r.standard_normal((20000, 64)).astype(np.float32)
    q = r.standard_normal((1000, 64)).astype(np.float32)
    t = time.perf_counter()
    index = sd.FlatIndex.build(x, "ip")
    build_s = time.perf_counter() - t
    gt = np.argsort(-(q @ x.T), axis=1)[:, :K]
    return ("synthetic-20k-64", "FlatIndex", "ip,f32", index, build_s, q, {}, gt)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--sets", default="splade-beir,glove-100")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="search_batch threads (0 = all cores)")
    ap.add_argument("--csv", action="store_true")
    ap.add_argument("--synthetic", action="store_true")
    a = ap.parse_args()
    data = pathlib.Path(a.data)
    loaders = {"splade-beir": splade, "glove-100": glove}
    sets = ["synthetic"] if a.synthetic else a.sets.split(",")
    rows = []
    for name in sets:
        ds, kind, build_params, index, build_s, queries, params, gt = (synthetic if name == "synthetic" else loaders[name])(data)
        nq = queries.shape[0]
        ids, _ = index.search_batch(queries, K, threads=a.threads, **params)
        recall = recall_at_10(ids, gt)
        py_s, cc_s = measure_batch(index, queries, params, a.threads, a.repeats)
        py_us, cc_us = measure_one(index, queries, params, a.repeats)
        sp = ",".join(f"{k}={v}" for k, v in params.items()) or "-"
        rows.append((ds, kind, build_params, sp, build_s, recall, nq / py_s, py_s / nq * 1e6, "python-batch", a.threads, cc_s / py_s))
        rows.append((ds, kind, build_params, sp, build_s, recall, nq / cc_s, cc_s / nq * 1e6, "cpp-batch", a.threads, 1.0))
        rows.append((ds, kind, build_params, sp, build_s, recall, 1e6 / py_us, py_us, "python-one-query", 1, cc_us / py_us))
        rows.append((ds, kind, build_params, sp, build_s, recall, 1e6 / cc_us, cc_us, "cpp-one-query", 1, 1.0))
        if not a.csv:
            print(f"{ds} {kind} ({sp}), recall@10 {recall:.4f}, build {build_s:.1f} s, {nq} queries, {a.repeats} repeats, "
                  f"load average {os.getloadavg()[0]:.1f}")
            print(f"  batch ({a.threads} thread(s)): python {py_s / nq * 1e6:8.2f} us/query, c++ {cc_s / nq * 1e6:8.2f} us/query, "
                  f"python/c++ throughput {cc_s / py_s:.3f}")
            print(f"  one query : python {py_us:8.2f} us/call,  c++ {cc_us:8.2f} us/call,  overhead {py_us - cc_us:+.2f} us")
        sys.stdout.flush()
    overhead = measure_overhead(a.repeats)
    for kind, (py_us, cc_us) in overhead.items():
        rows.append((f"tiny-16-{kind}", "FlatIndex" if kind == "dense" else "InvertedIndex", "-", "-", 0.0, 1.0, 1e6 / py_us, py_us,
                     "python-one-query", 1, cc_us / py_us))
        rows.append((f"tiny-16-{kind}", "FlatIndex" if kind == "dense" else "InvertedIndex", "-", "-", 0.0, 1.0, 1e6 / cc_us, cc_us,
                     "cpp-one-query", 1, 1.0))
        if not a.csv:
            print(f"call overhead ({kind} query, 16-document index): python {py_us:.2f} us/call, c++ {cc_us:.2f} us/call, "
                  f"overhead {py_us - cc_us:+.2f} us")
    if a.csv:
        print("system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads,ratio_vs_cpp")
        for r in rows:
            print(f"sparsedense-python,{r[1]}-{r[0]},\"{r[2]}\",\"{r[3]}\",{r[4]:.2f},{r[5]:.4f},{r[6]:.1f},{r[7]:.2f},{r[8]},{r[9]},{r[10]:.3f}")


if __name__ == "__main__":
    main()
