"""The elementwise pieces every kernel shares, each written once: softplus, log(1 - e^x),
sigmoid, softmax, the peers' log-softmax and clipping.

Each works in its input's float type (xent's kernels pass float64, a ``--compat``
preset its peer's type) and silences the over/underflow warnings whose results are
the right answer (exp far below 0 is 0). The exact float64 log-softmax, which works in
cache-sized blocks, is ``core``'s (``top_pred_rest``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    return np.maximum(x, 0.0) + _softplus_tail(x)


def softplus_both(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``softplus(-x)`` and ``softplus(x)``, i.e. ``-log sigmoid(x)`` and
    ``-log(1 - sigmoid(x))``, sharing their one ``exp``."""
    tail = _softplus_tail(x)
    return np.maximum(-x, 0.0) + tail, np.maximum(x, 0.0) + tail


def _softplus_tail(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return np.log1p(np.exp(-np.abs(x)))


def log1mexp(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends (Maechler 2012)."""
    near = x > -np.log(2.0)
    out = np.empty_like(x)
    out[near] = np.log(-np.expm1(x[near]))
    out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow, as scipy's ``expit``."""
    out = np.empty_like(x)
    positive = x >= 0
    with np.errstate(over="ignore", under="ignore"):
        out[positive] = 1 / (1 + np.exp(-x[positive]))
        e = np.exp(x[~positive])
        out[~positive] = e / (1 + e)
    return out


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax along rows, shifted by each row's maximum."""
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def peer_neg_log_softmax(x: np.ndarray) -> npt.NDArray[np.float64]:
    """``-log_softmax(x)`` in ``x``'s float type, as the peers compute it: shift by the
    row's maximum, then subtract the log of the sum of exps (as float64)."""
    with np.errstate(under="ignore", invalid="ignore"):
        shifted = x - x.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return (lse - shifted).astype(np.float64)


def clip(p: np.ndarray, eps: float) -> tuple[np.ndarray, BoolArray | None]:
    """``p`` clipped to ``[eps, 1 - eps]`` in its own float type, and the mask of the
    values moved (None when ``eps <= 0``: nothing is clipped)."""
    if eps <= 0:
        return p, None
    low = p.dtype.type(eps)
    safe = np.clip(p, low, p.dtype.type(1) - low)
    return safe, safe != p
