"""What a partial reads and how it behaves: ``Rows`` (one batch of scored rows) and the
``Partial`` protocol (``add``, ``merge``, ``finish``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Rows:
    """One batch of scored rows: every per-row figure a partial may read (losses in nats).

    ``numerator``/``denominator`` are each row's terms of the headline (weighted) mean,
    sample and class weights applied; ``denominator`` None means 1 per row. ``weights``
    are the sample weights alone (None: 1 each): Brier, calibration and accuracy use
    them and nothing else. ``label``/``pred`` are class indices (soft targets: the
    argmax of the target; multilabel: zeros). ``confidence``/``outcome`` are what the
    reliability bins take, one per row or, for multilabel, one per (row, label):
    multiclass the top probability and whether it was right, binary p(positive) and
    whether the row is positive. ``rows`` are the rows' global 0-based PREDS positions,
    which key the bootstrap and order the worst rows; ``keys`` the ``--by`` columns'
    values (Arrow arrays) and ``ids`` the ``--id-col`` values. ``dropped``/``ignored``
    count the batch's rows left out before scoring (``--drop-invalid``,
    ``--ignore-label``); a batch may have no rows left and still carry them.
    """

    loss: FloatArray
    numerator: FloatArray
    denominator: FloatArray | None
    weights: FloatArray | None
    label: IntArray
    pred: IntArray
    hit: BoolArray
    p_true: FloatArray
    brier: FloatArray
    confidence: FloatArray
    outcome: BoolArray
    rows: IntArray
    targets: FloatArray | None = None
    per_label: FloatArray | None = None
    label_hits: BoolArray | None = None
    ids: Sequence[Any] | None = None
    keys: Mapping[str, Any] = field(default_factory=dict)
    label_text: Sequence[Any] | None = None
    pred_text: Sequence[Any] | None = None
    clipped: int = 0
    renormalized: int = 0
    dropped: int = 0
    ignored: int = 0

    def __len__(self) -> int:
        return int(self.loss.shape[0])


@dataclass(frozen=True)
class Ends:
    """What ``finish`` needs beyond its own sums: the run's facts that turn totals into
    figures. ``scale`` divides nats into the report's log base; ``constant_loss(q)``
    is the mean loss (nats) of predicting the distribution ``q`` for every row, under
    the run's rules, class weights, pos_weight and smoothing, where ``q`` is the
    sample-weighted class frequencies (soft targets: the mean target; multilabel: each
    label's positive rate) of the rows it is scored against."""

    scale: float
    classes: tuple[str, ...]
    task: str
    target: str
    reduction: str = "mean"
    constant_loss: Callable[[FloatArray], float] | None = None


P = TypeVar("P", bound="Partial")


class Partial(Protocol):
    """A figure's sufficient statistics: small, picklable, exact to merge.

    ``add`` takes one batch; ``merge`` returns a new partial holding both (neither input
    changes) and gives the same bits whatever the order or the cut; ``finish`` returns
    its fields of the ``Summary`` (a mapping of field name to value)."""

    def add(self, rows: Rows) -> None: ...

    def merge(self: P, other: P) -> P: ...

    def finish(self, ends: Ends) -> dict[str, Any]: ...
