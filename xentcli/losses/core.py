"""Per-sample cross-entropy in float64 from NumPy arrays: the math and nothing else.

No pandas, pyarrow, click or rich here. Each public function checks shapes and
gives empty input a defined answer; a private kernel does the math on clean input.
Losses are in nats; callers convert to another log base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from . import figures
from .figures import Figures
from .primitives import clip, log1mexp, softplus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SampleLosses:
    """What the core gives per sample, plus how many probabilities it clipped.

    ``loss`` is in nats; ``pred`` the predicted class index (argmax, or
    ``p > 0.5`` for binary); ``p_true`` the model's probability of the true class.
    """

    loss: FloatArray
    pred: IntArray
    p_true: FloatArray
    clipped: int = 0


def row_logsumexp(x: npt.ArrayLike) -> FloatArray:
    """``log(sum(exp(x)))`` along each row, stable for any finite values.

    >>> bool(row_logsumexp([[1000.0, 1000.0]])[0] == 1000.0 + np.log(2.0))
    True
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-d array, got shape {a.shape}")
    if a.shape[0] == 0:
        return np.zeros(0)
    found = _top_pred_rest(a)
    return found.top + np.log1p(found.rest)


def neg_log_softmax(z: FloatArray) -> FloatArray:
    """``-log softmax(z)`` of every entry of float64 logits, exact for any finite logit:
    ``(top - z) + log1p(rest)``, as the one-column kernel computes it.

    >>> neg_log_softmax(np.array([[1000.0, 1000.0]])).tolist() == [[np.log(2.0)] * 2]
    True
    """
    found = _top_pred_rest(z)
    # (top - z) first: the true class's term is exact, and log1p(rest) is added
    # without cancelling against top.
    with np.errstate(over="ignore"):
        return (found.top[:, None] - z) + np.log1p(found.rest)[:, None]


