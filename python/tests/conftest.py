"""Shared fixtures: small random data sets with numpy brute-force answers, and the real data under ../shared/data
(tests that need it skip, reported, when it is absent)."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest
import scipy.sparse as sp

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(os.environ.get("SPARSEDENSE_DATA", ROOT.parent / "shared" / "data"))


def data_path(*parts: str) -> pathlib.Path:
    """A file under the shared data folder, or a pytest skip when it is absent."""
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"data not available: {p}")
    return p


def topk_dense(scores: np.ndarray, k: int):
    """Best-first ids and scores per row, ties by smaller id (the library's order)."""
    n = scores.shape[1]
    order = np.lexsort((np.broadcast_to(np.arange(n), scores.shape), -scores), axis=1)[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def dense_data():
    r = np.random.default_rng(7)
    x = r.standard_normal((3000, 24)).astype(np.float32)
    q = r.standard_normal((40, 24)).astype(np.float32)
    return x, q


@pytest.fixture(scope="session")
def sparse_data():
    r = np.random.default_rng(11)
    docs = sp.random(1500, 400, density=0.03, format="csr", dtype=np.float32, random_state=r)
    docs.data = r.uniform(0.05, 2.0, docs.nnz).astype(np.float32)
    queries = sp.random(30, 400, density=0.03, format="csr", dtype=np.float32, random_state=r)
    queries.data = r.uniform(0.05, 2.0, queries.nnz).astype(np.float32)
    docs.sort_indices()
    queries.sort_indices()
    return docs.astype(np.float32), queries.astype(np.float32)
