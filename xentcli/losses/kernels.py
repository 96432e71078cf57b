"""Which kernel computes a batch: ``core``'s exact float64 ones for xent's rules on
hard labels, ``family``'s for smoothing, soft and multilabel targets, positive
weights and the peers' arithmetic; and the terms of the weighted mean."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import core, family
from .conventions import Rules


def batch_losses(
    task: str,
    target: str,
    input_kind: str,
    rules: Rules,
    scores: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64] | None,
    targets: npt.NDArray[np.float64] | None,
    *,
    smoothing: float,
    pos_weight: float | None,
    class_weights: npt.NDArray[np.float64] | None,
    eps: float,
) -> family.Weighted:
    """One batch's per-sample losses and weighted-mean terms under ``rules``: class
    indices ``y`` for hard labels, ``targets`` for soft and multilabel ones. Percentages
    arrive as probabilities (``check_scores`` divided them by 100)."""
    if input_kind == "percent":
        input_kind = "probs"
    arith = rules.arithmetic
    positive = pos_weight if pos_weight is not None else 1.0
    if task == "multilabel":
        assert targets is not None
        return family.multilabel(
            scores,
            targets,
            input_kind,
            arith,
            smoothing=smoothing,
            pos_weight=positive,
            class_weights=class_weights,
        )
    if task == "binary":
        assert y is not None
        if rules.default_path and not smoothing and pos_weight is None:
            return _weighted(compute("binary", input_kind, scores, y, eps), y, class_weights)
        return family.binary(
            scores[:, 0],
            y,
            input_kind,
            arith,
            smoothing=smoothing,
            pos_weight=positive,
            class_weights=class_weights,
            class_denominator=rules.soft_denominator,
        )
    if targets is not None and target == "soft":
        return family.multiclass(
            scores,
            input_kind,
            arith,
            targets=targets,
            smoothing=smoothing,
            class_weights=class_weights,
            soft_denominator=rules.soft_denominator,
        )
    assert y is not None
    if rules.default_path and not smoothing:
        return _weighted(compute("multiclass", input_kind, scores, y, eps), y, class_weights)
    return family.multiclass(
        scores, input_kind, arith, labels=y, smoothing=smoothing, class_weights=class_weights
    )


def compute(
    task: str,
    input_kind: str,
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    eps: float,
) -> core.SampleLosses:
    """Dispatch to the core kernel for this task and input kind."""
    if task == "binary":
        column = scores[:, 0]
        if input_kind == "logits":
            return core.binary_from_logits(column, labels)
        if input_kind == "logprobs":
            return core.binary_from_logprobs(column, labels)
        return core.binary_from_probs(column, labels, eps)
    if input_kind == "logits":
        return core.multiclass_from_logits(scores, labels)
    if input_kind == "logprobs":
        return core.multiclass_from_logprobs(scores, labels)
    return core.multiclass_from_probs(scores, labels, eps)


def _weighted(
    losses: core.SampleLosses,
    y: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64] | None,
) -> family.Weighted:
    """The exact kernels' losses as a weighted mean's terms: ``w[y] l`` over ``w[y]``."""
    if weights is None:
        return family.Weighted(losses, losses.loss, np.ones(losses.loss.shape[0]))
    w = weights[y]
    return family.Weighted(losses, w * losses.loss, w)
