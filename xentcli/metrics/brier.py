"""The Brier score: the (sample-weighted) mean of each row's squared error."""

from __future__ import annotations

import math
from typing import Any

from .exact import ExactSums
from .rows import Ends, Rows
from .totals import WeightedCount


class Brier:
    """``sum w b / sum w`` of the rows' Brier terms ``b`` (the kernels make them)."""

    def __init__(self, sample_weighted: bool = False) -> None:
        self.sample_weighted = sample_weighted
        self.total = ExactSums()
        self.rows = WeightedCount(1, sample_weighted)

    def add(self, rows: Rows) -> None:
        if not len(rows):
            return
        w = rows.weights
        self.total.add(rows.brier if w is None else rows.brier * w)
        self.rows.add_rows(len(rows), w)

    def merge(self, other: Brier) -> Brier:
        merged = Brier(self.sample_weighted)
        merged.total = self.total.merge(other.total)
        merged.rows = self.rows.merge(other.rows)
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        weight = float(self.rows.totals()[0])
        return {"brier": float(self.total.totals()[0]) / weight if weight > 0 else math.nan}
