"""Build progress: a callable(stage, done, total) sees every stage counted up to its total, in order, from whichever
build thread crossed a step (called with the GIL held); an exception it raises cancels the build and propagates;
progress=True draws tqdm bars."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import sparsedense as sd


def builders(dense_data, sparse_data):
    x, _ = dense_data
    docs, _ = sparse_data
    return {
        "inverted": lambda **kw: sd.InvertedIndex.build(docs, threads=2, **kw),
        "clustered": lambda **kw: sd.ClusteredInvertedIndex.build(docs, lambda_=100, threads=2, **kw),
        "ivfpq": lambda **kw: sd.IvfPqIndex.build(x, "ip", nlist=16, m=8, threads=2, **kw),
        "hnsw": lambda **kw: sd.HnswIndex.build(x[:800], "ip", M=8, ef_construction=32, threads=2, **kw),
    }


KINDS = ["inverted", "clustered", "ivfpq", "hnsw"]


@pytest.mark.parametrize("kind", KINDS)
def test_events_count_each_stage_to_its_total(dense_data, sparse_data, kind):
    events = []
    lock_free = []

    def progress(stage, done, total):
        assert isinstance(stage, str) and 0 <= done <= total
        lock_free.append(threading.get_ident())
        events.append((stage, done, total))

    index = builders(dense_data, sparse_data)[kind](progress=progress)
    assert len(index) > 0
    assert events, "no progress reported"
    stages = []
    for stage, done, total in events:
        if not stages or stages[-1][0] != stage:
            stages.append([stage, -1, total])
        assert done >= stages[-1][1] and total == stages[-1][2]
        stages[-1][1] = done
    for stage, last, total in stages:
        assert last == total, (stage, last, total)
    assert len(events) <= 110 * len(stages)  # about 1% steps


@pytest.mark.parametrize("kind", KINDS)
def test_exception_cancels_the_build(dense_data, sparse_data, kind):
    class Stop(Exception):
        pass

    calls = []

    def progress(stage, done, total):
        calls.append(done)
        if len(calls) == 2:
            raise Stop(f"cancelled at {stage}")

    build = builders(dense_data, sparse_data)[kind]
    with pytest.raises(Stop, match="cancelled at"):
        build(progress=progress)
    assert len(build()) > 0  # nothing left behind


def test_progress_true_and_bad_values(dense_data, sparse_data, capsys):
    pytest.importorskip("tqdm")
    index = builders(dense_data, sparse_data)["ivfpq"](progress=True)
    assert len(index) > 0
    assert builders(dense_data, sparse_data)["inverted"](progress=False).size > 0
    with pytest.raises(sd.InvalidArgumentError, match="progress"):
        builders(dense_data, sparse_data)["inverted"](progress="yes")
