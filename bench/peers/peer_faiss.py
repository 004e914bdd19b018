#!/usr/bin/env python3
"""FAISS (faiss-cpu from PyPI) on a dense data set: Flat, IVF-PQ 4-bit fast-scan with an exact refine stage, HNSW.

Rows per configuration (the call / work columns: see common.EXTRA_COLUMNS):
  single, python-loop : one index.search call per query on one thread (the binding's 3-5 us call overhead and
                        FAISS's per-call IVF setup included);
  single, batch-call  : one call over all queries on one thread, executed query by query inside FAISS (BLAS
                        off; fast-scan forced to its per-query scan, implem 10);
  batch, batch-call   : one call over all queries with FAISS's defaults (fast-scan groups queries by list, BLAS
                        where nq*d exceeds the default threshold: work "shared"), on one thread and on all cores.
HNSW search is per-query whatever the call, so it has no shared-work one-thread row. Builds use --threads.
"""

from __future__ import annotations

import common  # noqa: F401  (pins the thread environment before faiss loads)

import time

import numpy as np

import faiss

from common import RowWriter, dense_arguments, int_list, load_dense, log

BLAS_OFF = 2**31 - 1  # faiss compares nq*d with this: never reached, so every distance is a per-query scan


def build_kind() -> str:
    level = faiss.SIMDConfig.get_level_name() if hasattr(faiss, "SIMDConfig") else "?"
    tag = common.wheel_tag("faiss-cpu")
    kind = "sdist build" if common.built_here("faiss-cpu") else f"wheel {tag}"
    return (f"faiss-cpu {faiss.__version__} {kind}; compile options '{faiss.get_compile_options().strip()}' "
            f"(DD = dynamic dispatch), running {level}; bundled OpenBLAS")


def index_bytes(index) -> int:
    return int(faiss.serialize_index(index).nbytes)


