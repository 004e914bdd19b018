#!/usr/bin/env python3
"""Seismic (pyseismic-lsr from PyPI, `import seismic`) on a sparse data set: SeismicIndexRaw (integer component
ids, the Seismic inner binary format), build sweep (n_postings, centroid_fraction, summary_energy, max_fraction,
nknn) x search sweep (query_cut, heap_factor, n_knn).

Seismic's search runs on rayon's global pool, whose size is fixed when the process first uses it:
batch_search(num_threads=...) ignores its argument. So this script runs two child processes of itself:
  build phase  (RAYON_NUM_THREADS=--threads): builds and saves every index, then the all-cores batch rows;
  single phase (RAYON_NUM_THREADS=1): loads each index, then single / python-loop rows (one search call per
               query) and single / batch-call rows (batch_search on the one-thread pool: rayon runs the queries
               one after another, per-query work).
batch_search reads its queries from a file in the inner format: that read is inside its timed calls.
Build progress (printed by Seismic on stdout) goes to stderr here.
"""

from __future__ import annotations

import common  # noqa: F401  (thread environment first)

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import COMMON_COLUMNS, EXTRA_COLUMNS, RowWriter, add_common_arguments, log, read_csr, read_ivecs

QUICK_BUILDS = "300/0.1/0.4/1.5/0"
FULL_BUILDS = "300/0.1/0.4/1.5/0;600/0.1/0.4/1.5/0;300/0.2/0.5/1.5/0;600/0.1/0.4/1.5/10"


def write_inner_format(m: common.Csr, path: Path) -> None:
    """Seismic inner format: u32 n; per vector u32 nnz, u32 components[nnz] (ascending), f32 values[nnz]."""
    n = m.nrow
    lens = np.diff(m.indptr).astype(np.int64)
    row = np.repeat(np.arange(n), lens)
    order = np.lexsort((m.indices, row))
    comps = m.indices[order].astype(np.uint32)
    vals = m.data[order].astype(np.float32)
    out = np.zeros(1 + n + 2 * len(comps), dtype=np.uint32)
    out[0] = n
    starts = 1 + np.arange(n) + 2 * m.indptr[:-1]
    out[starts] = lens
    comp_pos = starts[row] + 1 + (np.arange(len(comps)) - m.indptr[row])
    out[comp_pos] = comps
    out[comp_pos + lens[row]] = vals.view(np.uint32)
    out.tofile(path)


def parse_builds(text: str) -> list[dict]:
    builds = []
    for item in filter(None, text.split(";")):
        n_postings, cf, energy, max_fraction, nknn = item.split("/")
        builds.append(dict(n_postings=int(n_postings), centroid_fraction=float(cf), summary_energy=float(energy),
                           max_fraction=float(max_fraction), nknn=int(nknn)))
    return builds


def build_params_text(b: dict) -> str:
    return (f"n_postings={b['n_postings']};centroid_fraction={b['centroid_fraction']:g};summary_energy={b['summary_energy']:g};"
            f"max_fraction={b['max_fraction']:g};nknn={b['nknn']}")


def build_kind() -> str:
    version = common.package_version("pyseismic-lsr")
    if common.built_here("pyseismic-lsr"):
        return f"pyseismic-lsr {version} sdist build here (RUSTFLAGS as set at install)"
    return (f"pyseismic-lsr {version} wheel {common.wheel_tag('pyseismic-lsr')}: AVX2 + FMA + F16C code, no AVX-512; "
            f"f16 values, u16 component ids")


