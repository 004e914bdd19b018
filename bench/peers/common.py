"""Shared plumbing for the peer benchmarks (bench/peers/peer_*.py).

Data readers (.fvecs / .ivecs / BigANN .csr), recall@10 with the same definition as bench/bench_support.hpp
(|returned top-10 ∩ true top-10| / 10, averaged over queries), the timing protocol (a warm-up pass, then the
median of --repeat timed passes), thread pinning, build-kind descriptions and the CSV writer that prints the
columns every system's results line up on:

    system,index,build_params,search_params,build_s,recall@10,qps,us_per_query,mode,search_threads

followed by the peers' extra columns (EXTRA_COLUMNS).

Import this module before any peer library: it pins the BLAS / OpenMP thread counts through the environment,
which those libraries read when they load.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# One thread unless a phase asks for more through the library's own API (faiss.omp_set_num_threads, the
# num_threads / threads arguments). RAYON_NUM_THREADS is set by peer_seismic.py per child process.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread pinning on purpose)

COMMON_COLUMNS = ["system", "index", "build_params", "search_params", "build_s", "recall@10", "qps", "us_per_query", "mode",
                  "search_threads"]
# call: python-loop = one Python call per query (the binding's call overhead included);
#       batch-call  = one call over all queries (the library loops in C++ / Rust).
# work: per-query   = each query is searched on its own (a one-thread batch call of this kind is mode "single");
#       shared      = the library shares work across queries (grouping queries by list, GEMM): mode "batch".
EXTRA_COLUMNS = ["dataset", "n_queries", "call", "work", "build_threads", "index_bytes", "bytes_per_vector", "us_min", "repeat",
                 "cpu_per_wall", "version", "build_kind"]


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- data readers
def read_fvecs(path: str, max_rows: int | None = None) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise ValueError(f"{path}: empty file")
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    if max_rows is not None:
        rows = rows[:max_rows]
    if not np.all(rows[:, 0] == d):
        raise ValueError(f"{path}: rows of different dimensions")
    return np.ascontiguousarray(rows[:, 1:].view(np.float32))


def read_ivecs(path: str, max_rows: int | None = None) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    if max_rows is not None:
        rows = rows[:max_rows]
    return np.ascontiguousarray(rows[:, 1:])


@dataclass
class Csr:
    indptr: np.ndarray   # int64, nrow + 1
    indices: np.ndarray  # int32
    data: np.ndarray     # float32
    ncol: int

    @property
    def nrow(self) -> int:
        return len(self.indptr) - 1

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b], self.data[a:b]

    def head(self, n: int) -> "Csr":
        n = min(n, self.nrow)
        end = int(self.indptr[n])
        return Csr(self.indptr[: n + 1].copy(), self.indices[:end].copy(), self.data[:end].copy(), self.ncol)


def read_csr(path: str) -> Csr:
    """BigANN-2023 sparse format: int64 nrow, ncol, nnz; int64 indptr[nrow+1]; int32 indices[nnz]; float32 data[nnz]."""
    with open(path, "rb") as f:
        nrow, ncol, nnz = (int(x) for x in np.fromfile(f, dtype=np.int64, count=3))
        indptr = np.fromfile(f, dtype=np.int64, count=nrow + 1)
        indices = np.fromfile(f, dtype=np.int32, count=nnz)
        data = np.fromfile(f, dtype=np.float32, count=nnz)
    if len(data) != nnz or indptr[-1] != nnz:
        raise ValueError(f"{path}: truncated CSR file")
    return Csr(indptr, indices, data, ncol)


def normalize_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return np.ascontiguousarray((x / norms).astype(np.float32))


def load_dense(args) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base, queries (first --max-queries) and ground truth; cosine is served as inner product on normalized rows."""
    base = read_fvecs(args.base)
    queries = read_fvecs(args.queries, args.max_queries)
    truth = read_ivecs(args.ground_truth, len(queries))
    if len(truth) < len(queries):
        raise SystemExit("ground truth has fewer rows than there are queries")
    if args.metric == "cosine":
        base, queries = normalize_rows(base), normalize_rows(queries)
    elif args.metric != "ip":
        raise SystemExit(f"metric {args.metric}: only ip and cosine are served (the shared dense sets)")
    log(f"data: base {base.shape}, queries {queries.shape}, metric {args.metric}")
    return base, queries, truth


def int_list(text: str, default: list[int]) -> list[int]:
    """A comma-separated sweep from the command line, or the default when the option was not given."""
    return [int(x) for x in text.split(",")] if text else default


