"""``signature``: one line pinning every convention behind a report's numbers, so that
two reports can be compared or refused (SPEC "Outputs")."""

from __future__ import annotations

import hashlib

from ..losses.weights import parse_class_weights
from ..options import Options
from ..version import short_version


def signature(
    task: str,
    input_kind: str,
    options: Options,
    target: str = "hard",
    class_weights: dict[str, float] | None = None,
) -> str:
    """One line pinning every convention behind the numbers (SPEC "Outputs");
    ``class_weights`` are the weights by class name, when resolved."""
    parts: list[tuple[str, object]] = [
        ("xent", short_version()),
        ("task", task),
        ("input", input_kind),
        ("base", options.log_base),
        ("eps", options.eps),
        ("smooth", f"{options.label_smoothing:g}"),
        ("weights", _weights_part(options, class_weights)),
        ("reduction", options.reduction),
        ("compat", options.compat),
    ]
    # Conventions beyond SPEC's example are added only when they are not the default,
    # so that the default signature stays the one SPEC shows.
    if target != "hard":
        parts.append(("target", target))
    if options.ignore_label is not None:
        parts.append(("ignore", options.ignore_label))
    return "|".join(f"{k}:{v}" for k, v in parts)


def _weights_part(options: Options, resolved: dict[str, float] | None) -> str:
    """``none``, or the kinds of weight given: ``sample(w)``, ``class(cat=2;dog=1)``,
    ``pos(3)``; class weights longer than a line are pinned by a digest."""
    parts = []
    if options.weight_col is not None:
        parts.append(f"sample({options.weight_col})")
    if options.class_weights is not None:
        weights = resolved or parse_class_weights(options.class_weights)
        text = ";".join(f"{k}={_exact(v)}" for k, v in sorted(weights.items()))
        if len(text) > 60:
            text = "#" + hashlib.sha256(text.encode()).hexdigest()[:12]
        parts.append(f"class({text})")
    if options.pos_weight is not None:
        parts.append(f"pos({_exact(options.pos_weight)})")
    return "+".join(parts) or "none"


def _exact(value: float) -> str:
    """A number short where that is exact (``2``), else every digit (``0.30000000000000004``)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))
