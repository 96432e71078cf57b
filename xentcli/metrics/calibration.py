"""Reliability bins, ECE and MCE, as torchmetrics' calibration errors define them."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..summary import CalibrationBin
from .exact import ExactSums
from .rows import Ends, Rows
from .totals import WeightedCount


def bin_of(confidence: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.int64]:
    """The bin of each confidence: ``i/B <= c < (i+1)/B``, the last bin also ``c = 1``,
    edges the float64 values ``i / B`` (``c * B`` can round across an edge: corrected)."""
    index = np.floor(confidence * bins).astype(np.int64)
    np.clip(index, 0, bins - 1, out=index)
    index -= confidence < index / bins
    index += (confidence >= (index + 1) / bins) & (index < bins - 1)
    return index


LOOKUP_BINS = 4096  # beyond this many bins, ``bin_of`` (the tables would be large)


class BinLookup:
    """``bin_of`` for confidences in [0, 1] by two table lookups: the interval
    ``[j/M, (j+1)/M)`` of ``c`` (``M`` a power of two, so ``c * M`` is exact) starts in
    bin ``first[j]`` and holds at most one edge, ``edge[j]`` (2 when none). Both tables
    are made by ``bin_of`` itself and checked at every edge, so a value falls in the
    bin ``bin_of`` gives it; outside [0, 1] (and NaN) ``bin_of`` is used."""

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.cells = 1 << max(10, (4 * bins).bit_length())  # >= 4 cells per bin
        starts = np.arange(self.cells + 1) / self.cells
        first = bin_of(starts, bins)
        last = bin_of(np.nextafter(starts[1:], -1.0), bins)  # each interval's last float
        last = np.append(last, first[-1])  # c = 1 is its own interval
        if np.any((last - first < 0) | (last - first > 1)):
            raise AssertionError("a lookup interval spans two edges")
        edges = np.arange(bins + 1) / bins
        edge = np.where(last > first, edges[last], 2.0)
        has = last > first
        if not (
            np.array_equal(bin_of(edge[has], bins), last[has])
            and np.array_equal(bin_of(np.nextafter(edge[has], -1.0), bins), first[has])
        ):
            raise AssertionError("the lookup's edges are not bin_of's")
        self.first, self.edge = first, edge

    def __call__(self, confidence: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        c = confidence
        if not c.size or not (c.min() >= 0.0 and c.max() <= 1.0):
            return bin_of(c, self.bins)
        cell = np.multiply(c, self.cells).astype(np.int64)
        index = self.first.take(cell)
        index += c >= self.edge.take(cell)
        return index


@functools.lru_cache(maxsize=8)
def bin_lookup(bins: int) -> BinLookup:
    """The lookup tables of ``bins`` bins, made once."""
    return BinLookup(bins)


class Calibration:
    """Per bin: rows, and the (weighted) sums of confidence and of outcome.

    Multiclass: the confidence is the top probability and the outcome whether it was
    right; binary: p(positive) and whether the row is positive; multilabel pools every
    (row, label) pair as binary. The weights weigh the sums; ``n`` counts rows (pairs).
    """

    def __init__(self, bins: int = 15, sample_weighted: bool = False) -> None:
        self.bins, self.sample_weighted = bins, sample_weighted
        self.n = np.zeros(bins, dtype=np.int64)
        self.confidence = ExactSums(bins)
        self.outcome = WeightedCount(bins, sample_weighted)
        self.weight = WeightedCount(bins, sample_weighted)

    def add(self, rows: Rows) -> None:
        if not len(rows):
            return
        self.add_pairs(rows.confidence, rows.outcome, rows.weights)

    def add_pairs(
        self,
        confidence: npt.NDArray[np.float64],
        outcome: npt.NDArray[np.bool_],
        weights: npt.NDArray[np.float64] | None,
    ) -> None:
        """Add confidences with their outcomes; a matrix (multilabel) pools its pairs."""
        if confidence.ndim == 2:
            if weights is not None:
                weights = np.repeat(weights, confidence.shape[1])
            confidence, outcome = confidence.ravel(), outcome.ravel()
        index = (
            bin_of(confidence, self.bins)
            if self.bins > LOOKUP_BINS
            else bin_lookup(self.bins)(confidence)
        )
        if self.outcome.sums is None:  # a bin's rows and its outcomes in one count
            both = np.bincount(np.left_shift(index, 1) + outcome, minlength=2 * self.bins)
            both = both.reshape(-1, 2)
            self.n += both.sum(axis=1)
            self.outcome.counts += both[:, 1]
        else:
            self.n += np.bincount(index, minlength=self.bins)
            self.outcome.add(weights, outcome, index)
        self.confidence.add(confidence if weights is None else confidence * weights, index)
        if self.sample_weighted:  # else a bin's weight is its count, ``n``
            self.weight.add_rows(confidence.shape[0], weights, index)

    def merge(self, other: Calibration) -> Calibration:
        merged = Calibration(self.bins, self.sample_weighted)
        merged.n = self.n + other.n
        merged.confidence = self.confidence.merge(other.confidence)
        merged.outcome = self.outcome.merge(other.outcome)
        merged.weight = self.weight.merge(other.weight)
        return merged

    def table(self) -> tuple[tuple[CalibrationBin, ...], float, float]:
        """The bins, ECE and MCE (NaN when no bin has rows)."""
        weight = self.weight.totals() if self.sample_weighted else self.n.astype(np.float64)
        confidence = self.confidence.totals()
        outcome = self.outcome.totals()
        total = math.fsum(weight.tolist())
        table, gaps, shares = [], [], []
        for i in range(self.bins):
            lo, hi = i / self.bins, (i + 1) / self.bins
            if self.n[i] == 0 or not weight[i] > 0:
                table.append(CalibrationBin(lo, hi, int(self.n[i]), None, None))
                continue
            conf = float(confidence[i] / weight[i])
            acc = float(outcome[i] / weight[i])
            table.append(CalibrationBin(lo, hi, int(self.n[i]), conf, acc))
            gaps.append(abs(acc - conf))
            shares.append(float(weight[i]) / total * abs(acc - conf))
        if not gaps:
            return tuple(table), math.nan, math.nan
        return tuple(table), math.fsum(shares), max(gaps)

    def finish(self, ends: Ends) -> dict[str, Any]:
        table, ece, mce = self.table()
        return {"bins": self.bins, "calibration": table, "ece": ece, "mce": mce}
