"""Float64 sums and counts that merge: one batch, many batches, threads, machines alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .core import SampleLosses
from .summary import ClassSummary, Facts, Summary


@dataclass
class Accumulator:
    """Running totals over batches; ``merge`` adds two, ``finish`` gives the ``Summary``.

    Losses are summed in nats with Neumaier compensation across batches, so batch
    size and merge order move the total by no more than rounding.
    """

    n_classes: int
    n: int = 0
    loss_total: float = 0.0
    loss_compensation: float = 0.0
    correct: int = 0
    clipped: int = 0
    renormalized: int = 0
    class_n: npt.NDArray[np.int64] = field(init=False)
    class_loss: npt.NDArray[np.float64] = field(init=False)
    class_correct: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.class_n = np.zeros(self.n_classes, dtype=np.int64)
        self.class_loss = np.zeros(self.n_classes, dtype=np.float64)
        self.class_correct = np.zeros(self.n_classes, dtype=np.int64)

    def add(
        self, losses: SampleLosses, labels: npt.NDArray[np.int64], renormalized: int = 0
    ) -> None:
        """Add one batch's per-sample losses (nats) for ``labels`` (class indices)."""
        k = self.n_classes
        hit = losses.pred == labels
        self.n += int(labels.shape[0])
        self._add_loss(float(np.sum(losses.loss)), 0.0)
        self.correct += int(np.count_nonzero(hit))
        self.clipped += losses.clipped
        self.renormalized += renormalized
        self.class_n += np.bincount(labels, minlength=k)
        self.class_loss += np.bincount(labels, weights=losses.loss, minlength=k)
        self.class_correct += np.bincount(labels, weights=hit, minlength=k).astype(np.int64)

    def merge(self, other: Accumulator) -> Accumulator:
        """A new accumulator holding both; neither input changes."""
        if other.n_classes != self.n_classes:
            raise ValueError(f"cannot merge {self.n_classes} classes with {other.n_classes}")
        merged = Accumulator(
            n_classes=self.n_classes,
            n=self.n + other.n,
            loss_total=self.loss_total,
            loss_compensation=self.loss_compensation,
            correct=self.correct + other.correct,
            clipped=self.clipped + other.clipped,
            renormalized=self.renormalized + other.renormalized,
        )
        merged.class_n = self.class_n + other.class_n
        merged.class_loss = self.class_loss + other.class_loss
        merged.class_correct = self.class_correct + other.class_correct
        merged._add_loss(other.loss_total, other.loss_compensation)
        return merged

    @property
    def sum_nats(self) -> float:
        """The compensated total loss in nats."""
        total = self.loss_total + self.loss_compensation
        return total if math.isfinite(self.loss_compensation) else self.loss_total

    def _add_loss(self, value: float, compensation: float) -> None:
        total = self.loss_total + value
        if math.isfinite(total):
            if abs(self.loss_total) >= abs(value):
                self.loss_compensation += (self.loss_total - total) + value
            else:
                self.loss_compensation += (value - total) + self.loss_total
            self.loss_compensation += compensation
        self.loss_total = total

    def finish(self, facts: Facts, version: str) -> Summary:
        """The figures in ``facts.log_base``; ``n`` must be positive (callers check)."""
        scale = {"e": 1.0, "2": math.log(2.0), "10": math.log(10.0)}[facts.log_base]
        mean_nats = self.sum_nats / self.n
        mean_loss = mean_nats / scale
        sum_loss = self.sum_nats / scale
        with np.errstate(invalid="ignore", divide="ignore"):
            class_mean = self.class_loss / self.class_n / scale
            class_acc = self.class_correct / self.class_n
        per_class = tuple(
            ClassSummary(name, int(n), float(m), float(a))
            for name, n, m, a in zip(
                facts.classes, self.class_n, class_mean, class_acc, strict=True
            )
        )
        return Summary(
            xent_version=version,
            signature=facts.signature,
            compat=facts.compat,
            task=facts.task,
            input=facts.input,
            target=facts.target,
            log_base=facts.log_base,
            n_samples=self.n,
            n_classes=self.n_classes,
            classes=facts.classes,
            loss=mean_loss if facts.reduction == "mean" else sum_loss,
            mean_loss=mean_loss,
            sum_loss=sum_loss,
            perplexity=_exp(mean_nats),
            accuracy=self.correct / self.n,
            per_class=per_class,
            clipped=self.clipped,
            renormalized=self.renormalized,
            dropped=facts.dropped,
            inputs=dict(facts.inputs),
            unmatched_labels=facts.unmatched_labels,
            reduction=facts.reduction,
            eps=facts.eps,
            reasons=dict(facts.reasons),
            warnings=facts.warnings,
        )


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
