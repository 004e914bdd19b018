"""Dense indexes against numpy brute force (exact: FlatIndex, the exact filter plans of IvfPqIndex and HnswIndex),
recall of the approximate ones, batch = single, prepared scores, save / load round trips."""
from __future__ import annotations

import numpy as np
import pytest

import sparsedense as sd
from conftest import topk_dense

K = 10


def brute(x, q, metric):
    if metric == "ip":
        s = q @ x.T
    elif metric == "cosine":
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        s = qn @ xn.T
    else:
        s = -(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    return topk_dense(s.astype(np.float64), K)


@pytest.mark.parametrize("metric", ["ip", "cosine", "l2"])
def test_flat_equals_brute_force(dense_data, metric):
    x, q = dense_data
    index = sd.FlatIndex.build(x, metric)
    ids, scores = index.search_batch(q, K)
    bi, bs = brute(x, q, metric)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and ids.shape == (len(q), K)
    assert (ids == bi).mean() > 0.999  # float ties aside
    np.testing.assert_allclose(scores, bs, rtol=1e-4, atol=1e-3)
    for i in range(0, len(q), 7):
        one = index.search(q[i], K)
        np.testing.assert_array_equal(one[0], ids[i])
        np.testing.assert_array_equal(one[1], scores[i])


def test_flat_pads_when_fewer_than_k(dense_data):
    x, q = dense_data
    index = sd.FlatIndex.build(x[:3], "ip")
    ids, scores = index.search(q[0], 5)
    assert list(ids[3:]) == [-1, -1] and np.all(np.isneginf(scores[3:]))
    ids, scores = index.search_batch(q[:2], 5, filter=np.array([True, False, False]))
    assert (ids[:, 0] == 0).all() and (ids[:, 1:] == -1).all()


def test_inputs_converted_once(dense_data):
    x, q = dense_data
    index = sd.FlatIndex.build(x.astype(np.float64), "ip")  # converted
    ref = index.search_batch(q, K)
    for variant in (q.astype(np.float64), np.asfortranarray(q), q.tolist()):
        got = index.search_batch(variant, K)
        np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(index.search(q[0][None, :], K)[0], ref[0][0])
    np.testing.assert_array_equal(index.search(np.ascontiguousarray(q[:, :])[0].astype(">f4"), K)[0], ref[0][0])


@pytest.mark.parametrize("kind", ["ivfpq", "hnsw"])
def test_approximate_recall_and_batch_equals_single(dense_data, kind):
    x, q = dense_data
    if kind == "ivfpq":
        index = sd.IvfPqIndex.build(x, "ip", nlist=32, m=8, nbits=4, threads=2)
        params = dict(nprobe=32, refine_factor=20)
    else:
        index = sd.HnswIndex.build(x, "ip", M=16, ef_construction=100, threads=2)
        params = dict(ef=200)
    ids, scores = index.search_batch(q, K, **params)
    bi, _ = brute(x, q, "ip")
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])
    assert recall >= 0.9, recall
    for i in range(0, len(q), 9):
        one = index.search(q[i], K, **params)
        np.testing.assert_array_equal(one[0], ids[i])
        np.testing.assert_allclose(one[1], scores[i])


