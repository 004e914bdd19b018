"""Several Python threads searching one index at once (the GIL is released in search) give the sequential results;
batch results do not depend on the thread count."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sparsedense as sd


@pytest.mark.parametrize("kind", ["flat", "ivfpq", "hnsw", "inverted", "clustered"])
def test_concurrent_python_threads_equal_sequential(dense_data, sparse_data, kind):
    x, q = dense_data
    docs, sq = sparse_data
    index, queries = {
        "flat": (lambda: sd.FlatIndex.build(x, "ip"), q),
        "ivfpq": (lambda: sd.IvfPqIndex.build(x, "ip", nlist=16, m=8, threads=2), q),
        "hnsw": (lambda: sd.HnswIndex.build(x, "ip", M=8, ef_construction=40, threads=2), q),
        "inverted": (lambda: sd.InvertedIndex.build(docs), sq),
        "clustered": (lambda: sd.ClusteredInvertedIndex.build(docs, lambda_=100, threads=2), sq),
    }[kind]
    index = index()
    n = queries.shape[0]
    sequential = [index.search(queries[i], 10) for i in range(n)]
    mask = np.arange(len(index)) % 3 == 0
    seq_filtered = [index.search(queries[i], 10, filter=mask) for i in range(n)]

    def work(t):
        out = []
        for rep in range(5):
            for i in range((t + rep) % n, n, 3):
                out.append((i, False, index.search(queries[i], 10)))
                out.append((i, True, index.search(queries[i], 10, filter=mask)))
        return out

    with ThreadPoolExecutor(max_workers=6) as pool:
        for results in pool.map(work, range(6)):
            for i, filtered, (ids, scores) in results:
                ref = seq_filtered[i] if filtered else sequential[i]
                np.testing.assert_array_equal(ids, ref[0])
                np.testing.assert_array_equal(scores, ref[1])
    one = index.search_batch(queries, 10, threads=1)
    for threads in (0, 2, 5):
        many = index.search_batch(queries, 10, threads=threads)
        np.testing.assert_array_equal(one[0], many[0])
    with ThreadPoolExecutor(max_workers=3) as pool:
        for ids, _ in pool.map(lambda _: index.search_batch(queries, 10, threads=2), range(3)):
            np.testing.assert_array_equal(ids, one[0])