def space_usage_bytes(index) -> int:
    """print_space_usage_byte() prints a report on the process's stdout (fd 1); capture it and read the total."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            index.print_space_usage_byte()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    for line in text.splitlines():
        if line.strip().startswith("Total:"):
            return int(line.split(":")[1].split()[0])
    log("seismic: could not read the space usage report:", text)
    return 0


# ----------------------------------------------------------------------------------------------- child phases
def run_phase(args) -> None:
    import seismic  # imported only in the children, after RAYON_NUM_THREADS is set

    work = Path(args.work)
    meta = json.loads((work / "meta.json").read_text())
    truth = read_ivecs(args.ground_truth, meta["n_queries"])
    nq, k, n = meta["n_queries"], args.k, meta["n_docs"]
    queries = read_csr(args.queries_csr).head(nq)
    one_query = [(queries.row(i)[0].astype(np.int32), queries.row(i)[1].astype(np.float32)) for i in range(nq)]
    query_bin = str(work / "queries.bin")
    threads = int(os.environ["RAYON_NUM_THREADS"])
    out = RowWriter(args, "seismic", f"pyseismic-lsr {common.package_version('pyseismic-lsr')}", build_kind())
    cuts = [int(x) for x in args.query_cut.split(",")]
    factors = [float(x) for x in args.heap_factor.split(",")]

    for i, b in enumerate(parse_builds(args.builds)):
        path = work / f"index{i}"
        info_path = work / f"index{i}.json"
        bp = build_params_text(b)
        if args.phase == "build":
            log(f"seismic: building {bp} on {threads} rayon threads")
            t0 = time.perf_counter()
            sys.stdout.flush()
            index = seismic.SeismicIndexRaw.build(str(work / "docs.bin"), n_postings=b["n_postings"],
                                                  centroid_fraction=b["centroid_fraction"], summary_energy=b["summary_energy"],
                                                  max_fraction=b["max_fraction"], nknn=b["nknn"])
            build_s = time.perf_counter() - t0
            nbytes = space_usage_bytes(index)
            index.save(str(path))  # writes `path` itself (it prints path.index.seismic)
            info_path.write_text(json.dumps({"build_s": build_s, "bytes": nbytes}))
            log(f"seismic: {bp} built in {build_s:.1f} s, {nbytes / n:.0f} B/document")
        else:
            saved = path if path.exists() else Path(str(path) + ".index.seismic")
            index = seismic.SeismicIndexRaw.load(str(saved))
            info = json.loads(info_path.read_text())
            build_s, nbytes = info["build_s"], info["bytes"]
        fields = dict(index="seismic-raw", build_params=bp, build_s=build_s, n_queries=nq, build_threads=args.threads,
                      index_bytes=nbytes, n_vectors=n)
        knns = sorted({0, b["nknn"]})
        for n_knn in knns:
            for qc in cuts:
                for hf in factors:
                    sp = f"query_cut={qc};heap_factor={hf:g};n_knn={n_knn}"
                    batch = lambda: index.batch_search(query_bin, k, qc, hf, n_knn, True)  # noqa: E731
                    ids = lambda rs: [[doc for _, doc in r] for r in rs]  # noqa: E731
                    if args.phase == "single":
                        out.loop_row(truth, lambda q: index.search(q[0], q[1], k, qc, hf, n_knn, True), one_query,
                                     lambda r: [doc for _, doc in r], search_params=sp, **fields)
                        out.batch_row(truth, batch, ids, threads=1, search_params=sp, **fields)
                    else:
                        out.batch_row(truth, batch, ids, threads=threads, search_params=sp, **fields)
        del index
    out.close()


# ----------------------------------------------------------------------------------------------- parent
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", help="documents (.csr)")
    p.add_argument("--queries", help="queries (.csr)")
    p.add_argument("--ground-truth", required=True, help="exact neighbours (.ivecs, best first)")
    p.add_argument("--builds", default="", help="build configurations 'n_postings/centroid_fraction/summary_energy/"
                   f"max_fraction/nknn;...' (default {FULL_BUILDS!r}; --quick {QUICK_BUILDS!r})")
    p.add_argument("--query-cut", default="", help="comma-separated query_cut sweep")
    p.add_argument("--heap-factor", default="", help="comma-separated heap_factor sweep")
    p.add_argument("--keep-work", action="store_true", help="keep the inner-format files and saved indexes")
    add_common_arguments(p)
    # internal: the child phases
    p.add_argument("--phase", choices=["build", "single"], help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--queries-csr", help=argparse.SUPPRESS)
    args = p.parse_args()
    if not args.builds:
        args.builds = QUICK_BUILDS if args.quick else FULL_BUILDS
    if not args.query_cut:
        args.query_cut = "5,10" if args.quick else "3,5,6,8,10,12"
    if not args.heap_factor:
        args.heap_factor = "0.9,0.7" if args.quick else "1,0.9,0.8,0.7,0.6"
    if args.phase:
        run_phase(args)
        return
    if not args.corpus or not args.queries:
        p.error("--corpus and --queries are required")

    work = common.scratch_dir(args, "seismic")
    try:
        corpus = read_csr(args.corpus)
        queries = read_csr(args.queries).head(args.max_queries)
        write_inner_format(corpus, work / "docs.bin")
        write_inner_format(queries, work / "queries.bin")
        (work / "meta.json").write_text(json.dumps({"n_docs": corpus.nrow, "n_queries": queries.nrow}))
        log(f"seismic: {corpus.nrow} documents, {queries.nrow} queries written in the inner format to {work}")
        parts = []
        for phase, rayon in (("build", args.threads), ("single", 1)):
            part = work / f"{phase}.csv"
            cmd = [sys.executable, os.path.abspath(__file__), "--phase", phase, "--work", str(work), "--queries-csr", args.queries,
                   "--ground-truth", args.ground_truth, "--builds", args.builds, "--query-cut", args.query_cut,
                   "--heap-factor", args.heap_factor, "--max-queries", str(args.max_queries), "--repeat", str(args.repeat),
                   "--threads", str(args.threads), "--dataset", args.dataset, "--k", str(args.k), "--out", str(part)]
            env = dict(os.environ, RAYON_NUM_THREADS=str(rayon))
            log(f"seismic: {phase} phase, RAYON_NUM_THREADS={rayon}")
            subprocess.run(cmd, env=env, stdout=sys.stderr, check=True)
            parts.append(part)
        # single-thread rows first, then the all-cores rows, in one CSV
        out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COMMON_COLUMNS + EXTRA_COLUMNS)
        for part in reversed(parts):
            with open(part, newline="") as f:
                rows = list(csv.reader(f))
            writer.writerows(rows[1:])
        if out is not sys.stdout:
            out.close()
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