def main() -> None:
    p = dense_arguments(__doc__.splitlines()[0])
    p.add_argument("--nlist", default="", help="comma-separated IVF list counts (default about 4 sqrt(n), a power of two)")
    p.add_argument("--pq-m", type=int, default=0, help="PQ sub-quantizers for 4-bit fast-scan (default d/4, d/2 when d <= 128)")
    p.add_argument("--nprobe", default="", help="comma-separated nprobe sweep")
    p.add_argument("--k-factor", default="", help="comma-separated refine k_factor sweep")
    p.add_argument("--hnsw-m", default="", help="comma-separated HNSW M values (default 16,32)")
    p.add_argument("--ef-search", default="", help="comma-separated efSearch sweep")
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--skip", default="", help="comma-separated parts to skip: flat,ivf,hnsw")
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    base, queries, truth = load_dense(args)
    n, d = base.shape
    nq, k = len(queries), args.k
    one_query = [queries[i:i + 1] for i in range(nq)]
    out = RowWriter(args, "faiss", f"faiss-cpu {faiss.__version__}", build_kind())
    log("faiss:", out.build_kind)

    def ids_of_one(r):
        return r[1][0]

    def ids_of_batch(r):
        return list(r[1])

    def measure(index, name, bp, sp_text, build_s, nbytes, params, per_query_setup, batch_setup, batch_one_thread=True,
                blas_tags=True, batch_work="shared"):
        """The four rows of one configuration; *_setup switch the index between per-query and batch behaviour."""
        common_fields = dict(index=name, build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                             index_bytes=nbytes, n_vectors=n)
        off, default = (";blas=off", ";blas=default") if blas_tags else ("", "")
        faiss.omp_set_num_threads(1)
        per_query_setup()
        search_all = lambda: index.search(queries, k, params=params)  # noqa: E731
        out.loop_row(truth, lambda q: index.search(q, k, params=params), one_query, ids_of_one, search_params=sp_text + off, **common_fields)
        out.batch_row(truth, search_all, ids_of_batch, threads=1, search_params=sp_text + off, **common_fields)
        batch_setup()
        if batch_one_thread:
            out.batch_row(truth, search_all, ids_of_batch, threads=1, work=batch_work, search_params=sp_text + default, **common_fields)
        if args.threads > 1:
            faiss.omp_set_num_threads(args.threads)
            out.batch_row(truth, search_all, ids_of_batch, threads=args.threads, work=batch_work, search_params=sp_text + default,
                          **common_fields)
        faiss.omp_set_num_threads(1)

    default_blas = faiss.cvar.distance_compute_blas_threshold

    def blas(on: bool):
        faiss.cvar.distance_compute_blas_threshold = default_blas if on else BLAS_OFF

    # ---------------------------------------------------------------- Flat (exact; the sanity anchor)
    if "flat" not in skip:
        faiss.omp_set_num_threads(args.threads)
        t0 = time.perf_counter()
        flat = faiss.IndexFlatIP(d)
        flat.add(base)
        build_s = time.perf_counter() - t0
        gemm = nq * d > default_blas  # faiss's default switches a batch to BLAS (shared work) above nq*d
        measure(flat, "flat", "IndexFlatIP;f32", "exact", build_s, index_bytes(flat), None, lambda: blas(False), lambda: blas(True),
                batch_one_thread=gemm, batch_work="shared" if gemm else "per-query")
        del flat

    # ---------------------------------------------------------------- IVF-PQ 4-bit fast-scan + exact refine
    if "ivf" not in skip:
        nlists = int_list(args.nlist, [max(1, min(n // 32, 1 << int(round(np.log2(4 * np.sqrt(n))))))])
        m = args.pq_m or (d // 2 if d <= 128 else d // 4)
        nprobes = int_list(args.nprobe, [8, 32, 128] if args.quick else [4, 8, 16, 32, 64, 128, 256])
        kfs = int_list(args.k_factor, [4, 16] if args.quick else [2, 4, 8, 16])
        for nlist in nlists:
            key = f"IVF{nlist},PQ{m}x4fs,RefineFlat"
            log(f"faiss: building {key}")
            faiss.omp_set_num_threads(args.threads)
            c0, t0 = time.process_time(), time.perf_counter()
            fastscan = faiss.index_factory(d, f"IVF{nlist},PQ{m}x4fs", faiss.METRIC_INNER_PRODUCT)
            ivf = faiss.IndexRefineFlat(fastscan)  # exact f32 re-ranking of k_factor * k candidates
            ivf.train(base)
            ivf.add(base)
            build_s = time.perf_counter() - t0
            fastscan = faiss.downcast_index(fastscan)
            nbytes = index_bytes(ivf)
            log(f"faiss: {key} built in {build_s:.1f} s (cpu/wall {(time.process_time() - c0) / build_s:.2f}), {nbytes / n:.0f} B/vector")

            def per_query():
                blas(False)
                fastscan.implem = 10  # per-query scan (implem 12, the default for bbs 32, groups queries by list)

            def batched():
                blas(True)
                fastscan.implem = 0

            for nprobe in nprobes:
                if nprobe > nlist:
                    continue
                for kf in kfs:
                    ivf_params = faiss.SearchParametersIVF(nprobe=nprobe)
                    params = faiss.IndexRefineSearchParameters(k_factor=kf, base_index_params=ivf_params)
                    measure(ivf, "ivf-pq-fastscan", key, f"nprobe={nprobe};k_factor={kf}", build_s, nbytes, params, per_query,
                            batched)
            del ivf, fastscan

    # ---------------------------------------------------------------- HNSW (flat storage)
    if "hnsw" not in skip:
        efs = int_list(args.ef_search, [16, 32, 64, 256] if args.quick else [10, 16, 24, 32, 48, 64, 96, 128, 256, 512])
        for M in int_list(args.hnsw_m, [16] if args.quick else [16, 32]):
            faiss.omp_set_num_threads(args.threads)
            c0, t0 = time.process_time(), time.perf_counter()
            hnsw = faiss.IndexHNSWFlat(d, M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = args.ef_construction
            hnsw.add(base)
            build_s = time.perf_counter() - t0
            nbytes = index_bytes(hnsw)
            bp = f"HNSW{M},Flat;efConstruction={args.ef_construction}"
            log(f"faiss: {bp} built in {build_s:.1f} s (cpu/wall {(time.process_time() - c0) / build_s:.2f}), {nbytes / n:.0f} B/vector")
            for ef in efs:
                params = faiss.SearchParametersHNSW(efSearch=ef)
                # HNSW search is per-query whatever the batch size: its batch-1-thread row is "single / c++-loop"
                measure(hnsw, "hnsw", bp, f"efSearch={ef}", build_s, nbytes, params, lambda: blas(False), lambda: blas(False),
                        batch_one_thread=False, blas_tags=False, batch_work="per-query")
            del hnsw
    out.close()


if __name__ == "__main__":
    main()
