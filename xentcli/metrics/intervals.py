"""``--ci``: the normal interval of the mean loss and the Wilson interval of accuracy."""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import numpy as np

from ..summary import Interval
from .exact import ExactSums
from .rows import Ends, Rows
from .totals import WeightedCount


def z_of(level: float) -> float:
    """The two-sided normal quantile of ``level`` (1.959963984540054 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(right: float, weight: float, weight_sq: float, level: float) -> tuple[float, float]:
    """The Wilson score interval of a (weighted) share ``right / weight`` with the
    effective size ``weight**2 / weight_sq`` (the row count when unweighted)."""
    if not weight > 0:
        return math.nan, math.nan
    p = right / weight
    n = weight * weight / weight_sq
    z = z_of(level)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


class NormalInterval:
    """Sums for ``m ± z·se`` with ``se² = n/(n-1) · Σ (num_i - m·den_i)² / (Σ den_i)²``
    (``num_i = w_i l_i``, ``den_i = w_i``; unweighted ``s²/n``), expanded into exact sums
    of ``num²``, ``num·den`` and ``den²`` so that it merges; and the Wilson interval of
    accuracy from the right rows' weight, all rows' weight and the squared weights."""

    def __init__(self, level: float, weighted: bool = False, sample_weighted: bool = False):
        self.level, self.weighted, self.sample_weighted = level, weighted, sample_weighted
        self.n = 0
        self.sums = ExactSums(5 if weighted else 2)  # num, num², [den, num·den, den²]
        self.right = WeightedCount(1, sample_weighted)
        self.weight = WeightedCount(1, sample_weighted)
        self.weight_sq = ExactSums() if sample_weighted else None

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if not n:
            return
        self.n += n
        num = rows.numerator
        if self.weighted:
            den = rows.denominator if rows.denominator is not None else np.ones(n)
            self.sums.add(np.column_stack([num, num * num, den, num * den, den * den]))
        else:
            self.sums.add(np.column_stack([num, num * num]))
        w = rows.weights
        self.right.add(w, rows.hit)
        self.weight.add_rows(n, w)
        if self.weight_sq is not None:
            assert w is not None
            self.weight_sq.add(w * w)

    def merge(self, other: NormalInterval) -> NormalInterval:
        merged = NormalInterval(self.level, self.weighted, self.sample_weighted)
        merged.n = self.n + other.n
        merged.sums = self.sums.merge(other.sums)
        merged.right = self.right.merge(other.right)
        merged.weight = self.weight.merge(other.weight)
        if self.weight_sq is not None and other.weight_sq is not None:
            merged.weight_sq = self.weight_sq.merge(other.weight_sq)
        return merged

    def moments(self) -> tuple[Fraction, Fraction | None] | None:
        """The exact mean ``Σ num / Σ den`` (nats) and the exact square of its se (None
        below two rows); None when a sum is not finite, or there is no row or weight."""
        exact = self.sums.exact()
        if any(isinstance(v, float) for v in exact) or self.n < 1:
            return None
        if self.weighted:
            num, num_sq, den, num_den, den_sq = exact
        else:
            num, num_sq = exact[:2]
            den, num_den, den_sq = Fraction(self.n), num, Fraction(self.n)
        if den == 0:
            return None
        mean = num / den
        if self.n < 2:
            return mean, None
        # the squares were rounded before they were summed: a spread of (nearly) equal
        # rows can come out a hair below 0, which is 0
        spread = max(Fraction(0), num_sq - 2 * mean * num_den + mean * mean * den_sq)
        return mean, Fraction(self.n, self.n - 1) * spread / (den * den)

    def loss_interval(self) -> tuple[float, float, float]:
        """The mean loss (nats) and its interval's ends."""
        moments = self.moments()
        if moments is None:
            return math.nan, math.nan, math.nan
        mean, variance = moments
        if variance is None:
            return float(mean), math.nan, math.nan
        se = math.sqrt(float(variance))
        z = z_of(self.level)
        centre = float(mean)
        return centre, centre - z * se, centre + z * se

    def finish(self, ends: Ends) -> dict[str, Any]:
        _, lo, hi = self.loss_interval()
        weight = float(self.weight.totals()[0])
        weight_sq = float(self.weight_sq.totals()[0]) if self.weight_sq is not None else weight
        accuracy = wilson(float(self.right.totals()[0]), weight, weight_sq, self.level)
        interval = Interval(
            level=self.level,
            method="normal",
            loss=(lo / ends.scale, hi / ends.scale),
            accuracy=accuracy,
        )
        return {"ci": interval}
