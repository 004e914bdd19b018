#!/usr/bin/env python3
"""hnswlib (PyPI, built from its sdist) on a dense data set: HNSW, M 16 / 32, ef_construction 200, ef sweep.

Rows per configuration: single / python-loop (one knn_query call per query, num_threads=1), single / c++-loop
(knn_query over all queries with num_threads=1: hnswlib loops over the queries in C++, one at a time, so this
is per-query work) and batch / all cores (num_threads=--threads). Builds use --threads threads.
"""

from __future__ import annotations

import common  # noqa: F401  (thread environment first)

import os
import time

import hnswlib

from common import RowWriter, dense_arguments, int_list, load_dense, log


def build_kind(d: int) -> str:
    version = common.package_version("hnswlib")
    if common.built_here("hnswlib"):
        native = "without -march=native (HNSWLIB_NO_NATIVE)" if os.environ.get("HNSWLIB_NO_NATIVE") else "-O3 -march=native"
        kind = f"sdist build here, {native}"
    else:
        kind = f"wheel {common.wheel_tag('hnswlib')}"
    kernel = ("AVX-512 inner-product kernel (d % 16 == 0)" if d % 16 == 0
              else "256-bit inner-product kernel with residuals (its AVX-512 kernel needs d % 16 == 0)")
    return f"hnswlib {version} {kind}; {kernel}"


def main() -> None:
    p = dense_arguments(__doc__.splitlines()[0])
    p.add_argument("--M", default="", help="comma-separated M values (default 16,32)")
    p.add_argument("--ef", default="", help="comma-separated ef sweep")
    p.add_argument("--ef-construction", type=int, default=200)
    args = p.parse_args()

    base, queries, truth = load_dense(args)
    n, d = base.shape
    nq, k = len(queries), args.k
    one_query = [queries[i:i + 1] for i in range(nq)]
    out = RowWriter(args, "hnswlib", f"hnswlib {common.package_version('hnswlib')}", build_kind(d))
    log("hnswlib:", out.build_kind)

    efs = int_list(args.ef, [16, 32, 64, 256] if args.quick else [10, 16, 24, 32, 48, 64, 96, 128, 256, 512])
    for M in int_list(args.M, [16] if args.quick else [16, 32]):
        c0, t0 = time.process_time(), time.perf_counter()
        index = hnswlib.Index(space="ip", dim=d)
        index.init_index(max_elements=n, ef_construction=args.ef_construction, M=M, random_seed=100)
        index.add_items(base, num_threads=args.threads)
        build_s = time.perf_counter() - t0
        nbytes = index.index_file_size()
        bp = f"M={M};ef_construction={args.ef_construction}"
        log(f"hnswlib: {bp} built in {build_s:.1f} s (cpu/wall {(time.process_time() - c0) / build_s:.2f}), {nbytes / n:.0f} B/vector")
        fields = dict(index="hnsw", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                      index_bytes=nbytes, n_vectors=n)
        for ef in efs:
            index.set_ef(ef)
            sp = f"ef={ef}"
            out.loop_row(truth, lambda q: index.knn_query(q, k=k, num_threads=1), one_query, lambda r: r[0][0],
                         search_params=sp, **fields)
            for threads in sorted({1, args.threads}):
                out.batch_row(truth, lambda: index.knn_query(queries, k=k, num_threads=threads), lambda r: list(r[0]),
                              threads=threads, search_params=sp, **fields)
        del index
    out.close()


if __name__ == "__main__":
    main()
