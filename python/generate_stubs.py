"""Regenerates python/sparsedense/_core.pyi: nanobind's stubgen, then the argument types the bindings take as plain
objects (numpy / scipy inputs, filters, progress) and the result tuples written out.

usage: PYTHONPATH=<build>/python python python/generate_stubs.py   (with nanobind installed)
"""
import pathlib
import re
import subprocess
import sys

out = pathlib.Path(__file__).parent / "sparsedense" / "_core.pyi"
subprocess.run([sys.executable, "-m", "nanobind.stubgen", "-m", "sparsedense._core", "-o", str(out)], check=True)
text = out.read_text()
header = '''from collections.abc import Callable
from typing import Any, Union

from numpy.typing import ArrayLike

#: A scipy.sparse matrix or array (CSR used as is; int32 indices and float32 data are not copied).
SparseMatrix = Any
#: One sparse query: (indices, values) arrays, or a one-row scipy.sparse matrix.
SparseQuery = Union[tuple[ArrayLike, ArrayLike], SparseMatrix]
#: Allowed ids: a numpy bool mask over ids, an integer array of ids, or an IdSet.
FilterLike = Union[ArrayLike, "IdSet"]
#: Build progress: True (tqdm), False / None (silent) or a callable(stage, done, total).
ProgressLike = Union[bool, Callable[[str, int, int], object]]
#: (ids int64, scores float32), shape (k,) for one query or (nq, k) for a batch, padded with -1 / -inf.
Results = tuple[NDArray[numpy.int64], NDArray[numpy.float32]]
'''
text = text.replace("from numpy.typing import NDArray\n", "from numpy.typing import NDArray\n\n" + header, 1)
text = re.sub(r"\) -> tuple:", ") -> Results:", text)
text = text.replace("progress: object | None = None", "progress: ProgressLike | None = None")
text = text.replace("filter: object | None = None", "filter: FilterLike | None = None")
for name, typ in (("docs", "SparseMatrix"), ("data", "ArrayLike"), ("ids_or_mask", "ArrayLike"), ("ids", "ArrayLike"),
                  ("sparse_ids", "ArrayLike"), ("sparse_scores", "ArrayLike"), ("dense_ids", "ArrayLike"), ("dense_scores", "ArrayLike"),
                  ("scores", "ArrayLike"), ("dense_query", "ArrayLike"), ("dense_queries", "ArrayLike"), ("sparse_queries", "SparseMatrix"),
                  ("sparse_query", "SparseQuery"), ("sparse", "InvertedIndex | ClusteredInvertedIndex"),
                  ("dense", "FlatIndex | IvfPqIndex | HnswIndex"), ("fusion", "Fusion | None"), ("k0_sparse", "int | None"),
                  ("k0_dense", "int | None"), ("sparse_params", "dict[str, Any] | None"), ("dense_params", "dict[str, Any] | None")):
    text = re.sub(rf"\b{name}: object( \| None)?", f"{name}: {typ}", text)
# query / queries: sparse for the sparse indexes, dense for the dense ones
parts = re.split(r"(?m)^class ", text)
for i, part in enumerate(parts):
    sparse = part.startswith(("InvertedIndex", "ClusteredInvertedIndex"))
    part = re.sub(r"\bquery: object", "query: SparseQuery" if sparse else "query: ArrayLike", part)
    part = re.sub(r"\bqueries: object", "queries: SparseMatrix" if sparse else "queries: ArrayLike", part)
    parts[i] = part
text = "class ".join(parts)
text = text.replace("def _set_error_classes(classes: dict) -> None: ...\n", "")
out.write_text(text)
print(f"wrote {out}: {text.count(': object')} arguments left as object")
