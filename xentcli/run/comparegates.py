"""The gates of ``xent compare``, as data: each reads one change from a ``Comparison``.

SPEC "xent compare": ``--max-increase D`` (the mean loss rose by at most D),
``--max-rel-increase R`` (by at most R times the base's mean loss),
``--max-accuracy-drop D``, ``--max-class-increase D`` (no class's mean loss rose by more
than D). In paired mode ``--alpha A`` lets the two loss gates fail only on a significant
rise: when the one-sided lower confidence bound ``delta - z(1 - A) se`` is above the
threshold; the gate's ``value`` stays the point estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import NormalDist

from ..comparison import Comparison
from ..options import CompareOptions
from ..summary import GateResult
from .gates import distinguishing

Reading = tuple[float | None, str | None]
"""The change a gate compares (None: nothing to compare, which passes) and the class
it comes from (``--max-class-increase``)."""


def _mean_loss_rise(c: Comparison) -> Reading:
    if c.paired is not None:
        return c.paired.delta, None
    return c.figures["mean_loss"].delta, None


def _relative_rise(c: Comparison) -> Reading:
    rise, _ = _mean_loss_rise(c)
    base = c.figures["mean_loss"].base
    if rise is None or base is None:
        return None, None
    if rise == 0:
        return 0.0, None
    if base == 0:  # any rise from a perfect base is infinitely large
        return math.copysign(math.inf, rise), None
    return rise / abs(base), None


def _accuracy_drop(c: Comparison) -> Reading:
    change = c.figures["accuracy"]
    if change.delta is None:
        return None, None
    return -change.delta if change.delta else 0.0, None


def _class_rise(c: Comparison) -> Reading:
    """The largest rise of a class's mean loss (a NaN counts as largest: it fails),
    first in report order on ties; classes only one side has are not compared."""
    rises = [(cls.change.delta, cls.name) for cls in c.per_class if cls.change.delta is not None]
    if not rises:
        return None, None
    return max(rises, key=lambda rise: math.inf if math.isnan(rise[0]) else rise[0])


@dataclass(frozen=True)
class CompareGate:
    """``--{name} T`` passes when ``read(comparison) <= T``."""

    name: str
    figure: str
    read: Callable[[Comparison], Reading]
    significance: bool = False
    """Whether ``--alpha`` applies (the loss gates)."""

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


GATES: tuple[CompareGate, ...] = (
    CompareGate("max_increase", "mean loss rose by", _mean_loss_rise, significance=True),
    CompareGate("max_rel_increase", "mean loss rose by (relative)", _relative_rise, True),
    CompareGate("max_accuracy_drop", "accuracy fell by", _accuracy_drop),
    CompareGate("max_class_increase", "mean loss rose by", _class_rise),
)
_BY_NAME = {gate.name: gate for gate in GATES}


def apply_compare_gates(comparison: Comparison, options: CompareOptions) -> Comparison:
    """``comparison`` with its gates (one per gate option set, in ``GATES`` order)."""
    results: list[GateResult] = []
    classes: list[str | None] = []
    bounds: list[float | None] = []
    for gate in GATES:
        threshold = getattr(options, gate.name)
        if threshold is None:
            continue
        value, cls = gate.read(comparison)
        passed = value is None or (not math.isnan(value) and value <= threshold)
        bound = None
        if gate.significance and options.alpha is not None and comparison.paired is not None:
            bound = lower_bound(comparison, gate, options.alpha)
            if not passed:  # a rise beyond the threshold fails only when significant
                passed = not bound > threshold
        results.append(GateResult(gate.name, float(threshold), value, passed))
        classes.append(cls)
        bounds.append(bound)
    return replace(
        comparison,
        gates=tuple(results),
        gate_classes=tuple(classes),
        gate_bounds=tuple(bounds),
        alpha=options.alpha,
        passed=all(g.passed for g in results),
    )


def lower_bound(comparison: Comparison, gate: CompareGate, alpha: float) -> float:
    """The one-sided lower confidence bound at level ``1 - alpha`` of what ``gate``
    reads (paired mode): ``delta - z(1 - alpha) se``, for the relative gate over the
    base's mean loss. NaN when it cannot be had (fewer than two rows): not significant."""
    paired = comparison.paired
    assert paired is not None
    bound = paired.delta - NormalDist().inv_cdf(1 - alpha) * paired.se
    if gate.name == "max_rel_increase":
        base = comparison.figures["mean_loss"].base
        if not base:
            return math.nan
        return bound / abs(base)
    return bound


def failure_line(comparison: Comparison, index: int) -> str:
    """One line for the failed gate ``comparison.gates[index]``, with digits enough to
    show why: ``Gate failed: mean loss rose by 0.0123 > 0.01 (--max-increase)``."""
    result = comparison.gates[index]
    gate = _BY_NAME[result.name]
    figure = gate.figure
    cls = comparison.gate_classes[index] if index < len(comparison.gate_classes) else None
    if cls is not None:
        figure = f"class {cls} {figure}"
    if result.value is None or math.isnan(result.value):
        return f"Gate failed: {figure} nan, not <= {result.threshold!r} ({gate.option})"
    value, threshold = distinguishing(result.value, result.threshold)
    line = f"Gate failed: {figure} {value} > {threshold}"
    bound = comparison.gate_bounds[index] if index < len(comparison.gate_bounds) else None
    if bound is not None:
        shown, _ = distinguishing(bound, result.threshold)
        line += f", significantly (lower bound {shown} at alpha {comparison.alpha!r})"
    return f"{line} ({gate.option})"
