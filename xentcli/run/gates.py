"""Quality gates: compare exact figures with thresholds, and say why one failed."""

from __future__ import annotations

import math
from dataclasses import replace

from ..summary import GateResult, Summary


def apply_gates(summary: Summary, max_loss: float | None, min_accuracy: float | None) -> Summary:
    """``summary`` with its ``gates`` and ``passed`` set; a NaN figure fails every gate.

    >>> from xentcli.summary import Summary
    >>> s = Summary("0", "", "xent", "binary", "probs", "hard", "e", 1, 2, ("0", "1"),
    ...             0.5, 0.5, 0.5, 1.6, 1.0, (), 0, 0, 0)
    >>> apply_gates(s, max_loss=0.35, min_accuracy=None).passed
    False
    """
    gates = []
    if max_loss is not None:
        value = summary.loss
        gates.append(
            GateResult("max_loss", max_loss, value, not math.isnan(value) and value <= max_loss)
        )
    if min_accuracy is not None:
        value = summary.accuracy
        gates.append(
            GateResult(
                "min_accuracy", min_accuracy, value, not math.isnan(value) and value >= min_accuracy
            )
        )
    return replace(summary, gates=tuple(gates), passed=all(g.passed for g in gates))


def failure_line(gate: GateResult) -> str:
    """One line for a failed gate, with digits enough to show why: ``loss 0.3500012 > 0.35``.

    >>> failure_line(GateResult("max_loss", 0.35, 0.35000123, False))
    'Gate failed: loss 0.3500012 > 0.35 (--max-loss)'
    """
    if gate.name == "max_loss":
        figure, op, option = "loss", ">", "--max-loss"
    else:
        figure, op, option = "accuracy", "<", "--min-accuracy"
    value, threshold = distinguishing(gate.value, gate.threshold)
    return f"Gate failed: {figure} {value} {op} {threshold} ({option})"


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
