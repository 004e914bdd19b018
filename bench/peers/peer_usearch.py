#!/usr/bin/env python3
"""USearch (PyPI wheel) on a dense data set: HNSW with f32 / f16 / i8 storage, connectivity 16 / 32,
expansion_add 200 (the other peers' efConstruction), expansion_search sweep.

Rows per configuration: single / python-loop (one Index.search call per query, threads=1), single / batch-call
(Index.search over all queries with threads=1: USearch loops over the queries in C++, one at a time) and batch /
all cores (threads=--threads). USearch has no OpenMP; builds use threads=--threads. index_bytes is
serialized_length (memory_usage also counts the unused part of its arena).
"""

from __future__ import annotations

import common  # noqa: F401  (thread environment first)

import time

import numpy as np
from usearch.index import Index

from common import RowWriter, dense_arguments, int_list, load_dense, log


def build_kind(levels: dict[str, str]) -> str:
    version = common.package_version("usearch")
    kind = "sdist build" if common.built_here("usearch") else f"wheel {common.wheel_tag('usearch')}"
    accel = ", ".join(f"{dt}: {lvl}" for dt, lvl in levels.items())
    return f"usearch {version} {kind}; hardware_acceleration {accel}; no OpenMP"


def main() -> None:
    p = dense_arguments(__doc__.splitlines()[0])
    p.add_argument("--builds", default="", help="comma-separated dtype:connectivity pairs (default every pair of f32,f16,i8 "
                   "and 16,32; --quick f32:16,f16:16,i8:16)")
    p.add_argument("--expansion-search", default="", help="comma-separated expansion_search sweep")
    p.add_argument("--expansion-add", type=int, default=200)
    args = p.parse_args()

    base, queries, truth = load_dense(args)
    n, d = base.shape
    nq, k = len(queries), args.k
    one_query = [queries[i] for i in range(nq)]
    keys = np.arange(n, dtype=np.uint64)
    if args.builds:
        builds = [(b.split(":")[0], int(b.split(":")[1])) for b in args.builds.split(",")]
    else:
        builds = [(dt, conn) for conn in ([16] if args.quick else [16, 32]) for dt in ("f32", "f16", "i8")]
    dtypes = sorted({dt for dt, _ in builds}, key=["f32", "f16", "i8"].index)
    efs = int_list(args.expansion_search, [16, 32, 64, 256] if args.quick else [10, 16, 24, 32, 48, 64, 96, 128, 256, 512])

    # the SIMD level each storage type runs with, for the build_kind column
    levels = {}
    for dt in dtypes:
        probe = Index(ndim=d, metric="ip", dtype=dt)
        levels[dt] = probe.hardware_acceleration
    out = RowWriter(args, "usearch", f"usearch {common.package_version('usearch')}", build_kind(levels))
    log("usearch:", out.build_kind)

    for dt, conn in builds:
        c0, t0 = time.process_time(), time.perf_counter()
        index = Index(ndim=d, metric="ip", dtype=dt, connectivity=conn, expansion_add=args.expansion_add)
        index.add(keys, base, threads=args.threads)
        build_s = time.perf_counter() - t0
        nbytes = index.serialized_length
        bp = f"dtype={dt};connectivity={conn};expansion_add={args.expansion_add}"
        log(f"usearch: {bp} built in {build_s:.1f} s (cpu/wall {(time.process_time() - c0) / build_s:.2f}), "
            f"{nbytes / n:.0f} B/vector ({index.hardware_acceleration})")
        fields = dict(index=f"hnsw-{dt}", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                      index_bytes=nbytes, n_vectors=n)
        for ef in efs:
            index.expansion_search = ef
            sp = f"expansion_search={ef}"
            out.loop_row(truth, lambda q: index.search(q, k, threads=1), one_query, lambda m: m.keys, search_params=sp, **fields)
            for threads in sorted({1, args.threads}):
                out.batch_row(truth, lambda: index.search(queries, k, threads=threads), lambda m: list(m.keys),
                              threads=threads, search_params=sp, **fields)
        del index
    out.close()


if __name__ == "__main__":
    main()
