"""Readers of the data files used by the examples and benchmarks: .fvecs (TEXMEX) and the BigANN .csr format."""
from __future__ import annotations

import numpy as np


def read_fvecs(path: str, mmap: bool = True) -> np.ndarray:
    """An .fvecs file ((int32 d, d float32) per row) as a float32 (n, d) array (a view of the memory-mapped file)."""
    raw = np.memmap(path, dtype=np.int32, mode="r") if mmap else np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        return np.zeros((0, 0), dtype=np.float32)
    d = int(raw[0])
    if d <= 0 or raw.size % (d + 1) != 0:
        raise ValueError(f"{path}: not an .fvecs file (first dimension {d}, {raw.size} words)")
    return raw.reshape(-1, d + 1)[:, 1:].view(np.float32)


def read_csr(path: str):
    """A BigANN-style .csr file (int64 rows, cols, nnz; int64 indptr[rows + 1]; int32 indices[nnz]; float32 data[nnz])
    as a scipy.sparse.csr_matrix (float32 data, int32 indices)."""
    import scipy.sparse as sp

    with open(path, "rb") as f:
        rows, cols, nnz = (int(x) for x in np.fromfile(f, dtype=np.int64, count=3))
        indptr = np.fromfile(f, dtype=np.int64, count=rows + 1)
        indices = np.fromfile(f, dtype=np.int32, count=nnz)
        data = np.fromfile(f, dtype=np.float32, count=nnz)
    return sp.csr_matrix((data, indices, indptr), shape=(rows, cols))
