"""SPEC's "first rows", which make every ``auto`` decision: the first ``DECISION_ROWS``
rows (or the whole input, when shorter), whatever the batch size: the first batch holds
at least that many, and the decisions are made on exactly that many of its rows.

The reader's batches may be smaller (``batch_rows``, or a wide input whose batches
are kept near a fixed size in bytes), so the first ones are joined into one batch
before anything is decided on it; the batches after it stream as they come.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

from .align import Batch
from .infer import DECISION_ROWS


def first_rows_together(batches: Iterable[Batch], rows: int = DECISION_ROWS) -> Iterator[Batch]:
    """``batches`` as they come, except that the first ones are joined into one batch of
    at least ``rows`` rows (all of them, when the input is shorter)."""
    stream = iter(batches)
    head: list[Batch] = []
    n = 0
    for batch in stream:
        head.append(batch)
        n += len(batch)
        if n >= rows:
            break
    if len(head) > 1:
        # labels of different types in different files do not join: decide on the first
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError):
            head = [joined(head)]
    yield from head
    yield from stream


def joined(batches: list[Batch]) -> Batch:
    """Consecutive batches as one (their rows follow on: ``offset`` is the first's)."""
    first = batches[0]

    def arrays(name: str) -> pa.Array | None:
        parts = [getattr(b, name) for b in batches]
        return None if parts[0] is None else pa.concat_arrays(parts)

    def blocks(name: str) -> np.ndarray | None:
        parts = [getattr(b, name) for b in batches]
        return None if parts[0] is None else np.concatenate(parts)

    label_rows = None
    if any(b.label_rows is not None for b in batches):
        label_rows = np.concatenate(
            [
                b.label_rows
                if b.label_rows is not None
                else b.offset + np.arange(len(b), dtype=np.int64)
                for b in batches
            ]
        )
    return Batch(
        first.offset,
        np.asfortranarray(np.concatenate([b.scores for b in batches])),
        arrays("labels"),
        arrays("ids"),
        label_rows=label_rows,
        targets=blocks("targets"),
        weights=blocks("weights"),
        keys={k: pa.concat_arrays([b.keys[k] for b in batches]) for k in first.keys},
    )
