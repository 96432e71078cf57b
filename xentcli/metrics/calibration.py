"""Reliability bins, ECE and MCE, as torchmetrics' calibration errors define them."""

from __future__ import annotations

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
        index = bin_of(confidence, self.bins)
        self.n += np.bincount(index, minlength=self.bins)
        self.confidence.add(confidence if weights is None else confidence * weights, index)
        self.outcome.add(weights, outcome, index)
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
