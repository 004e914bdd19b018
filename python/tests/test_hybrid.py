"""Fusion against ranx (a peer no one here wrote) for every method both have -- min-max and z-score convex
combinations, their sum, RRF -- and against the published formulas where ranx has none (DBSF, weighted RRF); the
HybridSearcher against the composition of its parts (per-side parameters reach their index, exact fill)."""
from __future__ import annotations

import numpy as np
import pytest

import sparsedense as sd

ranx = pytest.importorskip("ranx")

NQ, K0 = 12, 20


@pytest.fixture(scope="module")
def lists():
    r = np.random.default_rng(5)
    si = np.stack([r.choice(60, K0, replace=False) for _ in range(NQ)]).astype(np.int64)
    di = np.stack([r.choice(60, K0, replace=False) for _ in range(NQ)]).astype(np.int64)
    ss = -np.sort(-r.uniform(0, 30, (NQ, K0)), axis=1).astype(np.float32)   # BM25-like
    ds = -np.sort(-r.uniform(0.2, 0.9, (NQ, K0)), axis=1).astype(np.float32)  # cosine-like
    si[4, 15:] = -1  # a short (padded) list; no score ties (ranx re-sorts a run, tied ranks could differ)
    return si, ss, di, ds


def as_run(ids, scores):
    return {f"q{q}": {f"d{i}": float(s) for i, s in zip(ids[q], scores[q]) if i >= 0} for q in range(len(ids))}


def ours(lists, fusion):
    si, ss, di, ds = lists
    ids, scores = sd.fuse(si, ss, di, ds, 2 * K0, fusion)
    return {f"q{q}": {f"d{i}": float(s) for i, s in zip(ids[q], scores[q]) if i >= 0} for q in range(NQ)}


def theirs(lists, norm, method, params=None):
    si, ss, di, ds = lists
    runs = [ranx.Run(as_run(si, ss)), ranx.Run(as_run(di, ds))]
    return ranx.fuse(runs=runs, norm=norm, method=method, params=params or {}).to_dict()


def assert_same(a, b, scale=1.0):
    assert a.keys() == b.keys()
    for q in a:
        assert a[q].keys() == b[q].keys(), q
        for d in a[q]:
            assert a[q][d] * scale == pytest.approx(b[q][d], rel=1e-5, abs=1e-6), (q, d)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_convex_min_max_equals_ranx_wsum(lists, alpha):
    assert_same(ours(lists, sd.Fusion.convex(alpha, "min_max", "zero")), theirs(lists, "min-max", "wsum", {"weights": [alpha, 1 - alpha]}))


@pytest.mark.parametrize("alpha", [0.2, 0.6])
def test_convex_z_score_equals_ranx_zmuv_wsum(lists, alpha):
    assert_same(ours(lists, sd.Fusion.convex(alpha, "z_score", "zero")), theirs(lists, "zmuv", "wsum", {"weights": [alpha, 1 - alpha]}))


@pytest.mark.parametrize("norm,ranx_norm", [("min_max", "min-max"), ("z_score", "zmuv")])
def test_sum_equals_ranx_combsum(lists, norm, ranx_norm):
    # CombSUM = the convex combination at alpha 0.5, times 2
    assert_same(ours(lists, sd.Fusion.convex(0.5, norm, "zero")), theirs(lists, ranx_norm, "sum"), scale=2.0)


@pytest.mark.parametrize("k", [60, 10])
def test_rrf_equals_ranx(lists, k):
    assert_same(ours(lists, sd.Fusion.rrf(k)), theirs(lists, "min-max", "rrf", {"k": k}))


def test_dbsf_and_weighted_rrf_follow_their_formulas(lists):
    # ranx has neither: Qdrant's DBSF ((s - (mu - 3 sigma)) / 6 sigma, sample sigma) and weighted RRF by hand
    si, ss, di, ds = lists
    got = ours(lists, sd.Fusion.convex(0.4, "dbsf", "zero"))
    got_rrf = ours(lists, sd.Fusion.rrf(60, 0.7, 0.3))
    for q in range(NQ):
        want, want_rrf = {}, {}
        for ids, scores, w, wr in ((si[q], ss[q], 0.4, 0.7), (di[q], ds[q], 0.6, 0.3)):
            keep = ids >= 0
            s = scores[keep].astype(np.float64)
            mu, sigma = s.mean(), s.std(ddof=1)
            for rank, (i, v) in enumerate(zip(ids[keep], s), start=1):
                want[f"d{i}"] = want.get(f"d{i}", 0.0) + w * (v - (mu - 3 * sigma)) / (6 * sigma)
                want_rrf[f"d{i}"] = want_rrf.get(f"d{i}", 0.0) + wr / (60 + rank)
        assert_same({"q": got[f"q{q}"]}, {"q": want})
        assert_same({"q": got_rrf[f"q{q}"]}, {"q": want_rrf})


