"""What several partials take from one batch, made once per batch.

Unweighted, the headline's loss sum is the sum of the per-class loss sums, and the
baseline's class counts are the per-class rows: one pass gives each of them. A partial
still adds and merges on its own; only a batch's arithmetic is shared.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from .exact import ExactSums
from .rows import IntArray, Rows

T = TypeVar("T")
_batch = threading.local()  # this thread's batch (a weak reference) and what it made


def shared(rows: Rows, key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` for this batch and ``key``, made by the first partial to ask and
    handed to the others. Kept beside the batch, not in it (``Rows`` stays its fields),
    for the thread's current batch only: a new batch starts afresh."""
    memo: tuple[weakref.ref[Rows], dict[Hashable, Any]] | None = getattr(_batch, "memo", None)
    if memo is None or memo[0]() is not rows:
        memo = (weakref.ref(rows), {})
        _batch.memo = memo
    made = memo[1]
    if key not in made:
        made[key] = make()
    return made[key]  # type: ignore[no-any-return]


def class_tally(rows: Rows, k: int) -> tuple[IntArray, IntArray]:
    """Per class: the batch's rows labelled with it, and how many of them are right
    (one ``bincount`` of ``2 * label + hit``)."""

    def tally() -> tuple[IntArray, IntArray]:
        if k == 2:  # three counts of set flags, not a bincount (~0.4 ns/row, not ~1.9)
            n, ones = rows.label.shape[0], np.count_nonzero(rows.label)
            right = np.count_nonzero(rows.hit)
            right_ones = np.count_nonzero(np.logical_and(rows.hit, rows.label))
            return (
                np.array([n - ones, ones], dtype=np.int64),
                np.array([right - right_ones, right_ones], dtype=np.int64),
            )
        index = np.left_shift(rows.label, 1)
        index += rows.hit
        both = np.bincount(index, minlength=2 * k).reshape(-1, 2)
        return both.sum(axis=1), both[:, 1]

    return shared(rows, ("class_tally", k), tally)


def loss_by_class(rows: Rows, k: int) -> ExactSums:
    """The exact sums of the batch's own losses (no weights) per class."""

    def sums() -> ExactSums:
        part = ExactSums(k)
        part.add(rows.loss, rows.label)
        return part

    return shared(rows, ("loss_by_class", k), sums)
