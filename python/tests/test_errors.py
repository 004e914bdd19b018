"""Every bad input raises a Python exception of a fitting class with the library's message and kind; none crashes,
and the index stays usable afterwards."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import sparsedense as sd


@pytest.fixture(scope="module")
def dense_indexes(dense_data):
    x, _ = dense_data
    return {
        "flat": sd.FlatIndex.build(x, "ip"),
        "ivfpq": sd.IvfPqIndex.build(x, "ip", nlist=16, m=8, threads=2),
        "hnsw": sd.HnswIndex.build(x[:500], "ip", M=8, ef_construction=32, threads=2),
    }


@pytest.fixture(scope="module")
def sparse_indexes(sparse_data):
    docs, _ = sparse_data
    return {"inverted": sd.InvertedIndex.build(docs), "clustered": sd.ClusteredInvertedIndex.build(docs, lambda_=100, threads=2)}


DENSE = ["flat", "ivfpq", "hnsw"]
SPARSE = ["inverted", "clustered"]


def test_error_hierarchy():
    assert issubclass(sd.InvalidArgumentError, ValueError) and issubclass(sd.InvalidDataError, ValueError)
    assert issubclass(sd.OutOfRangeError, IndexError) and issubclass(sd.CorruptFileError, OSError)
    assert all(issubclass(c, sd.Error) for c in (sd.IoError, sd.VersionMismatchError, sd.UnsupportedError, sd.DimensionMismatchError))


@pytest.mark.parametrize("name", DENSE)
def test_dense_bad_queries(dense_indexes, dense_data, name):
    index = dense_indexes[name]
    _, q = dense_data
    cases = [
        (lambda: index.search(q[0], 0), sd.InvalidArgumentError, "k must be > 0"),
        (lambda: index.search(q[0], -3), sd.InvalidArgumentError, "k must be > 0"),
        (lambda: index.search_batch(q, 0), sd.InvalidArgumentError, "k must be > 0"),
        (lambda: index.search(q[0][:5], 3), sd.DimensionMismatchError, "dimension 5"),
        (lambda: index.search(q[:3], 3), sd.DimensionMismatchError, "use search_batch"),
        (lambda: index.search_batch(q[0], 3), sd.DimensionMismatchError, "2-D"),
        (lambda: index.search_batch(q[:, :7], 3), sd.DimensionMismatchError, "dimension 7"),
        (lambda: index.search(np.full(q.shape[1], np.nan, np.float32), 3), sd.InvalidDataError, "not finite"),
        (lambda: index.search(np.where(np.arange(q.shape[1]) == 2, np.inf, 1.0), 3), sd.InvalidDataError, "not finite"),
        (lambda: index.search_batch(np.where(np.arange(q.shape[1]) == 2, np.nan, q[:4]), 3), sd.InvalidDataError, "not finite"),
        (lambda: index.search(np.array(["a"] * q.shape[1]), 3), sd.InvalidArgumentError, "numeric"),
        (lambda: index.search(q[0], 3, filter=np.array([-1, 2])), sd.OutOfRangeError, "negative"),
        (lambda: index.search(q[0], 3, filter=np.ones((2, 2), bool)), sd.DimensionMismatchError, "1-D"),
        (lambda: index.search(q[0], 3, filter=np.array([0.5])), sd.InvalidArgumentError, "mask"),
        (lambda: index.search_batch(q, 3, threads=-1), sd.InvalidArgumentError, "threads"),
        (lambda: index.score(q[0], [10**9]), sd.OutOfRangeError, None),
    ]
    if name == "ivfpq":
        cases.append((lambda: index.search(q[0], 3, nprobe=-1), sd.InvalidArgumentError, "nprobe"))
    if name == "hnsw":
        cases.append((lambda: index.search(q[0], 3, ef=-1), sd.InvalidArgumentError, "ef"))
    for call, cls, text in cases:
        with pytest.raises(cls, match=text) as info:
            call()
        assert info.value.kind and str(info.value).startswith("sparsedense: ")
    np.testing.assert_array_equal(index.search(q[0], 3)[0], index.search_batch(q[:1], 3)[0][0])  # still usable


@pytest.mark.parametrize("name", SPARSE)
def test_sparse_bad_queries(sparse_indexes, sparse_data, name):
    index = sparse_indexes[name]
    docs, queries = sparse_data
    unsorted = sp.csr_matrix((np.array([1.0, 2.0], np.float32), np.array([5, 3], np.int32), np.array([0, 2])), shape=(1, docs.shape[1]))
    dup = (np.array([3, 3], np.int32), np.array([1.0, 1.0], np.float32))
    cases = [
        (lambda: index.search(queries[0], 0), sd.InvalidArgumentError, "k must be > 0"),
        (lambda: index.search((np.array([2, 1], np.int32), np.array([1, 1], np.float32)), 3), sd.InvalidDataError, "increasing"),
        (lambda: index.search(unsorted, 3), sd.InvalidDataError, "increasing"),
        (lambda: index.search_batch(sp.vstack([queries[:2], unsorted]).tocsr(), 3), sd.InvalidDataError, "row 2"),
        (lambda: index.search(dup, 3), sd.InvalidDataError, "duplicate"),
        (lambda: index.search((np.array([1], np.int32), np.array([np.nan], np.float32)), 3), sd.InvalidDataError, "not finite"),
        (lambda: index.search((np.array([-1], np.int32), np.array([1.0], np.float32)), 3), sd.Error, None),
        (lambda: index.search((np.array([-1], np.int64), np.array([1.0], np.float32)), 3), sd.OutOfRangeError, "2\\^32"),
        (lambda: index.search((np.array([1, 2], np.int32), np.array([1.0], np.float32)), 3), sd.DimensionMismatchError, None),
        (lambda: index.search((np.array([1.5]), np.array([1.0])), 3), sd.InvalidArgumentError, "integers"),
        (lambda: index.search(queries[:2], 3), sd.DimensionMismatchError, "one row"),
        (lambda: index.search(np.zeros(5), 3), sd.InvalidArgumentError, "indices, values"),
        (lambda: index.search_batch(np.zeros((2, 5)), 3), sd.InvalidArgumentError, "scipy.sparse"),
    ]
    if name == "inverted":
        cases.append((lambda: index.search(queries[0], 3, algorithm="fast"), sd.InvalidArgumentError, "algorithm"))
    else:
        cases.append((lambda: index.search(queries[0], 3, traversal="sideways"), sd.InvalidArgumentError, "traversal"))
        cases.append((lambda: index.search(queries[0], 3, query_cut=-2), sd.InvalidArgumentError, "query_cut"))
    for call, cls, text in cases:
        with pytest.raises(cls, match=text):
            call()
    assert index.search(queries[0], 3)[0][0] >= 0  # still usable


def test_bad_builds(dense_data, sparse_data):
    x, _ = dense_data
    docs, _ = sparse_data
    with pytest.raises(sd.InvalidDataError, match="not finite"):
        sd.FlatIndex.build(np.where(np.arange(x.shape[1]) == 1, np.nan, x[:10]))
    with pytest.raises(sd.InvalidArgumentError, match="metric"):
        sd.FlatIndex.build(x, "manhattan")
    with pytest.raises(sd.InvalidArgumentError):
        sd.IvfPqIndex.build(x[:10], nlist=64, m=8)  # fewer rows than lists
    with pytest.raises(sd.Error):
        sd.IvfPqIndex.build(x, nlist=16, m=0)
    with pytest.raises(sd.DimensionMismatchError):
        sd.IvfPqIndex.build(x, nlist=16, m=8, ids=np.arange(5))
    with pytest.raises(sd.InvalidArgumentError, match="precision"):
        sd.InvertedIndex.build(docs, precision="f8")
    with pytest.raises(sd.InvalidArgumentError, match="lambda_"):
        sd.ClusteredInvertedIndex.build(docs, lambda_=-1)
    bad = docs.copy()
    bad.data[3] = np.inf
    with pytest.raises(sd.InvalidDataError, match="not finite"):
        sd.InvertedIndex.build(bad)
    with pytest.raises(sd.InvalidArgumentError):
        sd.HnswIndex.build(x, M=1)


@pytest.mark.parametrize("cls", [sd.FlatIndex, sd.IvfPqIndex, sd.HnswIndex, sd.InvertedIndex, sd.ClusteredInvertedIndex])
def test_bad_files(tmp_path, cls, dense_indexes, sparse_indexes):
    with pytest.raises(sd.IoError, match="cannot open"):
        cls.load(str(tmp_path / "missing.idx"))
    junk = tmp_path / "junk.idx"
    junk.write_bytes(b"\0" * 4096)
    with pytest.raises((sd.CorruptFileError, sd.VersionMismatchError)):
        cls.load(str(junk))
    # a real file of this class, truncated and with flipped bytes
    index = {sd.FlatIndex: dense_indexes["flat"], sd.IvfPqIndex: dense_indexes["ivfpq"], sd.HnswIndex: dense_indexes["hnsw"],
             sd.InvertedIndex: sparse_indexes["inverted"], sd.ClusteredInvertedIndex: sparse_indexes["clustered"]}[cls]
    good = tmp_path / "good.idx"
    index.save(str(good))
    data = good.read_bytes()
    (tmp_path / "short.idx").write_bytes(data[: len(data) // 2])
    with pytest.raises(sd.CorruptFileError):
        cls.load(str(tmp_path / "short.idx"))
    flipped = bytearray(data)
    for pos in range(len(flipped) // 3, len(flipped), max(1, len(flipped) // 7)):
        flipped[pos] ^= 0x5A
    (tmp_path / "flip.idx").write_bytes(bytes(flipped))
    with pytest.raises(sd.CorruptFileError):
        cls.load(str(tmp_path / "flip.idx"))
    # another class's file
    other = sd.FlatIndex if cls is not sd.FlatIndex else sd.InvertedIndex
    with pytest.raises(sd.Error, match="expected a"):
        other.load(str(good))


def test_unwritable_save(dense_indexes):
    with pytest.raises(sd.IoError):
        dense_indexes["flat"].save("/nonexistent-dir/x.idx")
