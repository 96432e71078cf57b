"""Whose rules apply: xent's, or a peer's under ``--compat`` (SPEC's table of peer rules).

``rules_for`` turns the options and what was inferred into ``Rules``: the kernels'
``Arithmetic`` plus the rules of the reduction, each described in words for the
report. ``check_options`` refuses an option the chosen peer does not have, and
options that do not fit the task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..options import Options
from .family import Arithmetic

KERAS_EPSILON = 1e-7  # keras.config.epsilon()
TORCH_LOG_FLOOR = 100.0  # torch.nn.BCELoss clamps log(p) and log(1 - p) at -100
PEER_NAMES = {"torch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn"}


@dataclass(frozen=True)
class Rules:
    """The conventions of one run.

    ``sums`` is what happens to probability rows that do not sum to 1: ``check``
    (renormalise within ``--sum-tol``, else an error), ``unchecked``,
    ``renormalize`` (silently) or ``warn``. ``sample_denominator`` divides
    sample-weighted sums by the weights (``weights``) or by the row count
    (``count``); ``soft_denominator`` does the same for class weights on soft targets,
    and PyTorch's binary losses (``BCELoss(weight=)`` divides by N).
    """

    compat: str
    arithmetic: Arithmetic
    sums: str
    sample_denominator: str
    soft_denominator: str

    @property
    def eps(self) -> float:
        return self.arithmetic.eps

    @property
    def default_path(self) -> bool:
        """xent's own rules: the exact float64 kernels of ``core`` apply."""
        return self.compat == "xent"

    def describe(self) -> dict[str, str]:
        """Each rule in words, for the report (SPEC: "the report states them")."""
        arith = self.arithmetic
        dtype = np.dtype(arith.dtype).name
        if arith.eps > 0:
            clip = f"probabilities clipped to [{arith.eps:.6g}, 1 - {arith.eps:.6g}]"
        else:
            clip = "no probability clipping"
        if arith.log_floor < np.inf:
            clip += f"; -log p capped at {arith.log_floor:g}"
        sums = {
            "check": "renormalised within --sum-tol and counted, else an error",
            "unchecked": "not checked",
            "renormalize": "every row divided by its sum",
            "warn": "not renormalised; a warning when they do not sum to 1",
        }[self.sums]
        sample = "sum(w l) / sum(w)" if self.sample_denominator == "weights" else "sum(w l) / N"
        soft = "sum_n sum_c w_c t_nc" if self.soft_denominator == "weights" else "N"
        classes = f"hard labels sum(w[y] l) / sum(w[y]); soft labels over {soft}"
        if self.soft_denominator == "count":
            classes = (
                "sum(w[y] l) / sum(w[y]) for CrossEntropyLoss; over N for soft labels "
                "and for BCELoss/BCEWithLogitsLoss"
            )
        if self.compat == "torch":
            sample = "none in PyTorch"
        elif self.compat in ("keras", "sklearn"):
            classes = f"none in {PEER_NAMES[self.compat]}"
        return {
            "clip": clip,
            "row sums": sums,
            "sample weights": sample,
            "class weights": classes,
            "arithmetic": dtype if self.compat != "xent" else "float64, exact forms",
        }