def multiclass_from_logits(logits: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``-log softmax(z)[y]`` per row, by log-sum-exp, exact for any finite logit.

    >>> r = multiclass_from_logits([[1000.0, 1000.0], [0.0, -1e300]], [0, 0])
    >>> r.loss.tolist() == [float(np.log(2.0)), 0.0], r.pred.tolist()
    (True, [0, 0])
    """
    return scored("multiclass", "logits", logits, labels)[0]


def multiclass_from_logprobs(logprobs: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``-log p[y]`` from log-probabilities (rows already normalised)."""
    return scored("multiclass", "logprobs", logprobs, labels)[0]


def multiclass_from_probs(probs: npt.ArrayLike, labels: npt.ArrayLike, eps: float) -> SampleLosses:
    """``-log clip(p[y], eps, 1 - eps)`` per row; ``clipped`` counts the values moved.

    >>> bool(multiclass_from_probs([[0.91, 0.04, 0.05]], [0], eps=0.0).loss[0] == -np.log(0.91))
    True
    """
    return scored("multiclass", "probs", probs, labels, eps)[0]


def binary_from_logits(logits: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``softplus(-z)`` for positives and ``softplus(z)`` for negatives, never via ``p``.

    >>> binary_from_logits([1e300, 1e300], [1, 0]).loss.tolist()
    [0.0, 1e+300]
    """
    return scored("binary", "logits", logits, labels)[0]


def binary_from_probs(probs: npt.ArrayLike, labels: npt.ArrayLike, eps: float) -> SampleLosses:
    """``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]``.

    >>> round(float(binary_from_probs([0.07], [0], eps=0.0).loss[0]), 12)
    0.072570692835
    """
    return scored("binary", "probs", probs, labels, eps)[0]


def binary_from_logprobs(logprobs: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """Binary loss from ``log p`` of the positive class: ``-log p`` or ``-log(1 - p)``.

    >>> round(float(binary_from_logprobs([np.log(0.25)], [0]).loss[0]), 12)
    0.287682072452
    """
    return scored("binary", "logprobs", logprobs, labels)[0]


def scored(
    task: str,
    input_kind: str,
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    eps: float = 0.0,
) -> tuple[SampleLosses, Figures]:
    """The losses of a ``binary`` (one column of positive-class scores) or
    ``multiclass`` task with hard labels, and each row's evaluation figures, made from
    what the kernel already holds. ``eps`` clips probabilities (``probs`` only)."""
    if task == "binary":
        s, y = _check_binary(scores, labels)
        if s.shape[0] == 0:
            return _empty(), _no_figures()
        if input_kind == "logits":
            return _binary_logits(s, y)
        if input_kind == "logprobs":
            return _binary_logprobs(s, y)
        return _binary_probs(s, y, eps)
    s, y = _check(scores, labels)
    if s.shape[0] == 0:
        return _empty(), _no_figures()
    if input_kind == "logits":
        return _multiclass_logits(s, y)
    if input_kind == "logprobs":
        return _multiclass_logprobs(s, y)
    return _multiclass_probs(s, y, eps)


# -- kernels on clean input -------------------------------------------------------------


def _binary_logits(z: FloatArray, y: IntArray) -> tuple[SampleLosses, Figures]:
    positive = y == 1
    signed = np.where(positive, -z, z)
    loss = softplus(signed)
    p_true = np.exp(-loss)
    # (p - y)^2 is (1 - p_true)^2 whichever the label, and 1 - p_true is the other
    # class's probability: P(positive) for a negative row.
    other = 1.0 - p_true
    confidence = np.where(positive, p_true, other)
    brier = np.multiply(other, other, out=other)
    row = Figures(brier=brier, confidence=confidence, outcome=positive)
    return SampleLosses(loss=loss, pred=(z > 0).astype(np.int64), p_true=p_true), row


def _binary_probs(p: FloatArray, y: IntArray, eps: float) -> tuple[SampleLosses, Figures]:
    safe, clipped = _clip(p, eps)
    with np.errstate(divide="ignore"):  # log(0) is inf, the honest answer when eps == 0
        loss = np.where(y == 1, -np.log(safe), -np.log1p(-safe))
    p_true = np.where(y == 1, p, 1.0 - p)
    losses = SampleLosses(
        loss=loss, pred=(p > 0.5).astype(np.int64), p_true=p_true, clipped=clipped
    )
    return losses, figures.binary(p, y)


def _binary_logprobs(lp: FloatArray, y: IntArray) -> tuple[SampleLosses, Figures]:
    with np.errstate(divide="ignore"):  # log p = 0 for a negative is an infinite loss
        loss = np.where(y == 1, -lp, -log1mexp(lp))
    p = np.exp(lp)
    losses = SampleLosses(loss=loss, pred=(p > 0.5).astype(np.int64), p_true=np.exp(-loss))
    return losses, figures.binary(p, y)


def _multiclass_probs(p: FloatArray, y: IntArray, eps: float) -> tuple[SampleLosses, Figures]:
    rows = np.arange(p.shape[0])
    p_true = p[rows, y]
    safe, clipped = _clip(p_true, eps)
    with np.errstate(divide="ignore"):  # log(0) is inf, the honest answer when eps == 0
        loss = -np.log(safe)
    pred = np.argmax(p, axis=1)
    losses = SampleLosses(loss=loss, pred=pred, p_true=p_true, clipped=clipped)
    return losses, figures.multiclass(p, pred, labels=y)


def _multiclass_logprobs(lp: FloatArray, y: IntArray) -> tuple[SampleLosses, Figures]:
    rows = np.arange(lp.shape[0])
    picked = lp[rows, y]
    pred = np.argmax(lp, axis=1)
    losses = SampleLosses(loss=-picked, pred=pred, p_true=np.exp(picked))
    return losses, figures.multiclass(np.exp(lp), pred, labels=y)


def _multiclass_logits(z: FloatArray, y: IntArray) -> tuple[SampleLosses, Figures]:
    top, pred, rest, picked, squares = _top_pred_rest(z, y, with_figures=True)
    # loss = (top - z[y]) + log(sum exp(z - top)); the top term is exactly 1, so the
    # sum of the rest goes through log1p and losses far below eps stay exact.
    with np.errstate(over="ignore"):  # top - z[y] beyond float64 is an infinite loss
        loss = (top - picked) + np.log1p(rest)
    losses = SampleLosses(loss=loss, pred=pred, p_true=np.exp(-loss))
    # With e_c = exp(z_c - top) and d = 1 + rest = sum_c e_c, p_c = e_c / d and
    # d^2 * Brier = sum_{c != y} e_c^2 + (d - e_y)^2, where
    #   sum_{c != y} e_c^2 = squares + (1 - e_y^2)  (squares leaves out the top's 1)
    #   d - e_y = rest + (1 - e_y): the rest itself when the label is the top, so a
    #   confident right row keeps its digits.
    # In place, on arrays this function made: each step costs a pass, not an allocation.
    with np.errstate(over="ignore", under="ignore"):  # z_y - top below -inf: e_y is 0
        e_y = np.exp(picked - top)  # exactly 1 when the label is the top
    off_label = rest + (1.0 - e_y)
    off_label *= off_label  # (d - e_y)^2
    np.multiply(e_y, e_y, out=e_y)
    np.subtract(1.0, e_y, out=e_y)  # 1 - e_y^2
    brier = np.add(squares, e_y, out=squares)
    brier += off_label
    confidence = np.divide(1.0, np.add(rest, 1.0, out=off_label), out=off_label)  # 1 / d
    brier *= confidence
    brier *= confidence
    if z.shape[1] == 2:
        brier *= 0.5  # scikit-learn's scale_by_half="auto": equal to the binary form
    return losses, Figures(brier=brier, confidence=confidence, outcome=pred == y)


BLOCK_BYTES = 1 << 19  # a sub-block stays in cache: about 6500 rows of 10 float64
WIDE = 32  # above this many classes a sub-block is made row-major, where argmax is fast


class TopRest(NamedTuple):
    """Per row: the largest value ``top``, its first index ``pred``, ``rest`` =
    ``sum(exp(z - top))`` over the other entries, ``picked`` = ``z[y]``, and with
    ``with_figures`` ``squares`` = ``sum(exp(z - top)^2)`` over the entries other than
    the top."""

    top: FloatArray
    pred: IntArray
    rest: FloatArray
    picked: FloatArray
    squares: FloatArray


def _top_pred_rest(z: FloatArray, y: IntArray | None = None, with_figures: bool = False) -> TopRest:
    """:class:`TopRest` of every row, in cache-sized sub-blocks (``picked`` when ``y``
    is given, ``squares`` when ``with_figures``; else empty)."""
    n, k = z.shape
    top, pred, rest, picked = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    squares = np.empty(n if with_figures else 0)
    step = max(1, BLOCK_BYTES // (8 * k))
    column_major = z.strides[0] == z.itemsize
    rows = np.arange(min(n, step))
    shifted_buffer = np.empty((min(n, step), k), order="F" if column_major else "C")
    for start in range(0, n, step):
        stop = min(n, start + step)
        part = z[start:stop]
        if k > WIDE and column_major:
            part = np.ascontiguousarray(part)
        local = rows[: stop - start]
        block_top = part.max(axis=1, out=top[start:stop])
        block_pred = _first_argmax(part, block_top, column_major and k <= WIDE)
        pred[start:stop] = block_pred
        if y is not None:
            picked[start:stop] = part[local, y[start:stop]]
        shifted = shifted_buffer[: stop - start]
        if shifted.shape != part.shape or (k > WIDE and column_major):
            shifted = np.empty_like(part)
        # A value more than the float range below the top becomes -inf, and far below
        # the top exp is 0: both the right answer, so these warnings are silenced.
        with np.errstate(over="ignore", under="ignore"):
            np.subtract(part, block_top[:, None], out=shifted)
            np.exp(shifted, out=shifted)
        shifted[local, block_pred] = 0.0
        shifted.sum(axis=1, out=rest[start:stop])
        if with_figures:
            with np.errstate(under="ignore"):
                np.einsum("ij,ij->i", shifted, shifted, out=squares[start:stop])
    return TopRest(top, pred, rest, picked, squares)


def _first_argmax(part: FloatArray, top: FloatArray, by_column: bool) -> IntArray:
    """``argmax`` along rows; on a column-major block, a pass per column is much faster."""
    if not by_column:
        return np.argmax(part, axis=1)
    pred = np.empty(part.shape[0], dtype=np.int64)
    for j in range(part.shape[1] - 1, -1, -1):  # last to first: the first maximum wins
        np.copyto(pred, j, where=part[:, j] == top)
    return pred


def _clip(p: FloatArray, eps: float) -> tuple[FloatArray, int]:
    """``p`` clipped to ``[eps, 1 - eps]``, and how many values moved."""
    safe, moved = clip(p, eps)
    return safe, 0 if moved is None else int(np.count_nonzero(moved))


def _check(scores: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[FloatArray, IntArray]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-d (samples, classes), got shape {s.shape}")
    if y.shape != (s.shape[0],):
        raise ValueError(f"labels must have shape ({s.shape[0]},), got {y.shape}")
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= s.shape[1]):
        raise ValueError(f"labels must be class indices in 0..{s.shape[1] - 1}")
    return s, y


def _check_binary(scores: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[FloatArray, IntArray]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    y = np.asarray(labels)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError(
            f"binary scores and labels must be 1-d of one length: {s.shape}, {y.shape}"
        )
    y = y.astype(np.int64, copy=False)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("binary labels must be 0 or 1")
    return s, y


def _empty() -> SampleLosses:
    return SampleLosses(
        loss=np.zeros(0), pred=np.zeros(0, dtype=np.int64), p_true=np.zeros(0), clipped=0
    )


def _no_figures() -> Figures:
    return Figures(brier=np.zeros(0), confidence=np.zeros(0), outcome=np.zeros(0, dtype=bool))
