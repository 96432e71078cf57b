"""``xent compare``'s paired mode: two models scored on the same rows, and the figures of
their per-row differences ``d = l_new - l_base`` (SPEC "xent compare").

``Paired`` is a partial like score's (``add``, ``merge``, ``finish``), so the paired run
streams, threads and merges as ``score`` does. It reuses score's interval machinery on
``d`` rather than a copy of it: ``NormalInterval``'s exact sums give the (weighted) mean of
``d`` and its ``se``, ``BootstrapInterval``'s Poisson replicates, keyed by the seed and
the base's row positions, give the bootstrap interval, so the same rows give the same
bits whatever the cut. On top: the paired t-test (``t = mean / se``, n - 1 degrees of
freedom, ``scipy.stats.ttest_rel`` unweighted), the exact McNemar test on the rows only
one model got right, and the wins, losses and ties of the rows' own losses.

Swapping the models negates every ``d`` and gives the negated delta and interval and the
same p-values to the bit: the sums are exact, and the bootstrap's upper end is computed
as the negated lower end of the negated replicates, so the two ends are one rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..comparison import PairedFigures
from .bootstrap import BootstrapInterval, _percentiles
from .histograms import DifferenceHistogram
from .intervals import NormalInterval, z_of
from .rows import BoolArray, FloatArray, IntArray, Rows
from .significance import mcnemar_p, t_test_p

_NO_INTS = np.zeros(0, dtype=np.int64)
_NO_FLOATS = np.zeros(0)
_NO_BOOLS = np.zeros(0, dtype=np.bool_)


@dataclass(frozen=True)
class PairedRows:
    """One batch of rows scored by both models, paired (the same rows, same order)."""

    numerator: FloatArray  # per row: new's headline numerator minus base's (w*(l_new-l_base)), nats
    denominator: FloatArray | None  # the headline denominator, the same for both (None: 1 per row)
    loss_base: FloatArray  # each row's own loss, nats (wins/losses/ties compare these)
    loss_new: FloatArray
    hit_base: BoolArray  # each model right on the row (accuracy's hit)
    hit_new: BoolArray
    weights: FloatArray | None  # sample weights (None: 1 each)
    rows: IntArray  # global 0-based positions keying the bootstrap (the base's)

    def __post_init__(self) -> None:
        n = len(self)
        arrays = (self.denominator, self.loss_base, self.loss_new, self.hit_base, self.hit_new)
        for array in (*arrays, self.weights, self.rows):
            if array is not None and array.shape != (n,):
                raise ValueError(f"paired rows of {array.shape} beside {n} numerators")

    def __len__(self) -> int:
        return int(self.numerator.shape[0])


def _differences(rows: PairedRows) -> Rows:
    """The differences as one of score's batches, for its interval partials: they read
    the numerators, denominators and row positions (and count ``hit`` for an accuracy
    interval that is not a paired figure: none is set)."""
    return Rows(
        loss=rows.numerator,
        numerator=rows.numerator,
        denominator=rows.denominator,
        weights=None,
        label=_NO_INTS,
        pred=_NO_INTS,
        hit=np.zeros(len(rows), dtype=np.bool_),
        p_true=_NO_FLOATS,
        brier=_NO_FLOATS,
        confidence=_NO_FLOATS,
        outcome=_NO_BOOLS,
        rows=rows.rows,
    )


class Paired:
    """The paired figures' sufficient statistics: ``NormalInterval``'s exact sums of ``d``,
    ``BootstrapInterval``'s replicates of it when ``bootstrap`` is a replicate count, and
    five integer counts. ``weighted``: the rows carry denominators (sample or class
    weights), and the mean is ``Σ num / Σ den``; ``sample_weighted`` is recorded so that
    only like partials merge (the McNemar and win counts are of rows, unweighted, as
    ``binomtest`` counts them)."""

    def __init__(
        self,
        level: float,
        bootstrap: int | None = None,
        seed: int = 0,
        weighted: bool = False,
        sample_weighted: bool = False,
    ) -> None:
        if bootstrap is not None and bootstrap < 1:
            raise ValueError(f"a bootstrap needs at least one replicate, not {bootstrap}")
        self.level, self.bootstrap, self.seed = level, bootstrap, seed
        self.weighted, self.sample_weighted = weighted, sample_weighted
        self.normal = NormalInterval(level, weighted)
        self.resampled = (
            BootstrapInterval(level, bootstrap, seed, weighted) if bootstrap is not None else None
        )
        self.wins = self.losses = self.ties = self.base_only = self.new_only = 0
        self.histogram = DifferenceHistogram()  # of the rows' own d, for the report's figure

    def _settings(self) -> tuple[float, int | None, int, bool, bool]:
        return self.level, self.bootstrap, self.seed, self.weighted, self.sample_weighted

    def add(self, rows: PairedRows) -> None:
        if not len(rows):
            return
        differences = _differences(rows)
        self.normal.add(differences)
        if self.resampled is not None:
            self.resampled.add(differences)
        base, new = rows.loss_base, rows.loss_new
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, counted apart
            self.histogram.add_differences(new - base)
        self.wins += int(np.count_nonzero(new < base))
        self.losses += int(np.count_nonzero(new > base))
        self.ties += int(np.count_nonzero(new == base))
        self.base_only += int(np.count_nonzero(rows.hit_base & ~rows.hit_new))
        self.new_only += int(np.count_nonzero(rows.hit_new & ~rows.hit_base))

    def merge(self, other: Paired) -> Paired:
        if other._settings() != self._settings():
            raise ValueError("cannot merge paired partials of different settings")
        merged = Paired(*self._settings())
        merged.normal = self.normal.merge(other.normal)
        if self.resampled is not None and other.resampled is not None:
            merged.resampled = self.resampled.merge(other.resampled)
        for name in ("wins", "losses", "ties", "base_only", "new_only"):
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        merged.histogram = self.histogram.merge(other.histogram)
        return merged

    def finish(self, scale: float) -> PairedFigures:
        """The figures, ``scale`` dividing nats into the report's log base."""
        n = self.normal.n
        delta, se, interval, p_loss = self._loss_figures(scale)
        return PairedFigures(
            n=n,
            delta=delta,
            se=se,
            level=self.level,
            method="normal" if self.resampled is None else "bootstrap",
            interval=interval,
            replicates=self.bootstrap,
            seed=None if self.resampled is None else self.seed,
            p_value_loss=p_loss,
            p_value_accuracy=mcnemar_p(self.base_only, self.new_only),
            wins=self.wins,
            losses=self.losses,
            ties=self.ties,
            base_only=self.base_only,
            new_only=self.new_only,
            d_counts=self.histogram.finish(),
            d_nan=self.histogram.nan,
        )

    def _loss_figures(self, scale: float) -> tuple[float, float, tuple[float, float], float]:
        """delta, se, interval (report base) and the t-test's p."""
        nan = math.nan
        moments = self.normal.moments()
        if moments is None:  # no rows, no weight, or an infinite or NaN d
            return self._unbounded_delta() / scale, nan, (nan, nan), nan
        mean, variance = moments
        if mean == 0 and not variance:  # every d is 0 (one row or more)
            return 0.0, 0.0, (0.0, 0.0), 1.0
        delta = float(mean / Fraction(scale))
        if variance is None:  # one row: no spread to measure
            return delta, nan, (nan, nan), nan
        se_nats = math.sqrt(float(variance))
        se = se_nats / scale
        p_loss = t_test_p(float(mean) / se_nats, self.normal.n - 1) if se_nats else 0.0
        if self.resampled is None:
            z = z_of(self.level)
            return delta, se, (delta - z * se, delta + z * se), p_loss
        means, _ = self.resampled.means()
        lower = _percentiles(means / scale, self.level)[0]
        upper = -_percentiles(-means / scale, self.level)[0]
        return delta, se, (lower, upper), p_loss

    def _unbounded_delta(self) -> float:
        """The mean of ``d`` when a sum is not finite (or nothing was added): the float
        totals' ratio, as score's mean loss is (inf, -inf or NaN)."""
        totals = self.normal.sums.totals()  # num, num², [den, num·den, den²]
        den = totals[2] if self.weighted else float(self.normal.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.float64(totals[0]) / den) if den > 0 else math.nan