def rules_for(
    options: Options, task: str, dtype: np.dtype, eps: float, target: str = "hard"
) -> Rules:
    """The rules of ``options.compat`` for this task, target kind and input float type;
    ``eps`` is xent's resolved ``--eps``."""
    compat = options.compat
    native = dtype.type  # PyTorch and scikit-learn compute in the input's float type
    if compat == "torch":
        by_bce = task != "multiclass"
        # Smoothing and soft targets exist only in CrossEntropyLoss, whose log_softmax
        # renormalises the log-probabilities it is given.
        via_ce = not by_bce and (options.label_smoothing > 0 or target == "soft")
        arith = Arithmetic(
            dtype=native,
            log_floor=TORCH_LOG_FLOOR if by_bce else np.inf,
            logprobs_via_probs=by_bce,  # BCELoss takes probabilities
            logs_as_logits=via_ce,
            label_sum=True,  # BCELoss's sum adds every label's term
            exact=False,
        )
        return Rules(compat, arith, "unchecked", "weights", "count")
    if compat == "keras":
        arith = Arithmetic(
            dtype=np.float32,
            eps=KERAS_EPSILON,
            log_floor=TORCH_LOG_FLOOR if task != "multiclass" else np.inf,
            renormalize=task == "multiclass",
            # Multiclass log-probabilities go in as logits (from_logits=True, exact);
            # binary log p is not a logit, so it goes through exp.
            logprobs_via_probs=task != "multiclass",
            logprobs_as_logits=task == "multiclass",
            exact=False,
        )
        sums = "renormalize" if task == "multiclass" else "unchecked"
        return Rules(compat, arith, sums, "count", "weights")
    if compat == "sklearn":
        arith = Arithmetic(
            dtype=native,
            eps=float(np.finfo(native).eps),
            logits_via_probs=True,
            logprobs_via_probs=True,
            complement_first=True,
            exact=False,
        )
        return Rules(compat, arith, "warn", "weights", "weights")
    return Rules("xent", Arithmetic(eps=eps), "check", "weights", "weights")


def check_options(
    options: Options, task: str, input_kind: str, target: str, label_columns: bool = False
) -> None:
    """Refuse options that do not fit the task, or that the chosen peer lacks."""
    if options.pos_weight is not None and task == "multiclass":
        raise UsageError("--pos-weight is for binary and multilabel problems")
    if options.ignore_label is not None and label_columns:
        kind = "multilabel" if task == "multilabel" else target if target == "soft" else "one-hot"
        raise UsageError(
            f"--ignore-label is for a label column; these labels are {kind} columns, "
            "a column per class"
        )
    compat = options.compat
    if compat == "xent":
        return
    peer = PEER_NAMES[compat]
    preset = f"--compat {compat}"
    if options.eps != "auto":
        raise UsageError(f"{preset} clips as {peer} does; --eps cannot change it")
    if options.renormalize or options.sum_tol != Options.sum_tol:
        raise UsageError(f"{preset} treats row sums as {peer} does; drop --renormalize/--sum-tol")
    lacks = _lacking(options, task, input_kind, target)
    if lacks:
        option, why = lacks
        raise UsageError(f"{option} is not available under {preset}: {why}")


def _lacking(options: Options, task: str, input_kind: str, target: str) -> tuple[str, str] | None:
    """The first option given that the peer has no counterpart of, and why."""
    compat = options.compat
    smoothing = options.label_smoothing > 0
    bce = task != "multiclass"
    if compat == "torch":
        if options.weight_col is not None:
            return "--weight-col", "PyTorch's losses take no per-sample weights"
        if smoothing and bce:
            return "--label-smoothing", "BCELoss and BCEWithLogitsLoss have no label_smoothing"
        if options.ignore_label is not None and bce:
            return "--ignore-label", "BCELoss and BCEWithLogitsLoss have no ignore_index"
        if options.pos_weight is not None and input_kind != "logits":
            return "--pos-weight", "only BCEWithLogitsLoss has pos_weight; pass logits"
        return None
    if compat == "keras":
        if options.class_weights is not None:
            return "--class-weights", "Keras losses take no class weights"
        if options.pos_weight is not None:
            return "--pos-weight", "Keras losses have no pos_weight"
        if options.ignore_label is not None and bce:
            return "--ignore-label", "only SparseCategoricalCrossentropy has ignore_class"
        if options.ignore_label is not None and smoothing:
            return "--ignore-label", (
                "SparseCategoricalCrossentropy (ignore_class) has no label_smoothing"
            )
        return None
    # scikit-learn's log_loss
    if task == "multilabel":
        return "--task multilabel", "log_loss has no multilabel form"
    if target == "soft":
        return "soft labels", "log_loss takes one label per row"
    for name, given in (
        ("--class-weights", options.class_weights is not None),
        ("--pos-weight", options.pos_weight is not None),
        ("--label-smoothing", smoothing),
        ("--ignore-label", options.ignore_label is not None),
    ):
        if given:
            return name, "log_loss has no such parameter"
    return None
