"""Per-sample cross-entropy in float64 from NumPy arrays: the math and nothing else.

No pandas, pyarrow, click or rich here. Each public function checks shapes and
gives empty input a defined answer; a private kernel does the math on clean input.
Losses are in nats; callers convert to another log base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    top, _pred, rest, _picked = _top_pred_rest(a)
    return top + np.log1p(rest)


def multiclass_from_logits(logits: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``-log softmax(z)[y]`` per row, by log-sum-exp, exact for any finite logit.

    >>> r = multiclass_from_logits([[1000.0, 1000.0], [0.0, -1e300]], [0, 0])
    >>> r.loss.tolist() == [float(np.log(2.0)), 0.0], r.pred.tolist()
    (True, [0, 0])
    """
    z, y = _check(logits, labels)
    if z.shape[0] == 0:
        return _empty()
    return _multiclass_logits(z, y)


def multiclass_from_logprobs(logprobs: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``-log p[y]`` from log-probabilities (rows already normalised)."""
    lp, y = _check(logprobs, labels)
    if lp.shape[0] == 0:
        return _empty()
    rows = np.arange(lp.shape[0])
    picked = lp[rows, y]
    return SampleLosses(loss=-picked, pred=np.argmax(lp, axis=1), p_true=np.exp(picked))


def multiclass_from_probs(probs: npt.ArrayLike, labels: npt.ArrayLike, eps: float) -> SampleLosses:
    """``-log clip(p[y], eps, 1 - eps)`` per row; ``clipped`` counts the values moved.

    >>> bool(multiclass_from_probs([[0.91, 0.04, 0.05]], [0], eps=0.0).loss[0] == -np.log(0.91))
    True
    """
    p, y = _check(probs, labels)
    if p.shape[0] == 0:
        return _empty()
    rows = np.arange(p.shape[0])
    p_true = p[rows, y]
    safe, clipped = _clip(p_true, eps)
    with np.errstate(divide="ignore"):  # log(0) is inf, the honest answer when eps == 0
        loss = -np.log(safe)
    return SampleLosses(loss=loss, pred=np.argmax(p, axis=1), p_true=p_true, clipped=clipped)


def binary_from_logits(logits: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """``softplus(-z)`` for positives and ``softplus(z)`` for negatives, never via ``p``.

    >>> binary_from_logits([1e300, 1e300], [1, 0]).loss.tolist()
    [0.0, 1e+300]
    """
    z, y = _check_binary(logits, labels)
    if z.shape[0] == 0:
        return _empty()
    signed = np.where(y == 1, -z, z)
    loss = _softplus(signed)
    return SampleLosses(loss=loss, pred=(z > 0).astype(np.int64), p_true=np.exp(-loss))


def binary_from_probs(probs: npt.ArrayLike, labels: npt.ArrayLike, eps: float) -> SampleLosses:
    """``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]``.

    >>> round(float(binary_from_probs([0.07], [0], eps=0.0).loss[0]), 12)
    0.072570692835
    """
    p, y = _check_binary(probs, labels)
    if p.shape[0] == 0:
        return _empty()
    safe, clipped = _clip(p, eps)
    with np.errstate(divide="ignore"):  # log(0) is inf, the honest answer when eps == 0
        loss = np.where(y == 1, -np.log(safe), -np.log1p(-safe))
    p_true = np.where(y == 1, p, 1.0 - p)
    return SampleLosses(loss=loss, pred=(p > 0.5).astype(np.int64), p_true=p_true, clipped=clipped)


def binary_from_logprobs(logprobs: npt.ArrayLike, labels: npt.ArrayLike) -> SampleLosses:
    """Binary loss from ``log p`` of the positive class: ``-log p`` or ``-log(1 - p)``.

    >>> round(float(binary_from_logprobs([np.log(0.25)], [0]).loss[0]), 12)
    0.287682072452
    """
    lp, y = _check_binary(logprobs, labels)
    if lp.shape[0] == 0:
        return _empty()
    with np.errstate(divide="ignore"):  # log p = 0 for a negative is an infinite loss
        loss = np.where(y == 1, -lp, -_log1mexp(lp))
    p = np.exp(lp)
    return SampleLosses(loss=loss, pred=(p > 0.5).astype(np.int64), p_true=np.exp(-loss))


# -- kernels on clean input -------------------------------------------------------------


def _multiclass_logits(z: FloatArray, y: IntArray) -> SampleLosses:
    top, pred, rest, picked = _top_pred_rest(z, y)
    # loss = (top - z[y]) + log(sum exp(z - top)); the top term is exactly 1, so the
    # sum of the rest goes through log1p and losses far below eps stay exact.
    with np.errstate(over="ignore"):  # top - z[y] beyond float64 is an infinite loss
        loss = (top - picked) + np.log1p(rest)
    return SampleLosses(loss=loss, pred=pred, p_true=np.exp(-loss))


BLOCK_BYTES = 1 << 19  # a sub-block stays in cache: about 6500 rows of 10 float64
WIDE = 32  # above this many classes a sub-block is made row-major, where argmax is fast


def _top_pred_rest(
    z: FloatArray, y: IntArray | None = None
) -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
    """Per row: the largest value, its first index, ``sum(exp(z - top))`` over the other
    entries, and ``z[y]`` (when ``y`` is given), in cache-sized sub-blocks."""
    n, k = z.shape
    top, pred, rest, picked = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
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
    return top, pred, rest, picked


def _first_argmax(part: FloatArray, top: FloatArray, by_column: bool) -> IntArray:
    """``argmax`` along rows; on a column-major block, a pass per column is much faster."""
    if not by_column:
        return np.argmax(part, axis=1)
    pred = np.empty(part.shape[0], dtype=np.int64)
    for j in range(part.shape[1] - 1, -1, -1):  # last to first: the first maximum wins
        np.copyto(pred, j, where=part[:, j] == top)
    return pred


def _softplus(x: FloatArray) -> FloatArray:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _log1mexp(x: FloatArray) -> FloatArray:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (Maechler 2012)."""
    near = x > -np.log(2.0)
    out = np.empty_like(x)
    out[near] = np.log(-np.expm1(x[near]))
    out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def _clip(p: FloatArray, eps: float) -> tuple[FloatArray, int]:
    if eps <= 0:
        return p, 0
    safe = np.clip(p, eps, 1.0 - eps)
    return safe, int(np.count_nonzero(safe != p))


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
