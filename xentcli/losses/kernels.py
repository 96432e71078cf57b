"""Which kernel computes a batch: ``core``'s exact float64 ones for xent's rules on
hard labels, ``family``'s for smoothing, soft and multilabel targets, positive
weights and the peers' arithmetic; and the terms of the weighted mean."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import core, family
from .conventions import Rules
from .figures import Figures


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
            return _weighted(
                core.scored("binary", input_kind, scores[:, 0], y, eps), y, class_weights
            )
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
        return _weighted(core.scored("multiclass", input_kind, scores, y, eps), y, class_weights)
    return family.multiclass(
        scores, input_kind, arith, labels=y, smoothing=smoothing, class_weights=class_weights
    )


def _weighted(
    scored: tuple[core.SampleLosses, Figures],
    y: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64] | None,
) -> family.Weighted:
    """The exact kernels' losses as a weighted mean's terms: ``w[y] l`` over ``w[y]``."""
    losses, row = scored
    if weights is None:
        return family.Weighted.of(losses, losses.loss, np.ones(losses.loss.shape[0]), row)
    w = weights[y]
    return family.Weighted.of(losses, w * losses.loss, w, row)
