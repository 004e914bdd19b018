"""Sparse indexes against a scipy brute force: InvertedIndex exact under every algorithm and filter, the clustered
index's recall and exact filter plan, batch = single, input forms, save / load round trips."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import sparsedense as sd
from conftest import topk_dense

K = 10
ALGORITHMS = ["automatic", "maxscore", "block_max_wand", "term_at_a_time", "document_at_a_time"]


def brute(docs, queries, allowed=None):
    s = (queries @ docs.T).toarray().astype(np.float64)
    if allowed is not None:
        s = s[:, allowed]
    # documents scoring 0 are not retrieved by an inverted index: compare on positive scores only
    return topk_dense(s, K)


def check_exact(ids, scores, bi, bs, allowed=None):
    for row in range(len(ids)):
        n = int((bs[row] > 0).sum())
        want = bi[row][:n] if allowed is None else allowed[bi[row][:n]]
        np.testing.assert_allclose(scores[row][:n], bs[row][:n], rtol=1e-5, atol=1e-6)
        got = ids[row][:n]
        if n == 0:
            continue
        # equal scores may order differently only among exact ties
        assert (got == want).mean() > 0.95 or np.allclose(np.sort(scores[row][:n]), np.sort(bs[row][:n]))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_inverted_index_is_exact(sparse_data, algorithm):
    docs, queries = sparse_data
    index = sd.InvertedIndex.build(docs)
    ids, scores = index.search_batch(queries, K, algorithm=algorithm)
    bi, bs = brute(docs, queries)
    check_exact(ids, scores, bi, bs)
    one = index.search(queries[3], K, algorithm=algorithm)
    np.testing.assert_array_equal(one[0], ids[3])


@pytest.mark.parametrize("selectivity", [0.5, 0.1, 0.01])
def test_inverted_index_filtered_is_exact(sparse_data, selectivity):
    docs, queries = sparse_data
    index = sd.InvertedIndex.build(docs)
    allowed = np.sort(np.random.default_rng(3).choice(docs.shape[0], max(1, int(selectivity * docs.shape[0])), replace=False))
    ids, scores = index.search_batch(queries, K, filter=allowed)
    bi, bs = brute(docs, queries, allowed)
    check_exact(ids, scores, bi, bs, allowed)
    assert set(ids[ids >= 0]) <= set(allowed)


def test_query_forms_agree(sparse_data):
    docs, queries = sparse_data
    index = sd.InvertedIndex.build(docs)
    q = queries[5]
    ref = index.search(q, K)
    for form in ((q.indices, q.data), (q.indices.astype(np.int64), q.data.astype(np.float64)), [list(q.indices), list(q.data)],
                 sp.csr_array(q), q.tocoo()):
        got = index.search(form, K)
        np.testing.assert_array_equal(got[0], ref[0])
    batch64 = sp.csr_matrix((queries.data.astype(np.float64), queries.indices.astype(np.int64), queries.indptr.astype(np.int64)),
                            shape=queries.shape)
    np.testing.assert_array_equal(index.search_batch(batch64, K)[0], index.search_batch(queries, K)[0])
    np.testing.assert_array_equal(index.search_batch(queries.tocsc(), K)[0], index.search_batch(queries, K)[0])


@pytest.mark.parametrize("precision", ["f16", "u8"])
def test_reduced_precision_close(sparse_data, precision):
    docs, queries = sparse_data
    exact = sd.InvertedIndex.build(docs).search_batch(queries, K)
    approx = sd.InvertedIndex.build(docs, precision=precision).search_batch(queries, K)
    assert np.mean([len(set(a) & set(b)) / K for a, b in zip(exact[0], approx[0])]) > 0.9


def test_clustered_recall_and_exact_filter(sparse_data):
    docs, queries = sparse_data
    index = sd.ClusteredInvertedIndex.build(docs, lambda_=200, centroid_fraction=0.2, forward_values="f32", threads=2)
    ids, scores = index.search_batch(queries, K, query_cut=20, heap_factor=0.5)
    bi, bs = brute(docs, queries)
    recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])
    assert recall >= 0.85, recall
    for i in range(0, queries.shape[0], 7):
        one = index.search(queries[i], K, query_cut=20, heap_factor=0.5)
        np.testing.assert_array_equal(one[0], ids[i])
    # few allowed documents: the exact scan of the forward index
    allowed = np.arange(0, docs.shape[0], 100)
    fi, fs = index.search_batch(queries, K, filter=allowed, exact_scan_fraction=0.1)
    bi, bs = brute(docs, queries, allowed)
    check_exact(fi, fs, bi, bs, allowed)
    np.testing.assert_allclose(index.score(queries[0], ids[0][ids[0] >= 0]), scores[0][ids[0] >= 0], rtol=1e-5)


def test_clustered_default_lambda_scales_with_the_corpus(sparse_data):
    docs, queries = sparse_data
    default = sd.ClusteredInvertedIndex.build(docs, threads=2)
    scaled = sd.ClusteredInvertedIndex.build(docs, lambda_=max(32, round(1.3 * np.sqrt(docs.shape[0]))), threads=2)
    other = sd.ClusteredInvertedIndex.build(docs, lambda_=500, threads=2)
    assert default.posting_count == scaled.posting_count != other.posting_count
    assert default.memory_bytes == scaled.memory_bytes
    for got, want in zip(default.search_batch(queries, K), scaled.search_batch(queries, K)):
        np.testing.assert_array_equal(got, want)


def test_clustered_knn_graph(sparse_data):
    docs, queries = sparse_data
    index = sd.ClusteredInvertedIndex.build(docs, lambda_=100, knn=5, threads=2)
    plain = index.search_batch(queries, K, query_cut=5)
    graph = index.search_batch(queries, K, query_cut=5, knn=5)
    bi, _ = brute(docs, queries)
    r = lambda ids: np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])
    assert r(graph[0]) >= r(plain[0]) - 1e-9


@pytest.mark.parametrize("kind", ["inverted", "clustered"])
def test_save_load_round_trip(tmp_path, sparse_data, kind):
    docs, queries = sparse_data
    index = sd.InvertedIndex.build(docs, precision="f16") if kind == "inverted" else sd.ClusteredInvertedIndex.build(docs, lambda_=100, threads=2)
    path = str(tmp_path / "sparse.idx")
    index.save(path)
    loaded = type(index).load(path)
    assert len(loaded) == docs.shape[0] and loaded.dimension == docs.shape[1]
    a, b = index.search_batch(queries, K), loaded.search_batch(queries, K)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_empty_query_and_padding(sparse_data):
    docs, _ = sparse_data
    index = sd.InvertedIndex.build(docs)
    ids, scores = index.search((np.array([], np.int32), np.array([], np.float32)), 4)
    assert list(ids) == [-1] * 4 and np.isneginf(scores).all()


def test_clustered_query_mass(sparse_data):
    """query_mass < 1 visits fewer lists: never more recall than the full cut, and 1.0 is the default."""
    docs, queries = sparse_data
    index = sd.ClusteredInvertedIndex.build(docs, lambda_=200, forward_values="f32", threads=1)
    full = index.search_batch(queries, K, query_cut=20, heap_factor=0.8)
    same = index.search_batch(queries, K, query_cut=20, heap_factor=0.8, query_mass=1.0)
    np.testing.assert_array_equal(full[0], same[0])
    bi, _ = brute(docs, queries)
    recall = lambda ids: np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, bi)])  # noqa: E731
    light = index.search_batch(queries, K, query_cut=20, heap_factor=0.8, query_mass=0.3)
    assert recall(light[0]) <= recall(full[0]) + 1e-9
    assert not np.array_equal(light[0], full[0])
    with pytest.raises(ValueError, match="query_mass"):
        index.search(queries[0], K, query_mass=0.0)


def test_tune_clustered_reaches_target_on_held_out_half():
    r = np.random.default_rng(5)
    # topical documents (each draws its terms around a topic), so a clustered index has structure to exploit
    n, dim, topics = 3000, 2000, 40
    centers = r.integers(0, dim, size=(topics, 60))
    def rows(count):
        out = []
        for _ in range(count):
            t = r.integers(topics)
            ids = np.unique(np.concatenate([r.choice(centers[t], 25), r.integers(0, dim, 5)]))
            out.append((ids, r.exponential(1.0, ids.size).astype(np.float32) + 0.01))
        indptr = np.cumsum([0] + [len(i) for i, _ in out])
        return sp.csr_matrix((np.concatenate([v for _, v in out]), np.concatenate([i for i, _ in out]).astype(np.int32), indptr),
                             shape=(count, dim), dtype=np.float32)
    docs, queries = rows(n), rows(200)
    res = sd.tune_clustered(docs, queries, 0.9, threads=2)
    assert res["reached"] and res["held_out_queries"] == 100 and res["tuning_queries"] == 100
    assert res["held_out_recall"] >= 0.89, res
    # the returned parameters plug into build and search as they are, and give that recall on the held-out-sized set
    index = sd.ClusteredInvertedIndex.build(docs, threads=2, **res["build"])
    ids, _ = index.search_batch(queries, K, **res["search"])
    exact, _ = sd.InvertedIndex.build(docs).search_batch(queries, K)
    recall = np.mean([len(set(a[a >= 0]) & set(b[b >= 0])) / max(1, min(K, (b >= 0).sum())) for a, b in zip(ids, exact)])
    assert recall >= 0.87, recall
    with pytest.raises(ValueError):
        sd.tune_clustered(docs, queries, 1.5)
    with pytest.raises(ValueError, match="query_masses"):
        sd.tune_clustered(docs, queries, 0.9, query_masses=[])