def test_fusion_objects():
    f = sd.Fusion.convex(0.3, "z_score", "exact")
    assert (f.method, f.alpha, f.normalization, f.missing) == ("convex", 0.3, "z_score", "exact")
    assert sd.Fusion.rrf(20, 2, 1).rrf_k == 20
    for bad in (lambda: sd.Fusion.convex(1.5), lambda: sd.Fusion.convex(0.5, "l1"), lambda: sd.Fusion.convex(0.5, "min_max", "mean"),
                lambda: sd.Fusion.rrf(0), lambda: sd.Fusion.rrf(60, -1)):
        with pytest.raises(sd.InvalidArgumentError):
            bad()


@pytest.fixture(scope="module")
def hybrid_setup(sparse_data):
    docs, sq = sparse_data
    r = np.random.default_rng(9)
    x = r.standard_normal((docs.shape[0], 16)).astype(np.float32)
    dq = r.standard_normal((sq.shape[0], 16)).astype(np.float32)
    return docs, sq, x, dq, sd.InvertedIndex.build(docs), sd.FlatIndex.build(x, "ip")


@pytest.mark.parametrize("fusion", [sd.Fusion.rrf(), sd.Fusion.convex(0.4, "min_max", "zero"), sd.Fusion.convex(0.7, "z_score", "list_minimum")])
def test_hybrid_searcher_is_fuse_of_both_sides(hybrid_setup, fusion):
    docs, sq, x, dq, inv, flat = hybrid_setup
    hs = sd.HybridSearcher(inv, flat, k0_sparse=30, k0_dense=25, fusion=fusion)
    got = hs.search_batch(sq, dq, 10)
    s, d = inv.search_batch(sq, 30), flat.search_batch(dq, 25)
    want = sd.fuse(s[0], s[1], d[0], d[1], 10, fusion)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    one = hs.search(sq[2], dq[2], 10)
    np.testing.assert_array_equal(one[0], got[0][2])


def test_hybrid_exact_fill_min_max(hybrid_setup):
    docs, sq, x, dq, inv, flat = hybrid_setup
    hs = sd.HybridSearcher(inv, flat, k0_sparse=15, k0_dense=15)  # default: convex, min_max, alpha 0.5, exact
    ids, scores = hs.search_batch(sq, dq, 10)
    exact_s = (sq @ docs.T).toarray().astype(np.float64)
    exact_d = (dq @ x.T).astype(np.float64)
    s, d = inv.search_batch(sq, 15), flat.search_batch(dq, 15)
    for q in range(sq.shape[0]):
        ls, ld = s[0][q][s[0][q] >= 0], d[0][q]
        cand = np.union1d(ls, ld)
        def norm(v, listed):
            lo, hi = listed.min(), listed.max()
            return (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
        fused = 0.5 * norm(exact_s[q, cand], exact_s[q, ls]) + 0.5 * norm(exact_d[q, cand], exact_d[q, ld])
        order = np.lexsort((cand, -fused))[:10]
        np.testing.assert_allclose(scores[q][: len(order)], fused[order], rtol=1e-4, atol=1e-5)
        assert (ids[q][: len(order)] == cand[order]).mean() >= 0.9


def test_hybrid_per_side_params_and_filter(sparse_data):
    docs, sq = sparse_data
    r = np.random.default_rng(2)
    x = r.standard_normal((docs.shape[0], 16)).astype(np.float32)
    dq = r.standard_normal((sq.shape[0], 16)).astype(np.float32)
    ci = sd.ClusteredInvertedIndex.build(docs, lambda_=100, threads=2)
    ivf = sd.IvfPqIndex.build(x, "ip", nlist=16, m=4, threads=2)
    rrf = sd.Fusion.rrf()
    hs = sd.HybridSearcher(ci, ivf, k0_sparse=20, k0_dense=20, fusion=rrf, sparse_params={"query_cut": 2}, dense_params={"nprobe": 1})
    for sp_, dp in (({"query_cut": 2}, {"nprobe": 1}), ({"query_cut": 30, "heap_factor": 0.3}, {"nprobe": 16, "refine_factor": 8})):
        got = hs.search_batch(sq, dq, 10, sparse_params=sp_, dense_params=dp)
        s, d = ci.search_batch(sq, 20, **sp_), ivf.search_batch(dq, 20, **dp)
        np.testing.assert_array_equal(got[0], sd.fuse(s[0], s[1], d[0], d[1], 10, rrf)[0])
    np.testing.assert_array_equal(hs.search_batch(sq, dq, 10)[0], hs.search_batch(sq, dq, 10, sparse_params={"query_cut": 2}, dense_params={"nprobe": 1})[0])
    allowed = np.arange(0, docs.shape[0], 5)
    ids, _ = hs.search_batch(sq, dq, 10, filter=allowed)
    assert set(ids[ids >= 0]) <= set(allowed)
    with pytest.raises(sd.InvalidArgumentError, match="unknown parameter 'nprobes'"):
        hs.search(sq[0], dq[0], 10, dense_params={"nprobes": 3})
    with pytest.raises(sd.InvalidArgumentError, match="sparse index"):
        sd.HybridSearcher(ivf, ci)
    with pytest.raises(sd.DimensionMismatchError):
        sd.HybridSearcher(ci, sd.FlatIndex.build(x[:10]))
    with pytest.raises(sd.DimensionMismatchError):
        hs.search_batch(sq, dq[:3], 10)