@pytest.mark.parametrize("kind", ["flat", "ivfpq", "hnsw"])
def test_exact_filter_plan_equals_brute_force(dense_data, kind):
    x, q = dense_data
    if kind == "flat":
        index = sd.FlatIndex.build(x, "ip")
    elif kind == "ivfpq":
        index = sd.IvfPqIndex.build(x, "ip", nlist=32, m=8, refine_encoding="f32", threads=2)
    else:
        index = sd.HnswIndex.build(x, "ip", M=8, ef_construction=40, threads=2)
    allowed = np.arange(0, len(x), 97)  # 1% of the ids, below exact_scan_fraction: the exact-scan plan
    mask = np.zeros(len(x), dtype=bool)
    mask[allowed] = True
    s = q @ x[allowed].T
    bi, bs = topk_dense(s.astype(np.float64), K)
    for flt in (allowed, mask, sd.IdSet(allowed)):
        ids, scores = index.search_batch(q, K, filter=flt, exact_scan_fraction=0.05)
        np.testing.assert_array_equal(ids, allowed[bi])
        np.testing.assert_allclose(scores, bs, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("kind", ["flat", "ivfpq", "hnsw"])
def test_save_load_round_trip(tmp_path, dense_data, kind):
    x, q = dense_data
    build = {
        "flat": lambda: sd.FlatIndex.build(x, "cosine", storage="f16"),
        "ivfpq": lambda: sd.IvfPqIndex.build(x, "l2", nlist=16, m=8, threads=2),
        "hnsw": lambda: sd.HnswIndex.build(x, "ip", M=8, ef_construction=40, threads=2),
    }[kind]
    index = build()
    path = str(tmp_path / f"{kind}.idx")
    index.save(path)
    loaded = type(index).load(path)
    assert len(loaded) == len(index) == len(x) and loaded.dimension == x.shape[1] and loaded.metric == index.metric
    a, b = index.search_batch(q, K), loaded.search_batch(q, K)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("kind", ["flat", "ivfpq", "hnsw"])
def test_score_is_the_search_score(dense_data, kind):
    x, q = dense_data
    index = {
        "flat": lambda: sd.FlatIndex.build(x, "ip"),
        "ivfpq": lambda: sd.IvfPqIndex.build(x, "ip", nlist=16, m=8, refine_encoding="f32", threads=2),
        "hnsw": lambda: sd.HnswIndex.build(x, "ip", M=8, ef_construction=40, threads=2),
    }[kind]()
    ids, scores = index.search(q[0], K)
    np.testing.assert_allclose(index.score(q[0], ids), scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(index.score(q[0], [5, 6]), q[0] @ x[[5, 6]].T, rtol=1e-4, atol=1e-4)


def test_ivfpq_custom_ids_add_remove(dense_data):
    x, q = dense_data
    ext = np.arange(len(x), dtype=np.int64) * 3 + 1000
    index = sd.IvfPqIndex.build(x, "ip", ids=ext, nlist=16, m=8, refine_encoding="f32", threads=2)
    ids, _ = index.search(q[0], K, nprobe=16, refine_factor=50)
    bi, _ = brute(x, q[:1], "ip")
    assert len(set(ids) & set(ext[bi[0]])) >= 8
    assert index.remove(ids[:2]) == 2
    ids2, _ = index.search(q[0], K, nprobe=16, refine_factor=50)
    assert not set(ids[:2]) & set(ids2)
    with pytest.raises(sd.InvalidArgumentError):
        index.add(x[:2])  # explicit-id index needs ids


def test_hnsw_add_remove(dense_data):
    x, q = dense_data
    index = sd.HnswIndex.build(x[:500], "ip", M=8, ef_construction=40, threads=1)
    new = index.add(x[500:600])
    assert list(new) == list(range(500, 600))
    top = index.search(q[0], 1, ef=200)[0][0]
    assert index.remove(int(top)) is True and index.remove(int(top)) is False
    assert top not in index.search(q[0], K, ef=200)[0]


def test_hnsw_int8_walk_with_f16_rerank_copy(dense_data):
    """rerank_storage='f16': less memory than an f32 copy, and results carry (f16-exact) scores close to brute force."""
    x, q = dense_data
    f32 = sd.HnswIndex.build(x, "ip", M=8, ef_construction=60, storage="int8", threads=1)
    f16 = sd.HnswIndex.build(x, "ip", M=8, ef_construction=60, storage="int8", rerank_storage="f16", threads=1)
    assert f16.memory_bytes < f32.memory_bytes
    ids, scores = f16.search_batch(q, K, ef=100)
    bi, bs = brute(x, q, "ip")
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])
    assert recall >= 0.9, recall
    np.testing.assert_allclose(scores[:, 0], (q * x[ids[:, 0]]).sum(1), rtol=2e-2, atol=2e-2)
    with pytest.raises(ValueError, match="rerank"):
        sd.HnswIndex.build(x, "ip", storage="int8", rerank_storage="int8")


def test_hnsw_int4_walk_reaches_brute_force_recall_with_less_memory(dense_data):
    """storage='int4': half the walk payload of int8; with rerank=64 from the f16 copy recall stays near brute force."""
    x, q = dense_data
    int8 = sd.HnswIndex.build(x, "cosine", M=8, ef_construction=60, storage="int8-dim", rerank_storage="f16", threads=1)
    int4 = sd.HnswIndex.build(x, "cosine", M=8, ef_construction=60, storage="int4", rerank_storage="f16", threads=1)
    assert int4.memory_bytes < int8.memory_bytes
    ids, scores = int4.search_batch(q, K, ef=100, rerank=64)
    bi, _ = brute(x, q, "cosine")
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])
    assert recall >= 0.95, recall
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    np.testing.assert_allclose(scores[:, 0], (qn * xn[ids[:, 0]]).sum(1), rtol=2e-2, atol=2e-2)
    flat = sd.FlatIndex.build(x, "cosine", storage="int4")
    assert flat.search_batch(q, K)[0].shape == (len(q), K)
