"""The histograms the report's figures are drawn from: the rows' ``p_true`` and losses
(``Histograms``, a partial of ``score``) and the paired differences ``d = l_new - l_base``
(``DifferenceHistogram``, fed by ``metrics.paired``'s rows).

Every bin edge is fixed before a row is seen, and every bin is an integer count of rows
(sample weights do not weigh them: an ``n`` counts rows, SPEC "Evaluation figures"), so
any cut of the rows merged in any order gives the same counts, and the figures' size
does not grow with the number of rows.

- ``p_true``: ``P_BINS`` equal bins of [0, 1], each holding ``lo <= p < hi`` and the
  last also ``p = 1``, as ``numpy.histogram(p, B, range=(0, 1))`` counts them (its
  edges, ``numpy.linspace(0, 1, B + 1)``);
  a ``p_true`` outside [0, 1] or NaN is counted apart (``outside``).
- ``loss``: ``LOSS_BINS`` equal bins of ``LOSS_WIDTH`` nats from 0 (``-log p`` of hard
  labels: equal bins of loss are log-spaced bins of ``p_true``), then one overflow bin
  for losses of ``LOSS_BINS * LOSS_WIDTH`` nats and more (infinite ones too); a NaN or
  negative loss is counted apart. The report gives the edges in its log base.
- ``d``: by sign and binary exponent: ``d = 0``; ``2**e <= |d| < 2**(e+1)`` for
  ``D_LOW <= e < D_HIGH``; ``|d|`` below ``2**D_LOW`` (not 0); ``|d| >= 2**D_HIGH``
  (infinite too); NaN apart. Exact whatever the log base (a power of two stays one when
  the report divides by its scale? no: the edges are in nats, the report says so).

Multilabel: the row's ``p_true`` and loss as ``--per-sample`` writes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..comparison import D_LOW, D_OCTAVES, D_SLOTS
from ..summary import Histogram
from ..summary import Histograms as HistogramsSummary
from .rows import Ends, Rows

P_BINS = 50
LOSS_BINS = 48
LOSS_WIDTH = 0.25  # nats, a power of two: the last regular bin ends at 12 nats (p = 6.1e-6)


class Histograms:
    """Row counts of ``p_true`` on fixed bins of [0, 1] and of the loss on fixed bins of
    nats with an overflow bin; the values that fit no bin counted apart."""

    def __init__(self) -> None:
        self.p_true = np.zeros(P_BINS, dtype=np.int64)
        self.p_outside = 0
        self.loss = np.zeros(LOSS_BINS + 1, dtype=np.int64)  # the last: overflow
        self.loss_outside = 0

    def add(self, rows: Rows) -> None:
        if not len(rows):
            return
        p = rows.p_true
        counts, _ = np.histogram(p, bins=P_BINS, range=(0.0, 1.0))
        self.p_true += counts
        self.p_outside += int(p.size - counts.sum())
        counts = loss_counts(rows.loss)
        self.loss += counts
        self.loss_outside += int(rows.loss.size - counts.sum())

    def merge(self, other: Histograms) -> Histograms:
        merged = Histograms()
        merged.p_true = self.p_true + other.p_true
        merged.p_outside = self.p_outside + other.p_outside
        merged.loss = self.loss + other.loss
        merged.loss_outside = self.loss_outside + other.loss_outside
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        p_edges = tuple(np.linspace(0.0, 1.0, P_BINS + 1).tolist())  # numpy.histogram's
        loss_edges = tuple(i * LOSS_WIDTH / ends.scale for i in range(LOSS_BINS + 1))
        return {
            "histograms": HistogramsSummary(
                p_true=Histogram(p_edges, tuple(self.p_true.tolist()), 0, self.p_outside),
                row_loss=Histogram(
                    loss_edges,
                    tuple(self.loss[:-1].tolist()),
                    int(self.loss[-1]),
                    self.loss_outside,
                ),
            )
        }


def loss_counts(loss: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The counts of ``LOSS_BINS`` bins of ``LOSS_WIDTH`` nats and the overflow bin
    (NaN and negative losses in none). ``LOSS_WIDTH`` is a power of two, so
    ``loss / LOSS_WIDTH`` is exact and its floor is the bin, as ``numpy.histogram`` on
    the edges ``k * LOSS_WIDTH`` finds it, at a quarter of its cost (no sort)."""
    with np.errstate(invalid="ignore"):
        index = np.minimum(loss * (1.0 / LOSS_WIDTH), float(LOSS_BINS))
    kept = index[index >= 0]  # NaN compares false
    return np.bincount(kept.astype(np.int64), minlength=LOSS_BINS + 1)


def d_slots(d: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Each finite or infinite ``d``'s slot (NaN excluded by the caller)."""
    magnitude = np.abs(d)
    with np.errstate(over="ignore", invalid="ignore"):
        _, exponent = np.frexp(magnitude)  # |d| = m 2**exponent, 0.5 <= m < 1
    octave = exponent.astype(np.int64) - 1  # 2**octave <= |d| < 2**(octave+1)
    side = np.clip(octave - D_LOW, -1, D_OCTAVES) + 1  # 0: below, 1..D_OCTAVES, last: above
    side = np.where(np.isinf(magnitude), D_OCTAVES + 1, side)
    middle = D_OCTAVES + 2
    slot = np.where(d > 0, middle + 1 + side, middle - 1 - side)
    return np.where(d == 0, middle, slot).astype(np.int64)


class DifferenceHistogram:
    """Row counts of ``d = l_new - l_base`` (nats) by sign and binary exponent: exact and
    order-free (integer counts on edges that are powers of two)."""

    def __init__(self) -> None:
        self.counts = np.zeros(D_SLOTS, dtype=np.int64)
        self.nan = 0

    def add_differences(self, d: npt.NDArray[np.float64]) -> None:
        finite = ~np.isnan(d)
        self.nan += int(d.size - np.count_nonzero(finite))
        self.counts += np.bincount(d_slots(d[finite]), minlength=D_SLOTS)

    def merge(self, other: DifferenceHistogram) -> DifferenceHistogram:
        merged = DifferenceHistogram()
        merged.counts = self.counts + other.counts
        merged.nan = self.nan + other.nan
        return merged

    def finish(self) -> tuple[int, ...]:
        return tuple(self.counts.tolist())
