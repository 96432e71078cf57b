"""Per class (per label for multilabel): rows, mean loss, accuracy and loss sum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..summary import ClassSummary
from .exact import ExactSums
from .rows import Ends, Rows
from .shared import class_tally, loss_by_class
from .totals import WeightedCount


class PerClass:
    """A class's rows are those labelled with it; its mean loss is their own losses'
    mean weighted by the sample weights, its ``sum_loss`` that sum times the class's
    weight (``class_scale``), as the headline mean weighs it. A multilabel label's
    ``n`` counts its positives; its loss and accuracy are over every row."""

    def __init__(
        self,
        k: int,
        multilabel: bool = False,
        sample_weighted: bool = False,
        class_scale: np.ndarray | None = None,
    ) -> None:
        self.k, self.multilabel, self.sample_weighted = k, multilabel, sample_weighted
        self.class_scale = class_scale
        self.n = np.zeros(k, dtype=np.int64)
        self.loss = ExactSums(k)
        self.weight = WeightedCount(1 if multilabel else k, sample_weighted)
        self.right = WeightedCount(k, sample_weighted)

    def add(self, rows: Rows) -> None:
        n = len(rows)
        if not n:
            return
        w = rows.weights
        if self.multilabel:
            assert rows.per_label is not None and rows.targets is not None
            assert rows.label_hits is not None
            self.n += np.count_nonzero(rows.targets > 0.5, axis=0)
            self.loss.add(rows.per_label if w is None else rows.per_label * w[:, None])
            self.weight.add_rows(n, w)
            if w is None:
                self.right.counts += np.count_nonzero(rows.label_hits, axis=0)
            else:
                assert self.right.sums is not None
                self.right.sums.add(np.where(rows.label_hits, w[:, None], 0.0))
            return
        label = rows.label
        count, right = class_tally(rows, self.k)
        self.n += count
        if w is None:  # the headline's sum is the same buckets pooled (LossTotals)
            self.loss.absorb(loss_by_class(rows, self.k))
        else:
            self.loss.add(rows.loss * w, label)
        if self.sample_weighted:  # else a class's weight is its row count, ``n``
            self.weight.add_rows(n, w, label)
        if self.right.sums is None:
            self.right.counts += right
        else:
            self.right.add(w, rows.hit, label)

    def merge(self, other: PerClass) -> PerClass:
        merged = PerClass(self.k, self.multilabel, self.sample_weighted, self.class_scale)
        merged.n = self.n + other.n
        merged.loss = self.loss.merge(other.loss)
        merged.weight = self.weight.merge(other.weight)
        merged.right = self.right.merge(other.right)
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        loss = self.loss.totals()
        weight = self.weight.totals()
        if self.multilabel:
            weight = np.full(self.k, weight[0])
        elif not self.sample_weighted:
            weight = self.n.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = loss / weight / ends.scale
            accuracy = self.right.totals() / weight
        total = loss if self.class_scale is None else loss * self.class_scale
        return {
            "per_class": tuple(
                ClassSummary(name, int(n), float(m), float(a), float(s) / ends.scale)
                for name, n, m, a, s in zip(
                    ends.classes, self.n, mean, accuracy, total, strict=True
                )
            )
        }
