"""The rest of the cross-entropy family in pure NumPy: smoothed, soft and multilabel
targets, positive-class weights, and each peer's own arithmetic.

``core`` has the exact float64 kernels for the common case (hard labels, no
smoothing). The functions here take an ``Arithmetic``, which says how a peer
computes (its float type, clipping, log floor, renormalising), so that a
``--compat`` preset gives that peer's numbers to its own rounding. Like ``core``,
nothing here knows of files, options or terminals. Losses are in nats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from . import figures
from .core import SampleLosses, neg_log_softmax
from .figures import Figures
from .primitives import clip, log1mexp, peer_neg_log_softmax, sigmoid, softmax, softplus_both

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Arithmetic:
    """How the numbers are computed: xent's exact float64, or a peer's way.

    ``dtype`` is the float type of the arithmetic; ``eps`` clips probabilities to
    ``[eps, 1 - eps]`` (0: no clip); ``log_floor`` caps ``-log p`` (PyTorch's
    ``BCELoss`` clamps the log at -100); ``renormalize`` divides every probability
    row by its sum (Keras); ``logits_via_probs`` / ``logprobs_via_probs`` turn
    logits (softmax, sigmoid) or log-probabilities (exp) into probabilities first,
    for peers that take nothing else; ``logprobs_as_logits`` feeds log-probabilities to
    log-softmax (Keras ``from_logits``), ``logs_as_logits`` does so with ``log p`` of
    probabilities too (PyTorch's ``CrossEntropyLoss`` of ``log p``); ``label_sum`` makes
    a multilabel sum add every label's term (PyTorch), not each row's mean;
    ``complement_first`` takes ``log(1 - p)`` as written (scikit-learn), not ``log1p``;
    ``exact`` uses xent's cancellation-free forms.
    """

    dtype: type = np.float64
    eps: float = 0.0
    log_floor: float = np.inf
    renormalize: bool = False
    logits_via_probs: bool = False
    logprobs_via_probs: bool = False
    logprobs_as_logits: bool = False
    logs_as_logits: bool = False
    label_sum: bool = False
    complement_first: bool = False
    exact: bool = True


@dataclass(frozen=True)
class Weighted:
    """Per-sample losses with the terms of a weighted mean, and each row's figures.

    ``numerator`` is each row's class-weighted loss, ``denominator`` its share of
    the divisor; the mean is ``sum(numerator) / sum(denominator)`` (times sample
    weights, which the caller applies). ``brier``, ``confidence`` and ``outcome`` are
    the row's Brier term and what the reliability bins take (``figures.Figures``:
    ``(n,)``, or ``(n, L)`` confidences and outcomes for multilabel), from the scores
    in float64 whatever the arithmetic of the loss. ``per_label`` holds multilabel
    rows' losses per label and ``hits`` their per-label correctness.
    """

    losses: SampleLosses
    numerator: FloatArray
    denominator: FloatArray
    brier: FloatArray
    confidence: FloatArray
    outcome: npt.NDArray[np.bool_]
    per_label: FloatArray | None = None
    hits: npt.NDArray[np.bool_] | None = None
    renormalized: int = 0

    @classmethod
    def of(
        cls,
        losses: SampleLosses,
        numerator: FloatArray,
        denominator: FloatArray,
        row: Figures,
        *,
        per_label: FloatArray | None = None,
        hits: npt.NDArray[np.bool_] | None = None,
        renormalized: int = 0,
    ) -> Weighted:
        """The terms, with the row figures ``row`` spread into their fields."""
        return cls(
            losses,
            numerator,
            denominator,
            row.brier,
            row.confidence,
            row.outcome,
            per_label=per_label,
            hits=hits,
            renormalized=renormalized,
        )


def nll_matrix(
    scores: FloatArray, input_kind: str, arith: Arithmetic
) -> tuple[FloatArray, npt.NDArray[np.bool_] | None, int]:
    """``-log p`` for every class of every row (float64, computed in ``arith.dtype``),
    the mask of clipped entries (None when nothing is clipped), and how many rows
    were renormalised."""
    if arith.logs_as_logits and input_kind in ("probs", "logprobs"):
        x: np.ndarray = scores.astype(arith.dtype)
        if input_kind == "probs":
            with np.errstate(divide="ignore"):
                x = np.log(x)
        return peer_neg_log_softmax(x), None, 0
    if input_kind == "logprobs" and arith.logprobs_as_logits:
        return peer_neg_log_softmax(scores.astype(arith.dtype)), None, 0
    if input_kind == "logits" and not arith.logits_via_probs:
        if arith.exact:
            return neg_log_softmax(scores), None, 0
        return peer_neg_log_softmax(scores.astype(arith.dtype)), None, 0
    if input_kind == "logprobs" and not arith.logprobs_via_probs:
        return -scores.astype(arith.dtype).astype(np.float64), None, 0
    p = _probabilities(scores, input_kind, arith)
    renormalized = 0
    if arith.renormalize:
        sums = p.sum(axis=1, keepdims=True)
        renormalized = int(np.count_nonzero(np.abs(sums - 1) > np.sqrt(np.finfo(p.dtype).eps)))
        with np.errstate(invalid="ignore", divide="ignore"):
            p = p / sums
    p, moved = clip(p, arith.eps)
    with np.errstate(divide="ignore"):
        nll = -np.log(p)
    return np.minimum(nll, arith.log_floor).astype(np.float64), moved, renormalized


def multiclass(
    scores: FloatArray,
    input_kind: str,
    arith: Arithmetic,
    *,
    labels: IntArray | None = None,
    targets: FloatArray | None = None,
    smoothing: float = 0.0,
    class_weights: FloatArray | None = None,
    soft_denominator: str = "weights",
) -> Weighted:
    """Cross-entropy against hard ``labels`` or soft ``targets`` with smoothing
    ``(1 - E) t + E / K`` and class weights.

    Hard labels follow PyTorch's ``CrossEntropyLoss(weight=, label_smoothing=)``:
    the numerator is ``(1 - E) w[y] l[y] + E / K sum_c w_c l_c`` and the divisor
    ``w[y]``. Soft targets: ``-sum_c w_c t_c log p_c`` over ``sum_c w_c t_c`` when class
    weights are given (``soft_denominator="weights"``), else over the row count
    (``"count"``, PyTorch; and without class weights, as a plain mean is).

    >>> w = multiclass(np.array([[0.0, 0.0]]), "logits", Arithmetic(), labels=np.array([0]),
    ...                smoothing=0.2)
    >>> bool(np.isclose(w.losses.loss[0], np.log(2.0)))
    True
    """
    n, k = scores.shape
    nll, moved, renormalized = nll_matrix(scores, input_kind, arith)
    rows = np.arange(n)
    w = class_weights if class_weights is not None else np.ones(k)
    if targets is None:
        assert labels is not None
        picked = nll[rows, labels]
        loss = picked if smoothing == 0 else (1 - smoothing) * picked
        numerator = w[labels] * loss
        if smoothing:
            loss = loss + smoothing / k * nll.sum(axis=1)
            numerator = numerator + smoothing / k * (nll @ w)
        denominator = w[labels].astype(np.float64)
        entered = None if smoothing else labels
        p_true = np.exp(-picked)
    else:
        t = targets if smoothing == 0 else (1 - smoothing) * targets + smoothing / k
        terms = _times(t, nll)
        loss = terms.sum(axis=1)
        numerator = terms @ w
        weighted = class_weights is not None and soft_denominator == "weights"
        denominator = t @ w if weighted else np.ones(n)
        entered = None
        p_true = np.exp(-nll[rows, np.argmax(targets, axis=1)])
    clipped = _count_clipped(moved, entered, rows, targets)
    pred = np.argmax(scores, axis=1)
    losses = SampleLosses(loss=loss, pred=pred, p_true=p_true, clipped=clipped)
    if input_kind == "logits" and arith.exact and not arith.logits_via_probs:
        p = np.exp(-nll)  # nll is the exact float64 -log softmax: no second softmax
    else:
        p = figures.probabilities(scores, input_kind)
    row = figures.multiclass(p, pred, labels=labels, targets=targets)
    return Weighted.of(losses, numerator, denominator, row, renormalized=renormalized)


def binary_terms(
    scores: FloatArray, input_kind: str, arith: Arithmetic
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_] | None]:
    """``-log p`` and ``-log(1 - p)`` elementwise for positive-class scores of any shape,
    and the mask of clipped entries."""
    if input_kind == "logits" and not arith.logits_via_probs:
        pos, neg = softplus_both(scores.astype(arith.dtype))
        return pos.astype(np.float64), neg.astype(np.float64), None
    if input_kind == "logprobs" and not arith.logprobs_via_probs:
        lp: np.ndarray = scores.astype(arith.dtype)
        with np.errstate(divide="ignore"):
            return (-lp).astype(np.float64), (-log1mexp(lp.astype(np.float64))), None
    p = _probabilities(scores, input_kind, arith, binary=True)
    p, moved = clip(p, arith.eps)
    with np.errstate(divide="ignore"):
        pos = -np.log(p)
        # PyTorch's BCELoss (and Keras through it) takes log1p(-p); scikit-learn forms
        # 1 - p first and clips and logs that.
        neg = -np.log(1 - p) if arith.complement_first else -np.log1p(-p)
    floor = arith.log_floor
    pos, neg = np.minimum(pos, floor), np.minimum(neg, floor)
    return pos.astype(np.float64), neg.astype(np.float64), moved


def binary(
    scores: FloatArray,
    labels: IntArray,
    input_kind: str,
    arith: Arithmetic,
    *,
    smoothing: float = 0.0,
    pos_weight: float = 1.0,
    class_weights: FloatArray | None = None,
    class_denominator: str = "weights",
) -> Weighted:
    """``pos_weight t (-log p) + (1 - t)(-log(1 - p))`` with ``t = (1 - E) y + E / 2``;
    class weights ``w[y]`` weigh each row, over ``sum w[y]`` (``"weights"``, the hard-label
    rule) or over the row count (``"count"``: PyTorch's ``BCEWithLogitsLoss(weight=w[y])``).

    >>> w = binary(np.array([0.0]), np.array([1]), "logits", Arithmetic(), pos_weight=3.0)
    >>> bool(np.isclose(w.losses.loss[0], 3 * np.log(2.0)))
    True
    """
    n = scores.shape[0]
    loss, pos, neg, clipped = _bce(
        scores, labels.astype(np.float64), input_kind, arith, smoothing, pos_weight
    )
    w = class_weights if class_weights is not None else np.ones(2)
    numerator = w[labels] * loss
    denominator = w[labels].astype(np.float64) if class_denominator == "weights" else np.ones(n)
    p_true = np.exp(-np.where(labels == 1, pos, neg))
    pred = (_positive_probability(scores, input_kind) > 0.5).astype(np.int64)
    losses = SampleLosses(loss=loss, pred=pred, p_true=p_true, clipped=clipped)
    row = figures.binary(figures.probabilities(scores, input_kind, binary=True), labels)
    return Weighted.of(losses, numerator, denominator, row)


def multilabel(
    scores: FloatArray,
    targets: FloatArray,
    input_kind: str,
    arith: Arithmetic,
    *,
    smoothing: float = 0.0,
    pos_weight: float = 1.0,
    class_weights: FloatArray | None = None,
) -> Weighted:
    """Binary cross-entropy per label, averaged over the labels of each row; label
    weights multiply each label's term (PyTorch ``BCEWithLogitsLoss(weight=)``).

    >>> w = multilabel(np.zeros((1, 2)), np.array([[1.0, 0.0]]), "logits", Arithmetic())
    >>> bool(np.isclose(w.losses.loss[0], np.log(2.0)))
    True
    """
    n, k = scores.shape
    per_label, pos, neg, clipped = _bce(scores, targets, input_kind, arith, smoothing, pos_weight)
    loss = per_label.mean(axis=1)
    w = class_weights if class_weights is not None else np.ones(k)
    numerator = per_label @ w
    denominator = np.full(n, float(k))
    if not arith.label_sum:  # each row's mean over its labels
        numerator, denominator = numerator / k, np.ones(n)
    predicted = _positive_probability(scores, input_kind) > 0.5
    hits = predicted == (targets > 0.5)
    truth = np.where(targets > 0.5, pos, neg)
    p_true = np.exp(-truth.mean(axis=1))  # geometric mean of each label's probability
    pred = hits.all(axis=1).astype(np.int64)  # 1 where every label is right
    losses = SampleLosses(loss=loss, pred=pred, p_true=p_true, clipped=clipped)
    row = figures.multilabel(figures.probabilities(scores, input_kind, binary=True), targets)
    return Weighted.of(losses, numerator, denominator, row, per_label=per_label, hits=hits)


# -- helpers ---------------------------------------------------------------------------


def _bce(
    scores: FloatArray,
    y: FloatArray,
    input_kind: str,
    arith: Arithmetic,
    smoothing: float,
    pos_weight: float,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    """Elementwise ``pos_weight t (-log p) + (1 - t)(-log(1 - p))`` for targets ``y``
    (smoothed to ``t``), with the two terms and how many probabilities were clipped:
    what binary and multilabel losses share."""
    pos, neg, moved = binary_terms(scores, input_kind, arith)
    t = _target(y, smoothing, arith)
    loss = _times(pos_weight * t, pos) + _times(1 - t, neg)
    clipped = int(np.count_nonzero(moved)) if moved is not None else 0
    return loss, pos, neg, clipped


def _probabilities(
    scores: FloatArray, input_kind: str, arith: Arithmetic, binary: bool = False
) -> FloatArray:
    """Scores as probabilities in ``arith.dtype``: softmax or sigmoid of logits, exp of
    log-probabilities, probabilities as they are."""
    x: np.ndarray = scores.astype(arith.dtype)
    if input_kind == "logits":
        return sigmoid(x) if binary else softmax(x)
    if input_kind == "logprobs":
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(x)
    return x


def _target(y: FloatArray, smoothing: float, arith: Arithmetic) -> FloatArray:
    """The binary target ``(1 - E) y + E / 2``, formed in the peer's float type as the
    peer forms it (Keras rounds it to float32 before it multiplies)."""
    if not smoothing:
        return y
    t = (1 - smoothing) * y + smoothing / 2
    if arith.exact:
        return t
    typed = arith.dtype
    return (typed(1 - smoothing) * y.astype(typed) + typed(smoothing / 2)).astype(np.float64)


def _times(t: FloatArray, nll: FloatArray) -> FloatArray:
    """``t * nll`` with ``0 * inf = 0``: a class with no target mass costs nothing."""
    with np.errstate(invalid="ignore"):
        out = t * nll
    return np.where(t == 0, 0.0, out)


def _count_clipped(
    moved: npt.NDArray[np.bool_] | None,
    labels: IntArray | None,
    rows: IntArray,
    targets: FloatArray | None,
) -> int:
    """Clipped values that entered a loss: the true class's, or any with target mass."""
    if moved is None:
        return 0
    if labels is not None:
        return int(np.count_nonzero(moved[rows, labels]))
    if targets is not None:
        return int(np.count_nonzero(moved & (targets > 0)))
    return int(np.count_nonzero(moved))


def _positive_probability(scores: FloatArray, input_kind: str) -> FloatArray:
    """The positive class's probability where it decides the prediction (``p > 0.5``)."""
    if input_kind == "logits":
        return np.where(scores > 0, 1.0, 0.0)
    if input_kind == "logprobs":
        return np.exp(scores)
    return scores
