"""The constant prediction's loss, and the figures measured against it (D², NE)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .exact import ExactSums
from .rows import Ends, Rows
from .shared import class_tally
from .totals import WeightedCount


class Baseline:
    """Sample-weighted class frequencies of the scored rows (soft targets: the summed
    target distribution; multilabel: each label's positives). ``finish`` gives the
    loss of predicting their normalised form for every row (``Ends.constant_loss``)."""

    def __init__(self, k: int, by_targets: bool = False, sample_weighted: bool = False):
        self.k, self.by_targets, self.sample_weighted = k, by_targets, sample_weighted
        self.mass = ExactSums(k) if by_targets else None
        self.count = WeightedCount(k, sample_weighted)
        self.rows = WeightedCount(1, sample_weighted)

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if not n:
            return
        w = rows.weights
        self.rows.add_rows(n, w)
        if self.mass is not None:
            assert rows.targets is not None
            self.mass.add(rows.targets if w is None else rows.targets * w[:, None])
        elif self.count.sums is None:  # a class's rows, counted once for PerClass too
            self.count.counts += class_tally(rows, self.k)[0]
        else:
            self.count.add_rows(n, w, rows.label)

    def merge(self, other: Baseline) -> Baseline:
        merged = Baseline(self.k, self.by_targets, self.sample_weighted)
        merged.count = self.count.merge(other.count)
        merged.rows = self.rows.merge(other.rows)
        if self.mass is not None and other.mass is not None:
            merged.mass = self.mass.merge(other.mass)
        return merged

    def frequencies(self) -> np.ndarray:
        """The (weighted) class frequencies, or mean target, of the rows added."""
        mass = self.mass.totals() if self.mass is not None else self.count.totals()
        return mass / float(self.rows.totals()[0])

    def finish(self, ends: Ends) -> dict[str, Any]:
        if ends.constant_loss is None or not float(self.rows.totals()[0]) > 0:
            return {"baseline_loss": math.nan}
        freq = self.frequencies()
        if np.all((freq == 0) | (freq == 1)):  # one class (every label constant): SPEC's 0
            return {"baseline_loss": 0.0}
        return {"baseline_loss": ends.constant_loss(freq) / ends.scale}


def against_baseline(mean_loss: float, baseline_loss: float) -> dict[str, float]:
    """``d2`` (scikit-learn's ``d2_log_loss_score``) and ``normalized_entropy``
    (TorchEval's ``BinaryNormalizedEntropy``): NaN when the baseline is 0 (one class)."""
    if not baseline_loss > 0 or math.isinf(baseline_loss):
        return {"d2": math.nan, "normalized_entropy": math.nan}
    ratio = mean_loss / baseline_loss
    return {"d2": 1.0 - ratio, "normalized_entropy": ratio}
