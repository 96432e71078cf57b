"""The headline partials: the loss and accuracy of every row, and the run's counters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .exact import ExactSums
from .rows import Ends, Rows
from .shared import loss_by_class


class WeightedCount:
    """A sum of sample weights (optionally of those rows where a flag is set): an integer
    count when the run has no sample weights, else an exact sum; ``k`` groups."""

    def __init__(self, k: int = 1, weighted: bool = False) -> None:
        self.k, self.weighted = k, weighted
        self.counts = np.zeros(k, dtype=np.int64)
        self.sums = ExactSums(k) if weighted else None

    def add(
        self,
        weights: np.ndarray | None,
        flags: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> None:
        """Count each row whose flag is set into its group, by its weight."""
        if self.sums is None:
            if groups is None:
                self.counts[0] += int(np.count_nonzero(flags))
                return
            self.counts += np.bincount(groups, weights=flags, minlength=self.k).astype(np.int64)
            return
        assert weights is not None, "a weighted count needs the rows' weights"
        values = weights if flags is None else np.where(flags, weights, 0.0)
        self.sums.add(values, groups)

    def add_rows(
        self, n: int, weights: np.ndarray | None, groups: np.ndarray | None = None
    ) -> None:
        """Count every row: ``n`` of them."""
        if self.sums is None:
            if groups is None:
                self.counts[0] += n
            else:
                self.counts += np.bincount(groups, minlength=self.k)
            return
        assert weights is not None
        self.sums.add(weights, groups)

    def merge(self, other: WeightedCount) -> WeightedCount:
        merged = WeightedCount(self.k, self.weighted)
        merged.counts = self.counts + other.counts
        if self.sums is not None and other.sums is not None:
            merged.sums = self.sums.merge(other.sums)
        return merged

    def totals(self) -> np.ndarray:
        """The counts, or the correctly rounded weight sums, as floats."""
        if self.sums is None:
            return self.counts.astype(np.float64)
        return self.sums.totals()


class LossTotals:
    """The headline: rows, the (weighted) loss sum and its divisor, accuracy.

    The loss is ``sum(numerator) / sum(denominator)`` (``denominator`` 1 per row when
    unweighted); accuracy the share of right rows, weighted by the sample weights.
    With ``classes`` (the run's class count, when ``PerClass`` sums each class's own
    losses), a batch whose numerator is its losses pools those sums, not a second pass.
    """

    def __init__(
        self, weighted: bool = False, sample_weighted: bool = False, classes: int | None = None
    ) -> None:
        self.weighted, self.sample_weighted, self.classes = weighted, sample_weighted, classes
        self.n = 0
        self.numerator = ExactSums()
        self.denominator = ExactSums() if weighted else None
        self.right = WeightedCount(1, sample_weighted)
        self.weight = WeightedCount(1, sample_weighted)

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if not n:
            return
        self.n += n
        if self.classes is not None and rows.numerator is rows.loss and rows.weights is None:
            self.numerator.absorb(loss_by_class(rows, self.classes).pooled())
        else:
            self.numerator.add(rows.numerator)
        if self.denominator is not None:
            self.denominator.add(rows.denominator if rows.denominator is not None else np.ones(n))
        self.right.add(rows.weights, rows.hit)
        self.weight.add_rows(n, rows.weights)

    def merge(self, other: LossTotals) -> LossTotals:
        merged = LossTotals(self.weighted, self.sample_weighted, self.classes)
        merged.n = self.n + other.n
        merged.numerator = self.numerator.merge(other.numerator)
        if self.denominator is not None and other.denominator is not None:
            merged.denominator = self.denominator.merge(other.denominator)
        merged.right = self.right.merge(other.right)
        merged.weight = self.weight.merge(other.weight)
        return merged

    @property
    def sum_nats(self) -> float:
        return float(self.numerator.totals()[0])

    @property
    def total_weight(self) -> float:
        """What the mean divides by: the rows, or the sum of their weights."""
        if self.denominator is None:
            return float(self.n)
        return float(self.denominator.totals()[0])

    def finish(self, ends: Ends) -> dict[str, Any]:
        sum_nats = self.sum_nats
        total = self.total_weight
        mean_nats = sum_nats / total if total > 0 else math.nan
        mean_loss = mean_nats / ends.scale
        sum_loss = sum_nats / ends.scale
        weight = float(self.weight.totals()[0])
        return {
            "n_samples": self.n,
            "loss": mean_loss if ends.reduction == "mean" else sum_loss,
            "mean_loss": mean_loss,
            "sum_loss": sum_loss,
            "perplexity": _exp(mean_nats),
            "accuracy": float(self.right.totals()[0]) / weight if weight > 0 else math.nan,
        }


class Counters:
    """Rows clipped, renormalised, dropped as invalid and ignored, as integers."""

    def __init__(self) -> None:
        self.clipped = self.renormalized = self.dropped = self.ignored = 0

    def add(self, rows: Rows) -> None:
        self.clipped += rows.clipped
        self.renormalized += rows.renormalized
        self.dropped += rows.dropped
        self.ignored += rows.ignored

    def merge(self, other: Counters) -> Counters:
        merged = Counters()
        for name in ("clipped", "renormalized", "dropped", "ignored"):
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        return {
            "clipped": self.clipped,
            "renormalized": self.renormalized,
            "dropped": self.dropped,
            "ignored": self.ignored,
        }


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
