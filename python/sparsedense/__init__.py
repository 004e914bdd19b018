"""sparsedense: first-stage retrieval from Python at C++ speed.

Learned-sparse indexes (InvertedIndex, ClusteredInvertedIndex), dense indexes (FlatIndex, IvfPqIndex, HnswIndex),
hybrid search (HybridSearcher, Fusion, fuse), BM25 from text (Bm25Encoder, Analyzer), BEIR / TREC files and
trec_eval-convention metrics. Inputs are numpy float32 arrays and scipy.sparse CSR matrices (used without copying
when their dtype and layout fit); results are two numpy arrays, ids (int64) and scores (float32), padded with
-1 / -inf. Search and build release the GIL. See docs/python.md.
"""
from __future__ import annotations

from ._errors import (
    CorruptFileError,
    DimensionMismatchError,
    Error,
    InvalidArgumentError,
    InvalidDataError,
    IoError,
    OutOfRangeError,
    UnsupportedError,
    VersionMismatchError,
    _classes_by_kind,
)
from . import _core

_core._set_error_classes(_classes_by_kind())

from ._core import (  # noqa: E402
    Analyzer,
    BeirCollection,
    BeirDocument,
    BeirQuery,
    Bm25Encoder,
    ClusteredInvertedIndex,
    FlatIndex,
    Fusion,
    HnswIndex,
    HybridSearcher,
    IdSet,
    InvertedIndex,
    IvfPqIndex,
    evaluate,
    fuse,
    read_beir_collection,
    read_beir_corpus,
    read_beir_qrels,
    read_beir_queries,
    read_trec_qrels,
    read_trec_run,
    simd_level,
    to_run,
    tune_clustered,
    write_beir_corpus,
    write_beir_qrels,
    write_beir_queries,
    write_trec_qrels,
    write_trec_run,
)
from ._io import read_fvecs, read_csr  # noqa: E402

__version__ = _core.__version__


def ndcg_at_k(qrels, run, k: int = 10) -> float:
    """Mean nDCG@k (trec_eval's ndcg_cut: linear gain) over the judged queries."""
    return evaluate(qrels, run, "ndcg", k)


def recall_at_k(qrels, run, k: int = 100) -> float:
    """Mean Recall@k over the judged queries."""
    return evaluate(qrels, run, "recall", k)


def mrr_at_k(qrels, run, k: int = 10) -> float:
    """Mean reciprocal rank of the first relevant document within the top k."""
    return evaluate(qrels, run, "mrr", k)


def mean_average_precision(qrels, run) -> float:
    """MAP over the judged queries (trec_eval's map)."""
    return evaluate(qrels, run, "map")


__all__ = [
    "Analyzer", "BeirCollection", "BeirDocument", "BeirQuery", "Bm25Encoder", "ClusteredInvertedIndex", "CorruptFileError",
    "DimensionMismatchError", "Error", "FlatIndex", "Fusion", "HnswIndex", "HybridSearcher", "IdSet", "InvalidArgumentError",
    "InvalidDataError", "InvertedIndex", "IoError", "IvfPqIndex", "OutOfRangeError", "UnsupportedError", "VersionMismatchError",
    "evaluate", "fuse", "mean_average_precision", "mrr_at_k", "ndcg_at_k", "read_beir_collection", "read_beir_corpus",
    "read_beir_qrels", "read_beir_queries", "read_csr", "read_fvecs", "read_trec_qrels", "read_trec_run", "recall_at_k",
    "simd_level", "to_run", "tune_clustered", "write_beir_corpus", "write_beir_qrels", "write_beir_queries", "write_trec_qrels", "write_trec_run",
]
