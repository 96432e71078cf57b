"""Float64 sums and counts that merge: one batch, many batches, threads, machines alike."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..losses.core import SampleLosses
from ..summary import ClassSummary, Facts, Summary

BLOCK_ROWS = 4096  # losses are summed in blocks of this many rows, counted from the first


@dataclass
class Accumulator:
    """Running totals over batches; ``merge`` adds two, ``finish`` gives the ``Summary``.

    Losses (nats) are summed in blocks of ``BLOCK_ROWS`` consecutive rows, and the block
    sums are combined by ``math.fsum``, which is exactly rounded and so independent of
    their order. The total of one stream is therefore the same to the last bit however
    it was cut into batches (file or pipe, any chunking or thread count), and merging
    in any order gives the same total.
    """

    n_classes: int
    weighted: bool = False
    multilabel: bool = False
    n: int = 0
    correct: int = 0
    clipped: int = 0
    renormalized: int = 0
    block_sums: list[float] = field(default_factory=list)
    pending: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    weight_sums: list[float] = field(default_factory=list)
    weight_pending: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    class_scale: npt.NDArray[np.float64] | None = None
    class_n: npt.NDArray[np.int64] = field(init=False)
    class_sums: ClassSums = field(init=False)
    class_correct: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.class_n = np.zeros(self.n_classes, dtype=np.int64)
        self.class_sums = ClassSums(self.n_classes)
        self.class_correct = np.zeros(self.n_classes, dtype=np.int64)

    def add(
        self,
        losses: SampleLosses,
        labels: npt.NDArray[np.int64],
        renormalized: int = 0,
        *,
        numerator: npt.NDArray[np.float64] | None = None,
        denominator: npt.NDArray[np.float64] | None = None,
        sample_weights: npt.NDArray[np.float64] | None = None,
        class_weights: npt.NDArray[np.float64] | None = None,
    ) -> None:
        """Add one batch's per-sample losses (nats) for ``labels`` (class indices).

        A weighted accumulator takes each row's ``numerator`` (its weighted loss) and
        ``denominator`` (its weight); the mean is then their sums' ratio. Per class, the
        figure is the mean of the rows' own losses, weighted by ``sample_weights``
        (a class weight is the same for every row of its class, so it leaves the mean
        alone); the class's sum is that sum times its weight in ``class_weights``: the
        rows' ``sum w l`` with the weights of the headline mean.
        """
        self._scale(class_weights)
        k = self.n_classes
        hit = losses.pred == labels
        self.n += int(labels.shape[0])
        terms = np.asarray(losses.loss if numerator is None else numerator, dtype=np.float64)
        self.pending, self.block_sums = _add_blocks(terms, self.pending, self.block_sums)
        if self.weighted:
            weights = np.ones(labels.shape[0]) if denominator is None else denominator
            self.weight_pending, self.weight_sums = _add_blocks(
                np.asarray(weights, dtype=np.float64), self.weight_pending, self.weight_sums
            )
        self.correct += int(np.count_nonzero(hit))
        self.clipped += losses.clipped
        self.renormalized += renormalized
        self.class_n += np.bincount(labels, minlength=k)
        own = np.asarray(losses.loss, dtype=np.float64)
        if sample_weights is not None:
            own = own * sample_weights
        self.class_sums.add(labels, own, sample_weights)
        self.class_correct += np.bincount(labels, weights=hit, minlength=k).astype(np.int64)

    def add_multilabel(
        self,
        losses: SampleLosses,
        targets: npt.NDArray[np.float64],
        per_label: npt.NDArray[np.float64],
        hits: npt.NDArray[np.bool_],
        *,
        numerator: npt.NDArray[np.float64],
        denominator: npt.NDArray[np.float64] | None = None,
        sample_weights: npt.NDArray[np.float64] | None = None,
        label_weights: npt.NDArray[np.float64] | None = None,
    ) -> None:
        """Add a multilabel batch: rows are right when every label is (``losses.pred``);
        each label's figures are its positives (``n``), mean loss over every row of its
        own binary losses (weighted by ``sample_weights``), their sum (times the label's
        weight in ``label_weights``, as PyTorch's ``BCEWithLogitsLoss(weight=)`` weighs
        each term) and accuracy."""
        self._scale(label_weights)
        self.n += int(targets.shape[0])
        self.pending, self.block_sums = _add_blocks(numerator, self.pending, self.block_sums)
        weights = np.ones(targets.shape[0]) if denominator is None else denominator
        if self.weighted:
            self.weight_pending, self.weight_sums = _add_blocks(
                np.asarray(weights, dtype=np.float64), self.weight_pending, self.weight_sums
            )
        self.correct += int(np.count_nonzero(losses.pred))
        self.clipped += losses.clipped
        self.class_n += np.count_nonzero(targets > 0.5, axis=0)
        row_weights = np.ones(targets.shape[0]) if sample_weights is None else sample_weights
        self.class_sums.add(per_label, None, row_weights)
        self.class_correct += np.count_nonzero(hits, axis=0)

    def _scale(self, weights: npt.NDArray[np.float64] | None) -> None:
        """Keep the class (label) weights that scale the per-class sums; one run has one."""
        if weights is not None and self.class_scale is None:
            self.class_scale = np.asarray(weights, dtype=np.float64).copy()

    def merge(self, other: Accumulator) -> Accumulator:
        """A new accumulator holding both; neither input changes."""
        if other.n_classes != self.n_classes or other.weighted != self.weighted:
            raise ValueError("cannot merge accumulators of different classes or weighting")
        merged = Accumulator(
            n_classes=self.n_classes,
            weighted=self.weighted,
            multilabel=self.multilabel,
            n=self.n + other.n,
            correct=self.correct + other.correct,
            clipped=self.clipped + other.clipped,
            renormalized=self.renormalized + other.renormalized,
            block_sums=[*self.block_sums, *_partial(self.pending), *other.block_sums],
            pending=other.pending.copy(),
            weight_sums=[
                *self.weight_sums,
                *_partial(self.weight_pending),
                *other.weight_sums,
            ],
            weight_pending=other.weight_pending.copy(),
            class_scale=self.class_scale if self.class_scale is not None else other.class_scale,
        )
        merged.class_n = self.class_n + other.class_n
        merged.class_sums = self.class_sums.merge(other.class_sums)
        merged.class_correct = self.class_correct + other.class_correct
        return merged

    @property
    def class_loss(self) -> npt.NDArray[np.float64]:
        """The (sample-weighted) loss in nats summed per class."""
        return self.class_sums.totals()[0]

    @property
    def class_sum_nats(self) -> npt.NDArray[np.float64]:
        """Each class's ``sum w l`` in nats with the weights of the headline mean: the
        sample-weighted sum times the class's weight."""
        loss = self.class_loss
        return loss if self.class_scale is None else loss * self.class_scale

    @property
    def sum_nats(self) -> float:
        """The total (weighted) loss in nats: the exactly rounded sum of the block sums."""
        return math.fsum([*self.block_sums, *_partial(self.pending)])

    @property
    def total_weight(self) -> float:
        """What the mean divides by: the rows, or the sum of their weights."""
        if not self.weighted:
            return float(self.n)
        return math.fsum([*self.weight_sums, *_partial(self.weight_pending)])

    def finish(self, facts: Facts, version: str) -> Summary:
        """The figures in ``facts.log_base``; ``n`` must be positive (callers check)."""
        scale = {"e": 1.0, "2": math.log(2.0), "10": math.log(10.0)}[facts.log_base]
        mean_nats = self.sum_nats / self.total_weight
        mean_loss = mean_nats / scale
        sum_loss = self.sum_nats / scale
        with np.errstate(invalid="ignore", divide="ignore"):
            class_loss, class_weight = self.class_sums.totals()
            class_mean = class_loss / class_weight / scale
            class_acc = self.class_correct / (self.n if self.multilabel else self.class_n)
        class_sum = self.class_sum_nats / scale
        per_class = tuple(
            ClassSummary(name, int(n), float(m), float(a), float(total))
            for name, n, m, a, total in zip(
                facts.classes, self.class_n, class_mean, class_acc, class_sum, strict=True
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
            ignored=facts.ignored,
            rules=dict(facts.rules),
            inputs=dict(facts.inputs),
            unmatched_labels=facts.unmatched_labels,
            reduction=facts.reduction,
            eps=facts.eps,
            reasons=dict(facts.reasons),
            warnings=facts.warnings,
        )


class ClassSums:
    """Per-class sums of losses and of weights, made as the totals are: over blocks of
    ``BLOCK_ROWS`` rows counted from the first, the block sums added in order. The same
    rows give the same bits however they were cut into batches.

    A row is a class index with its loss (``add(labels, terms, weights)``), or for
    multilabel a row of per-label losses (``add(matrix, None, weights)``), which adds
    ``weights @ matrix`` to every label.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.loss = np.zeros(k)
        self.weight = np.zeros(k)
        self._open: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []
        self._open_rows = 0

    def add(
        self,
        labels: np.ndarray,
        terms: npt.NDArray[np.float64] | None,
        weights: npt.NDArray[np.float64] | None,
    ) -> None:
        """Add rows: ``weights`` None counts each row once."""
        if weights is None:
            weights = np.ones(labels.shape[0])
        n, start = weights.shape[0], 0
        if self._open_rows:
            start = min(BLOCK_ROWS - self._open_rows, n)
            self._keep(labels[:start], None if terms is None else terms[:start], weights[:start])
            if self._open_rows < BLOCK_ROWS:
                return
            self._close()
        stop = start + (n - start) // BLOCK_ROWS * BLOCK_ROWS
        if terms is not None and stop > start:  # every whole block in one bincount
            blocks = (stop - start) // BLOCK_ROWS
            index = labels[start:stop] + self.k * (np.arange(stop - start) // BLOCK_ROWS)
            size = blocks * self.k
            losses = np.bincount(index, weights=terms[start:stop], minlength=size)
            weighed = np.bincount(index, weights=weights[start:stop], minlength=size)
            for b in range(blocks):  # added in order, block by block
                self.loss += losses[b * self.k : (b + 1) * self.k]
                self.weight += weighed[b * self.k : (b + 1) * self.k]
        else:
            for b in range(start, stop, BLOCK_ROWS):
                part = slice(b, b + BLOCK_ROWS)
                self._add_block(labels[part], None, weights[part])
        if stop < n:
            self._keep(labels[stop:], None if terms is None else terms[stop:], weights[stop:])

    def totals(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The sums of loss and of weight per class, the open block included."""
        loss, weight = self.loss.copy(), self.weight.copy()
        if self._open_rows:
            block_loss, block_weight = self._block(*self._joined())
            loss += block_loss
            weight += block_weight
        return loss, weight

    def merge(self, other: ClassSums) -> ClassSums:
        """Both, this one's open block closed first (as a partial block)."""
        merged = ClassSums(self.k)
        merged.loss, merged.weight = self.totals()
        merged.loss += other.loss
        merged.weight += other.weight
        merged._open = list(other._open)
        merged._open_rows = other._open_rows
        return merged

    def _keep(self, labels: np.ndarray, terms: np.ndarray | None, weights: np.ndarray) -> None:
        self._open.append((labels.copy(), None if terms is None else terms.copy(), weights.copy()))
        self._open_rows += weights.shape[0]

    def _joined(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        labels = np.concatenate([part[0] for part in self._open])
        terms = None if self._open[0][1] is None else np.concatenate([p[1] for p in self._open])  # type: ignore[misc]
        return labels, terms, np.concatenate([part[2] for part in self._open])

    def _close(self) -> None:
        self._add_block(*self._joined())
        self._open, self._open_rows = [], 0

    def _add_block(self, labels: np.ndarray, terms: np.ndarray | None, weights: np.ndarray) -> None:
        block_loss, block_weight = self._block(labels, terms, weights)
        self.loss += block_loss
        self.weight += block_weight

    def _block(
        self, labels: np.ndarray, terms: np.ndarray | None, weights: np.ndarray
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if terms is None:  # multilabel: a row of per-label losses
            return weights @ labels, np.full(self.k, weights.sum())
        loss = np.bincount(labels, weights=terms, minlength=self.k)
        weight = np.bincount(labels, weights=weights, minlength=self.k)
        return np.asarray(loss, dtype=np.float64), np.asarray(weight, dtype=np.float64)


def _add_blocks(
    loss: npt.NDArray[np.float64], pending: npt.NDArray[np.float64], sums: list[float]
) -> tuple[npt.NDArray[np.float64], list[float]]:
    """Close every block of ``BLOCK_ROWS`` this batch completes; return the rest."""
    if pending.size:  # complete the open block from the head of this batch
        head = BLOCK_ROWS - pending.size
        pending = np.concatenate([pending, loss[:head]])
        loss = loss[head:]
        if pending.size < BLOCK_ROWS:
            return pending, sums
        sums.extend(_partial(pending))
    whole = loss.shape[0] - loss.shape[0] % BLOCK_ROWS
    if whole:
        blocks = np.ascontiguousarray(loss[:whole]).reshape(-1, BLOCK_ROWS)
        sums.extend(blocks.sum(axis=1).tolist())
    return loss[whole:].copy(), sums


def _partial(pending: npt.NDArray[np.float64]) -> list[float]:
    """The sum of an unfinished block, computed as a whole block's would be."""
    return pending.reshape(1, -1).sum(axis=1).tolist() if pending.size else []


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