def dense_arguments(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--base", required=True, help="base vectors (.fvecs)")
    p.add_argument("--queries", required=True, help="query vectors (.fvecs)")
    p.add_argument("--ground-truth", required=True, help="exact neighbours (.ivecs, best first)")
    p.add_argument("--metric", required=True, choices=["ip", "cosine"])
    add_common_arguments(p)
    return p


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-queries", type=int, default=1000, help="use the first N queries (default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per configuration; the median is reported (default 3)")
    p.add_argument("--threads", type=int, default=nproc(), help="threads for builds and for the all-cores batch rows")
    p.add_argument("--quick", action="store_true", help="small sweep for a smoke run")
    p.add_argument("--dataset", default="", help="name written in the dataset column")
    p.add_argument("--out", default="-", help="CSV output file (default stdout)")
    p.add_argument("--k", type=int, default=10)


# ----------------------------------------------------------------------------------------------- recall
def recall_at_10(found: list, truth: np.ndarray, k: int = 10) -> float:
    """Mean over queries of |found[q][:k] ∩ truth[q][:k]| / k (found: one sequence of ids per query)."""
    total = 0.0
    for q, ids in enumerate(found):
        expected = set(int(x) for x in truth[q, :k])
        total += len(expected.intersection(int(x) for x in list(ids)[:k])) / k
    return total / max(1, len(found))


# ----------------------------------------------------------------------------------------------- timing
@dataclass
class Timing:
    seconds_median: float
    seconds_min: float
    cpu_per_wall: float
    results: list = field(repr=False, default_factory=list)


def _timed_passes(run_pass, repeat: int) -> tuple[list[float], float]:
    walls, cpu, wall_total = [], 0.0, 0.0
    for _ in range(max(1, repeat)):
        c0, t0 = time.process_time(), time.perf_counter()
        run_pass()
        t1, c1 = time.perf_counter(), time.process_time()
        walls.append(t1 - t0)
        cpu += c1 - c0
        wall_total += t1 - t0
    return walls, cpu / wall_total if wall_total > 0 else 0.0


def time_python_loop(search_one, queries, repeat: int, to_ids) -> Timing:
    """One Python call per query: a warm-up pass (whose results are scored), then `repeat` timed passes.

    `queries` is a sequence of per-query arguments (already sliced, so slicing is not timed); `to_ids` turns one
    raw result into a sequence of ids, outside the timed passes."""
    warm = [search_one(q) for q in queries]

    def run_pass():
        for q in queries:
            search_one(q)

    walls, cpu = _timed_passes(run_pass, repeat)
    return Timing(statistics.median(walls), min(walls), cpu, [to_ids(r) for r in warm])


def time_batch_call(search_all, repeat: int, to_ids_list) -> Timing:
    """One call over all queries: a warm-up call (scored), then `repeat` timed calls."""
    warm = search_all()
    walls, cpu = _timed_passes(search_all, repeat)
    return Timing(statistics.median(walls), min(walls), cpu, to_ids_list(warm))


# ----------------------------------------------------------------------------------------------- rows and CSV
class RowWriter:
    """Prints rows as they are measured (so long runs stream), in the common columns then EXTRA_COLUMNS."""

    def __init__(self, args, system: str, version: str, build_kind: str):
        self.args = args
        self.system = system
        self.version = version
        self.build_kind = build_kind
        self.file = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")
        self.writer.writerow(COMMON_COLUMNS + EXTRA_COLUMNS)
        self.file.flush()
        self.rows: list[dict] = []

    def loop_row(self, truth, search_one, queries, to_ids, **row) -> dict:
        """Times a Python loop of one-query calls (one thread, per-query work) and emits its row."""
        t = time_python_loop(search_one, queries, self.args.repeat, to_ids)
        return self.emit(recall=recall_at_10(t.results, truth), timing=t, threads=1, call="python-loop", work="per-query", **row)

    def batch_row(self, truth, search_all, to_ids_list, *, threads: int, work: str = "per-query", **row) -> dict:
        """Times one call that searches every query on `threads` threads and emits its row."""
        t = time_batch_call(search_all, self.args.repeat, to_ids_list)
        return self.emit(recall=recall_at_10(t.results, truth), timing=t, threads=threads, call="batch-call", work=work, **row)

    def emit(self, *, index: str, build_params: str, search_params: str, build_s: float, recall: float, timing: Timing,
             n_queries: int, threads: int, call: str, work: str, build_threads: int, index_bytes: float,
             n_vectors: int) -> dict:
        assert call in ("python-loop", "batch-call") and work in ("per-query", "shared")
        mode = "single" if threads == 1 and work == "per-query" else "batch"
        seconds = timing.seconds_median
        row = {
            "system": self.system, "index": index, "build_params": build_params, "search_params": search_params,
            "build_s": f"{build_s:.3f}", "recall@10": f"{recall:.4f}", "qps": f"{n_queries / seconds:.1f}",
            "us_per_query": f"{seconds * 1e6 / n_queries:.2f}", "mode": mode, "search_threads": str(threads),
            "dataset": self.args.dataset, "n_queries": str(n_queries), "call": call, "work": work, "build_threads": str(build_threads),
            "index_bytes": f"{index_bytes:.0f}", "bytes_per_vector": f"{index_bytes / max(1, n_vectors):.1f}",
            "us_min": f"{timing.seconds_min * 1e6 / n_queries:.2f}", "repeat": str(self.args.repeat),
            "cpu_per_wall": f"{timing.cpu_per_wall:.2f}", "version": self.version, "build_kind": self.build_kind,
        }
        self.writer.writerow([row[c] for c in COMMON_COLUMNS + EXTRA_COLUMNS])
        self.file.flush()
        self.rows.append(row)
        log(f"  {index:<22} {build_params:<34} {search_params:<30} recall@10 {recall:.4f} {seconds * 1e6 / n_queries:9.2f} us/query "
            f"{mode:<6} {threads}t {call:<11} {work:<9} cpu/wall {timing.cpu_per_wall:.2f}")
        return row

    def close(self) -> None:
        if self.file is not sys.stdout:
            self.file.close()


def wheel_tag(distribution: str) -> str:
    """The platform tag of an installed distribution's WHEEL file: manylinux_* = a wheel from PyPI, linux_x86_64 =
    built here from the sdist."""
    from importlib import metadata
    try:
        text = metadata.distribution(distribution).read_text("WHEEL") or ""
    except metadata.PackageNotFoundError:
        return "not installed"
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    return tags[0] if tags else "unknown"


def package_version(distribution: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def built_here(distribution: str) -> bool:
    tag = wheel_tag(distribution)
    return tag.endswith("linux_x86_64") and "manylinux" not in tag and "musllinux" not in tag


def scratch_dir(args, name: str) -> Path:
    """A folder for temporary index files next to the output (removed by the caller)."""
    base = Path(args.out).resolve().parent if args.out != "-" else Path("build/peers-results/tmp").resolve()
    path = base / f".scratch-{name}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path
