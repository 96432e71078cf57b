"""Quality gates as data: each a name, the figure it reads, a comparison and its words.

``GATES`` lists them in the order of the report's ``gates`` (SPEC "Gates and exit
codes", "Evaluation figures"); ``apply_gates`` judges those whose option is set, on the
exact figure, and ``failure_line`` says why one failed with digits enough to show it.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from ..options import Options
from ..summary import GateResult, SliceSummary, Summary

Comparison = Literal["<=", ">="]
Reading = tuple[float | None, SliceSummary | None]
"""What a gate compares (None: nothing to compare, which passes) and, for a slice
gate, the slice it comes from."""

_HOLDS: dict[Comparison, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
}
_BROKEN: dict[Comparison, str] = {"<=": ">", ">=": "<"}


@dataclass(frozen=True)
class Gate:
    """One gate: ``--{name}`` passes when ``read(summary) {compare} threshold``."""

    name: str
    """The ``Options`` field holding the threshold, and ``gates[].name``."""
    figure: str
    """How the failure line names the figure."""
    compare: Comparison
    read: Callable[[Summary, Options], Reading]

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def judge(self, summary: Summary, options: Options, threshold: float) -> GateResult:
        """The gate's result; a NaN figure fails, no figure at all (None) passes."""
        value, where = self.read(summary, options)
        passed = value is None or (not math.isnan(value) and _HOLDS[self.compare](value, threshold))
        return GateResult(self.name, threshold, value, passed, slice=where)


def _figure(attribute: str) -> Callable[[Summary, Options], Reading]:
    def read(summary: Summary, options: Options) -> Reading:
        return getattr(summary, attribute), None

    return read


def worst_slice(summary: Summary, options: Options) -> Reading:
    """The highest ``mean_loss`` among the slices of at least ``--min-slice-n`` rows (a
    NaN loss counts as highest: it fails), first in report order on ties; None when no
    slice is that large."""
    if summary.slices is None:  # the run made no slices (no --by): nothing vouches, it fails
        return math.nan, None
    large = [s for s in summary.slices if s.n >= options.min_slice_n]
    if not large:
        return None, None
    worst = max(large, key=lambda s: math.inf if math.isnan(s.mean_loss) else s.mean_loss)
    return worst.mean_loss, worst


GATES: tuple[Gate, ...] = (
    Gate("max_loss", "loss", "<=", _figure("loss")),
    Gate("min_accuracy", "accuracy", ">=", _figure("accuracy")),
    Gate("max_ece", "ece", "<=", _figure("ece")),
    Gate("min_d2", "d2", ">=", _figure("d2")),
    Gate("max_brier", "brier", "<=", _figure("brier")),
    Gate("max_slice_loss", "loss", "<=", worst_slice),
)
_BY_NAME = {gate.name: gate for gate in GATES}


def apply_gates(summary: Summary, options: Options) -> Summary:
    """``summary`` with its ``gates`` (one per gate option set, in ``GATES`` order) and
    ``passed`` set.

    >>> from xentcli.summary import Summary
    >>> s = Summary("0", "", "xent", "binary", "probs", "hard", "e", 1, 2, ("0", "1"),
    ...             0.5, 0.5, 0.5, 1.6, 1.0, (), 0, 0, 0)
    >>> [g.passed for g in apply_gates(s, Options(max_loss=0.35, min_accuracy=1)).gates]
    [False, True]
    """
    gates = tuple(
        gate.judge(summary, options, threshold)
        for gate in GATES
        if (threshold := getattr(options, gate.name)) is not None
    )
    return replace(summary, gates=gates, passed=all(g.passed for g in gates))


def failure_line(gate: GateResult) -> str:
    """One line for a failed gate, with digits enough to show why: ``loss 0.3500012 > 0.35``.

    >>> failure_line(GateResult("max_loss", 0.35, 0.35000123, False))
    'Gate failed: loss 0.3500012 > 0.35 (--max-loss)'
    >>> failure_line(GateResult("min_d2", 0.1, math.nan, False))
    'Gate failed: d2 nan, not >= 0.1 (--min-d2)'
    """
    spec = _BY_NAME[gate.name]
    figure, option = spec.figure, spec.option
    if gate.slice is not None:
        figure = f"slice {gate.slice.column}={_cell(gate.slice.value)} {figure}"
        option = f"{option}, {gate.slice.n} rows"
    if gate.value is None or math.isnan(gate.value):
        shown = "none" if gate.value is None else "nan"
        return f"Gate failed: {figure} {shown}, not {spec.compare} {gate.threshold!r} ({option})"
    value, threshold = distinguishing(gate.value, gate.threshold)
    return f"Gate failed: {figure} {value} {_BROKEN[spec.compare]} {threshold} ({option})"


def _cell(value: object) -> str:
    """A slice's value as the line shows it: text verbatim, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def distinguishing(value: float, threshold: float) -> tuple[str, str]:
    """Both numbers as text: the threshold as typed; the value rounded to one digit more
    than the fewest (at least 4) whose rounding still lies on its side of the threshold.

    >>> distinguishing(0.35000123, 0.35)
    ('0.3500012', '0.35')
    >>> distinguishing(2 / 3, 0.66667)
    ('0.6666667', '0.66667')
    """
    for digits in range(4, 18):
        shown = f"{value:.{digits}g}"
        if (float(shown) > threshold) == (value > threshold) and float(shown) != threshold:
            return f"{value:.{min(digits + 1, 17)}g}", repr(threshold)
    return repr(value), repr(threshold)
