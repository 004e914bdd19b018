"""
sparsedense's C++ core (nanobind). Use the package `sparsedense`, which re-exports it with docs and stubs.
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, overload

import numpy
from numpy.typing import NDArray

from collections.abc import Callable
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


def simd_level() -> str:
    """
    The SIMD level the kernels dispatch to on this CPU (chosen at run time).
    """

class IdSet:
    """
    A reusable filter: the set of allowed ids as a bitset. Build it once from a boolean mask or an array of ids and pass it as `filter=` to many searches (a mask or id array given directly is converted per call).
    """

    def __init__(self, ids_or_mask: ArrayLike) -> None:
        """
        IdSet(ids_or_mask): a numpy bool mask (mask[i] allows id i) or an integer array of allowed ids.
        """

    def __len__(self) -> int:
        """Number of allowed ids."""

    def __contains__(self, arg: int, /) -> bool: ...

    @property
    def capacity(self) -> int:
        """Ids below this are represented (larger ones are rejected)."""

class InvertedIndex:
    """
    Exact inverted index over learned-sparse vectors (SPLADE, BM25 impact vectors): inner-product top-k, exact, with TAAT / DAAT / MaxScore / Block-Max WAND query processing.
    """

    @staticmethod
    def build(docs: SparseMatrix, *, precision: str = 'f32', block_size: int = 64, threads: int = 0, progress: ProgressLike | None = None) -> InvertedIndex:
        """
        Builds the index from a scipy.sparse CSR matrix (rows = documents, ids 0..n-1; int32 indices and float32 data are used without copying, other dtypes converted once).

        precision: posting weights 'f32' (exact), 'f16' or 'u8' (smaller, bounded score error).
        block_size: postings per block-max block (Block-Max WAND skip granularity).
        threads: build workers, 0 = every core.
        progress: None, True (tqdm bars when tqdm is installed) or a callable(stage, done, total); an exception it raises cancels the build.
        """

    def search(self, query: SparseQuery, k: int = 10, *, algorithm: str = 'automatic', exact_scan_fraction: float = 0.02, filter: FilterLike | None = None) -> Results:
        """
        Top-k documents of one query, best first.

        query: (indices, values) arrays (int32 term ids strictly increasing, float32 weights) or a one-row scipy.sparse matrix.
        filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.
        Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k documents match.

        algorithm: 'automatic' (= term_at_a_time, the fastest measured), 'maxscore', 'block_max_wand', 'term_at_a_time', 'document_at_a_time' -- all exact.
        exact_scan_fraction: with a filter accepting at most this fraction of the documents, the accepted ones are scored directly (both plans exact).
        """

    def search_batch(self, queries: SparseMatrix, k: int = 10, *, algorithm: str = 'automatic', exact_scan_fraction: float = 0.02, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Top-k documents of every row of `queries` (a scipy.sparse CSR matrix), in query order, on `threads` threads (0 = every core; results do not depend on it).
        Returns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.
        """

    @property
    def nnz(self) -> int:
        """Number of postings."""

    def __len__(self) -> int:
        """Number of documents."""

    @property
    def size(self) -> int:
        """Number of documents."""

    @property
    def dimension(self) -> int:
        """Vector dimension (sparse: vocabulary size)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the index."""

    def save(self, path: str) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str) -> InvertedIndex:
        """
        Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, truncated or foreign file raises sparsedense.CorruptFileError (an OSError).
        """

    def score(self, query: SparseQuery, ids: ArrayLike) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
        """
        Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).
        """

    def __repr__(self) -> str: ...

class ClusteredInvertedIndex:
    """
    Approximate inverted index over learned-sparse vectors in the manner of Seismic (Bruch et al., SIGIR 2024): pruned posting lists, clustered into blocks with summaries, optionally a k-NN graph (SeismicWave).
    """

    @staticmethod
    def build(docs: SparseMatrix, *, lambda_: int = 0, pruning: str = 'fixed_size', max_fraction: float = 1.5, centroid_fraction: float = 0.3, alpha: float = 0.5, summary_max_terms: int = 0, min_cluster_size: int = 2, doc_cut: int = 15, forward_values: str = 'f16', knn: int = 0, threads: int = 0, seed: int = 42, progress: ProgressLike | None = None) -> ClusteredInvertedIndex:
        """
        Builds the index from a scipy.sparse CSR matrix (rows = documents, ids 0..n-1).

        lambda_: postings kept per list ('fixed_size') or on average ('global_threshold') -- C++ `lambda`; 0 = 1.3 sqrt(len(docs)),
        at least 32 (C++ default_lambda: about 280 for 46k documents, 1,300 for 1M).
        pruning: 'fixed_size' or 'global_threshold' (per-list cap lambda_ x max_fraction).
        centroid_fraction: blocks per list = centroid_fraction x list length.
        alpha: a block summary keeps the largest coordinates holding alpha of its L1 mass (at most summary_max_terms, 0 = no cap).
        min_cluster_size: smaller clusters are merged into the others. doc_cut: heaviest document terms used to pick a centroid.
        forward_values: forward index precision 'f32', 'f16' or 'u8'.
        knn: neighbours per document in the k-NN graph (0 = no graph).
        threads: build workers, 0 = every core. seed: centroid sampling.
        progress: None, True (tqdm) or a callable(stage, done, total); an exception it raises cancels the build.
        """

    def search(self, query: SparseQuery, k: int = 10, *, query_cut: int = 8, heap_factor: float = 0.8, knn: int = 0, traversal: str = 'best_first', exact_scan_fraction: float = 0.02, query_mass: float = 1.0, filter: FilterLike | None = None) -> Results:
        """
        Top-k documents of one query, best first.

        query: (indices, values) arrays (int32 term ids strictly increasing, float32 weights) or a one-row scipy.sparse matrix.
        filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.
        Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k documents match.

        query_cut: query terms (largest weights) whose lists are visited.
        heap_factor: open a block when its summary score >= heap_factor x the k-th best (smaller = more recall, slower).
        knn: graph neighbours of each hit to score (needs knn > 0 at build).
        traversal: 'best_first', 'list_by_list' (Seismic's order) or 'first_list_sorted'.
        exact_scan_fraction: with a filter accepting at most this fraction, the accepted documents are scored exactly.
        query_mass: of the query_cut heaviest terms, visit only the heaviest holding this share of the query's weight (1 = all query_cut; see tune_clustered()).
        """

    def search_batch(self, queries: SparseMatrix, k: int = 10, *, query_cut: int = 8, heap_factor: float = 0.8, knn: int = 0, traversal: str = 'best_first', exact_scan_fraction: float = 0.02, query_mass: float = 1.0, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Top-k documents of every row of `queries` (a scipy.sparse CSR matrix), in query order, on `threads` threads (0 = every core; results do not depend on it).
        Returns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.
        """

    @property
    def posting_count(self) -> int:
        """Postings kept after pruning."""

    @property
    def block_count(self) -> int:
        """Blocks (clusters) over all lists."""

    def __len__(self) -> int:
        """Number of documents."""

    @property
    def size(self) -> int:
        """Number of documents."""

    @property
    def dimension(self) -> int:
        """Vector dimension (sparse: vocabulary size)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the index."""

    def save(self, path: str) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str) -> ClusteredInvertedIndex:
        """
        Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, truncated or foreign file raises sparsedense.CorruptFileError (an OSError).
        """

    def score(self, query: SparseQuery, ids: ArrayLike) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
        """
        Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).
        """

    def __repr__(self) -> str: ...

def tune_clustered(docs: SparseMatrix, queries: SparseMatrix, target: float, *, k: int = 10, query_masses: Sequence[float] | None = None, corpus_size: int = 0, threads: int = 0, seed: int = 7) -> dict:
    """
    Parameters of ClusteredInvertedIndex for a target recall@k, chosen on half of `queries` and measured on the other half (C++ sparsedense::tune, sparse/clustered_tuning.hpp).

    docs, queries: scipy.sparse CSR matrices (a sample of your corpus and of your queries). target: recall@k to reach.
    query_masses: the query-mass values of the grid (1.0 = a fixed query_cut; None = tune()'s [1.0, 0.5]). corpus_size: the full corpus size when `docs` is a sample (lambda_ is scaled by sqrt(corpus_size / len(docs))).
    Returns a dict: 'build' ({'lambda_': ...} for ClusteredInvertedIndex.build), 'search' (keyword arguments for search / search_batch), 'reached', 'tuning_recall', 'held_out_recall', 'cost_ns' (modelled cost per query), 'tuning_queries', 'held_out_queries'.
    """

class FlatIndex:
    """
    Exact (brute-force) dense index: every stored vector scored with SIMD kernels chosen at run time.
    """

    @staticmethod
    def build(data: ArrayLike, metric: str = 'ip', *, storage: str = 'f32') -> FlatIndex:
        """
        An index over the rows of `data` ((n, d) float32; ids 0..n-1).

        metric: 'ip' (inner product), 'cosine' or 'l2' (scores are negated squared distances).
        storage: 'f32' (exact), 'f16', 'bf16', 'int8', 'int8-dim' or 'int4' (fewer bytes read, larger score error).
        """

    def add(self, data: ArrayLike) -> None:
        """Appends the rows of `data` (ids continue from len(index))."""

    @property
    def metric(self) -> str: ...

    def search(self, query: ArrayLike, k: int = 10, *, exact_scan_fraction: float = 0.05, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of one query, best first (scores: inner product, cosine similarity or negated squared L2).

        query: a 1-D float32 array (other dtypes / layouts are converted once).
        filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.
        Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k vectors match.

        exact_scan_fraction: plan choice under a filter only (both plans exact).
        """

    def search_batch(self, queries: ArrayLike, k: int = 10, *, exact_scan_fraction: float = 0.05, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of every row of `queries` ((nq, d) float32, C-contiguous: used without copying), in query order, on `threads` threads (0 = every core; results do not depend on it).
        Returns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.
        """

    def __len__(self) -> int:
        """Number of documents."""

    @property
    def size(self) -> int:
        """Number of documents."""

    @property
    def dimension(self) -> int:
        """Vector dimension (sparse: vocabulary size)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the index."""

    def save(self, path: str) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str) -> FlatIndex:
        """
        Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, truncated or foreign file raises sparsedense.CorruptFileError (an OSError).
        """

    def score(self, query: ArrayLike, ids: ArrayLike) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
        """
        Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).
        """

    def __repr__(self) -> str: ...

class IvfPqIndex:
    """
    Inverted-file index with product quantization (FAISS's IVF-PQ; 4-bit fast-scan or 8-bit codes) and exact re-ranking from kept vectors. Ids are u32: 0..n-1, or the caller's.
    """

    @staticmethod
    def build(data: ArrayLike, metric: str = 'ip', *, ids: ArrayLike = None, nlist: int = 1024, m: int = 32, nbits: int = 4, by_residual: bool = True, keep_vectors: bool = True, refine_encoding: str = 'f16', coarse_iterations: int = 10, coarse_points_per_centroid: int = 64, pq_iterations: int = 20, pq_training_points: int = 65536, seed: int = 2024, threads: int = 0, progress: ProgressLike | None = None) -> IvfPqIndex:
        """
        Trains on the rows of `data` ((n, d) float32, n >= nlist) and adds them (ids 0..n-1, or `ids`).

        metric: 'ip' (inner product), 'cosine' or 'l2' (scores are negated squared distances).
        nlist: coarse clusters. m: PQ sub-quantizers (d % m == 0). nbits: 4 (fast-scan) or 8 (float-LUT ADC).
        by_residual: encode x - centroid. keep_vectors: keep vectors (refine_encoding 'f32', 'f16', 'bf16', 'int8') for exact re-ranking.
        coarse_iterations, coarse_points_per_centroid, pq_iterations, pq_training_points: training.
        threads: 0 = every core. progress: None, True (tqdm) or a callable(stage, done, total).
        """

    def add(self, data: ArrayLike, ids: ArrayLike = None) -> None:
        """
        Adds vectors (automatic ids continue the count; an index built with ids needs ids).
        """

    def remove(self, ids: ArrayLike) -> int:
        """
        Removes these ids (unknown ids are ignored); returns how many were removed.
        """

    @property
    def metric(self) -> str: ...

    @property
    def nlist(self) -> int: ...

    def search(self, query: ArrayLike, k: int = 10, *, nprobe: int = 16, refine_factor: int = 4, exact_scan_fraction: float = 0.01, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of one query, best first (scores: inner product, cosine similarity or negated squared L2).

        query: a 1-D float32 array (other dtypes / layouts are converted once).
        filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.
        Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k vectors match.

        nprobe: lists scanned. refine_factor: re-rank the best k x refine_factor PQ candidates exactly (0 = none).
        exact_scan_fraction: a filter accepting at most this fraction is answered by an exact scan of the accepted ids.
        """

    def search_batch(self, queries: ArrayLike, k: int = 10, *, nprobe: int = 16, refine_factor: int = 4, exact_scan_fraction: float = 0.01, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of every row of `queries` ((nq, d) float32, C-contiguous: used without copying), in query order, on `threads` threads (0 = every core; results do not depend on it).
        Returns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.
        """

    def __len__(self) -> int:
        """Number of documents."""

    @property
    def size(self) -> int:
        """Number of documents."""

    @property
    def dimension(self) -> int:
        """Vector dimension (sparse: vocabulary size)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the index."""

    def save(self, path: str) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str) -> IvfPqIndex:
        """
        Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, truncated or foreign file raises sparsedense.CorruptFileError (an OSError).
        """

    def score(self, query: ArrayLike, ids: ArrayLike) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
        """
        Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).
        """

    def __repr__(self) -> str: ...

class HnswIndex:
    """
    HNSW graph index (Malkov & Yashunin) with f32 / f16 / bf16 / int8 / int4 payloads, filters, remove and slot reuse.
    """

    @staticmethod
    def build(data: ArrayLike, metric: str = 'ip', *, M: int = 16, ef_construction: int = 200, storage: str = 'f32', keep_f32: bool = True, rerank_storage: str = 'f32', threads: int = 0, seed: int = 42, progress: ProgressLike | None = None) -> HnswIndex:
        """
        A graph over the rows of `data` ((n, d) float32; ids 0..n-1).

        metric: 'ip' (inner product), 'cosine' or 'l2' (scores are negated squared distances).
        M: links per node on the upper layers (2M on layer 0). ef_construction: candidates kept while inserting.
        storage: payload the walk scores ('f32', 'f16', 'bf16', 'int8', 'int8-dim', 'int4': search with rerank=64); keep_f32: also keep a copy for exact re-ranking, in rerank_storage ('f32', or 'f16' / 'bf16': int8 + f16 uses less memory than f32 at nearly the same recall).
        threads: insertion threads (0 = every core; 1 = deterministic). seed: node levels.
        progress: None, True (tqdm) or a callable(stage, done, total).
        """

    def add(self, data: ArrayLike) -> list[int]:
        """Adds vectors; returns their ids (deleted slots are reused first)."""

    def remove(self, id: int) -> bool:
        """
        Marks `id` deleted (never returned again); returns False when it already was.
        """

    @property
    def metric(self) -> str: ...

    def search(self, query: ArrayLike, k: int = 10, *, ef: int = 64, exact_scan_fraction: float = 0.02, rerank: int | None = 32, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of one query, best first (scores: inner product, cosine similarity or negated squared L2).

        query: a 1-D float32 array (other dtypes / layouts are converted once).
        filter: None, a numpy bool mask over ids, an array of allowed ids, or an IdSet.
        Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf when fewer than k vectors match.

        ef: closest nodes kept by the layer-0 search (at least k).
        exact_scan_fraction: a filter accepting at most this fraction is answered by an exact scan.
        rerank: with a reduced payload, candidates re-scored exactly (None = all ef).
        """

    def search_batch(self, queries: ArrayLike, k: int = 10, *, ef: int = 64, exact_scan_fraction: float = 0.02, rerank: int | None = 32, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Top-k vectors of every row of `queries` ((nq, d) float32, C-contiguous: used without copying), in query order, on `threads` threads (0 = every core; results do not depend on it).
        Returns (ids int64 (nq, k), scores float32 (nq, k)), padded with -1 / -inf.
        """

    def __len__(self) -> int:
        """Number of documents."""

    @property
    def size(self) -> int:
        """Number of documents."""

    @property
    def dimension(self) -> int:
        """Vector dimension (sparse: vocabulary size)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the index."""

    def save(self, path: str) -> None:
        """Writes the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str) -> HnswIndex:
        """
        Maps a file written by save(): validated (checksums, bounds), memory-mapped without copying. A corrupt, truncated or foreign file raises sparsedense.CorruptFileError (an OSError).
        """

    def score(self, query: ArrayLike, ids: ArrayLike) -> Annotated[NDArray[numpy.float32], dict(shape=(None,))]:
        """
        Exact scores of the given document ids for one query (the query is prepared once: the C++ prepare()).
        """

    def __repr__(self) -> str: ...

class Fusion:
    """
    How a sparse and a dense candidate list are fused: a convex combination of per-list normalized scores (Bruch, Gai & Ingber, TOIS 2023) or reciprocal rank fusion (Cormack et al., SIGIR 2009). Build with Fusion.convex(...) or Fusion.rrf(...).
    """

    @staticmethod
    def convex(alpha: float = 0.5, normalization: str = 'min_max', missing: str = 'automatic') -> Fusion:
        """
        fused = alpha x N(sparse) + (1 - alpha) x N(dense).

        normalization: 'min_max', 'z_score' (population sigma), 'dbsf' (Qdrant: (s - (mu - 3 sigma)) / 6 sigma, sample sigma), 'centered_min_max' (Pyserini) or 'none'.
        missing: the score a document gets on the side that did not retrieve it: 'exact' (the other index scores it), 'list_minimum' (Pyserini), 'zero' (ranx / normalized 0), 'automatic' (exact when the searcher can score, else list_minimum).
        """

    @staticmethod
    def rrf(k: float = 60.0, sparse_weight: float = 1.0, dense_weight: float = 1.0) -> Fusion:
        """
        Weighted reciprocal rank fusion: sum over lists of weight / (k + rank), ranks from 1.
        """

    @property
    def method(self) -> str: ...

    @property
    def alpha(self) -> float: ...

    @property
    def normalization(self) -> str: ...

    @property
    def missing(self) -> str: ...

    @property
    def rrf_k(self) -> float: ...

    @property
    def sparse_weight(self) -> float: ...

    @property
    def dense_weight(self) -> float: ...

    def __repr__(self) -> str: ...

def fuse(sparse_ids: ArrayLike, sparse_scores: ArrayLike, dense_ids: ArrayLike, dense_scores: ArrayLike, k: int = 10, fusion: Fusion = ...) -> Results:
    """
    Fuses two result lists per query (arrays (nq, k0) as returned by search_batch, -1 padding ignored) without exact re-scoring: 'automatic' missing scores mean 'list_minimum'. Returns (ids (nq, k), scores (nq, k)).
    """

class HybridSearcher:
    """
    Searches a sparse index and a dense index over the same documents (ids 0..n-1 on both) and fuses the two candidate lists. Documents found by one side only get their exact score on the other side from that index's stored data (convex fusion, missing='automatic' or 'exact').
    """

    def __init__(self, sparse: InvertedIndex | ClusteredInvertedIndex, dense: FlatIndex | IvfPqIndex | HnswIndex, *, k0_sparse: int = 100, k0_dense: int = 100, fusion: Fusion = ..., sparse_params: dict[str, Any] | None = None, dense_params: dict[str, Any] | None = None) -> None:
        """
        sparse: InvertedIndex or ClusteredInvertedIndex; dense: FlatIndex, IvfPqIndex or HnswIndex (same documents).
        k0_sparse / k0_dense: candidate depth of each side (0 = the final k).
        fusion: a Fusion (default: convex, min_max, alpha 0.5, exact missing scores).
        sparse_params / dense_params: dicts of that index's search keywords, e.g. {'query_cut': 12} / {'nprobe': 32}. Each can be overridden per call.
        """

    def search(self, sparse_query: SparseQuery, dense_query: ArrayLike, k: int = 10, *, fusion: Fusion | None = None, k0_sparse: int | None = None, k0_dense: int | None = None, sparse_params: dict[str, Any] | None = None, dense_params: dict[str, Any] | None = None, filter: FilterLike | None = None) -> Results:
        """
        Fused top-k of one query pair (sparse: (indices, values) or a one-row CSR; dense: 1-D float32). Keywords left None take the searcher's defaults. Returns (ids int64 (k,), scores float32 (k,)), padded with -1 / -inf.
        """

    def search_batch(self, sparse_queries: SparseMatrix, dense_queries: ArrayLike, k: int = 10, *, fusion: Fusion | None = None, k0_sparse: int | None = None, k0_dense: int | None = None, sparse_params: dict[str, Any] | None = None, dense_params: dict[str, Any] | None = None, threads: int = 0, filter: FilterLike | None = None) -> Results:
        """
        Fused top-k of every query pair (row i of the CSR with row i of the (nq, d) array), in order, on `threads` threads (0 = every core). Returns (ids (nq, k), scores (nq, k)).
        """

    @property
    def sparse(self) -> object: ...

    @property
    def dense(self) -> object: ...

    @property
    def fusion(self) -> Fusion: ...

class Analyzer:
    """
    The text pipeline of BM25: tokenize (lowercase, ASCII folding, split on non-alphanumerics), drop Lucene's 33 English stop words, Porter-stem -- as behind Anserini/Pyserini's English BM25.
    """

    def __init__(self, *, stem: bool = True, remove_stop_words: bool = True, lowercase: bool = True, fold_accents: bool = True) -> None: ...

    def analyze(self, text: str) -> list[str]:
        """The indexable terms of `text`, in order (repeats included)."""

class Bm25Encoder:
    """
    BM25 from text: add every document (ids 0, 1, ... in order), then document_vectors() gives BM25 impact vectors whose inner product with encode_query() is the BM25 score (k1, b as Anserini's BEIR setting). Index them with InvertedIndex for exact BM25 top-k.
    """

    def __init__(self, *, k1: float = 0.9, b: float = 0.4, stem: bool = True, remove_stop_words: bool = True, lowercase: bool = True, fold_accents: bool = True) -> None:
        """
        k1: term-frequency saturation (>= 0). b: length normalization in [0, 1]. The analyzer switches as Analyzer's.
        """

    def add_document(self, text: str) -> int:
        """Adds one document; returns its id."""

    def add_documents(self, texts: Sequence[str]) -> None:
        """Adds documents in order (ids continue from num_documents)."""

    def document_vectors(self) -> object:
        """
        BM25 impact vectors of every added document: scipy.sparse.csr_matrix (n, vocabulary size), float32, int32 indices.
        """

    def encode_query(self, text: str) -> Results:
        """
        Query vector (indices int32, values float32): known terms weighted by their count.
        """

    def encode_queries(self, texts: Sequence[str]) -> object:
        """
        Query vectors of every text as a scipy.sparse.csr_matrix (len(texts), vocabulary size).
        """

    @property
    def num_documents(self) -> int: ...

    @property
    def dimension(self) -> int:
        """Vocabulary size."""

    @property
    def average_length(self) -> float: ...

    @property
    def vocabulary(self) -> list[str]:
        """Terms by id."""

    def term_id(self, term: str) -> int | None:
        """The id of an (analyzed) term, or None."""

    def idf(self, term_id: int) -> float: ...

    def analyze(self, text: str) -> list[str]: ...

class BeirDocument:
    """One corpus.jsonl record."""

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, id: str, title: str = '', text: str = '') -> None: ...

    @property
    def id(self) -> str: ...

    @id.setter
    def id(self, arg: str, /) -> None: ...

    @property
    def title(self) -> str: ...

    @title.setter
    def title(self, arg: str, /) -> None: ...

    @property
    def text(self) -> str: ...

    @text.setter
    def text(self, arg: str, /) -> None: ...

    def __eq__(self, arg: BeirDocument, /) -> bool: ...

    def __repr__(self) -> str: ...

class BeirQuery:
    """One queries.jsonl record."""

    @overload
    def __init__(self) -> None: ...

    @overload
    def __init__(self, id: str, text: str = '') -> None: ...

    @property
    def id(self) -> str: ...

    @id.setter
    def id(self, arg: str, /) -> None: ...

    @property
    def text(self) -> str: ...

    @text.setter
    def text(self, arg: str, /) -> None: ...

    def __eq__(self, arg: BeirQuery, /) -> bool: ...

    def __repr__(self) -> str: ...

class BeirCollection:
    """A BEIR folder in memory: corpus, queries, qrels."""

    @property
    def corpus(self) -> list[BeirDocument]: ...

    @property
    def queries(self) -> list[BeirQuery]: ...

    @property
    def qrels(self) -> dict[str, dict[str, int]]: ...

def read_beir_corpus(path: str) -> list[BeirDocument]:
    """
    corpus.jsonl -> list[BeirDocument] (missing title = ''; bad JSON or a repeated id raises InvalidDataError naming path:line).
    """

def read_beir_queries(path: str) -> list[BeirQuery]:
    """queries.jsonl -> list[BeirQuery]."""

def read_beir_qrels(path: str) -> dict[str, dict[str, int]]:
    """
    BEIR qrels .tsv (header, then query-id corpus-id score) -> {query_id: {doc_id: grade}}.
    """

def write_beir_corpus(path: str, docs: Sequence[BeirDocument]) -> None: ...

def write_beir_queries(path: str, queries: Sequence[BeirQuery]) -> None: ...

def write_beir_qrels(path: str, qrels: Mapping[str, Mapping[str, int]]) -> None: ...

def read_beir_collection(dir: str, only_judged_queries: bool = True, qrels_path: str = '') -> BeirCollection:
    """
    Reads DIR/corpus.jsonl, DIR/queries.jsonl and DIR/qrels.tsv (else DIR/qrels/test.tsv, or qrels_path); with only_judged_queries, queries without judgments are dropped (the BEIR test-split convention).
    """

def read_trec_qrels(path: str) -> dict[str, dict[str, int]]:
    """TREC qrels ('qid iter docid grade') -> {query_id: {doc_id: grade}}."""

def write_trec_qrels(path: str, qrels: Mapping[str, Mapping[str, int]]) -> None: ...

def read_trec_run(path: str) -> dict[str, dict[str, float]]:
    """
    TREC run ('qid Q0 docid rank score tag') -> {query_id: {doc_id: score}}.
    """

def write_trec_run(path: str, run: Mapping[str, Mapping[str, float]], tag: str = 'sparsedense') -> None:
    """
    Writes {query_id: {doc_id: score}} as a TREC run, each query's documents by score descending (ties: doc id descending).
    """

def evaluate(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]], measure: str = 'ndcg', k: int = 10, per_query: bool = False) -> object:
    """
    Mean of a measure over the judged queries (>= 1 relevant document; a judged query missing from the run scores 0), trec_eval conventions: 'ndcg' (@k, linear gain), 'recall' (@k), 'mrr' (@k), 'map' (k ignored). Relevant = grade >= 1. per_query=True returns {query_id: value}.
    """

def to_run(ids: ArrayLike, scores: ArrayLike, query_ids: Sequence[str], doc_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """
    Search results (ids (nq, k), scores (nq, k); -1 padding skipped) as a run {query_id: {doc_id: score}} through the external id tables.
    """
