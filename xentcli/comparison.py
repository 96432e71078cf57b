"""The frozen result of ``xent compare`` every output is made from: ``Comparison``.

Two ``Summary`` objects (BASE and NEW) and what changed between them: each headline
figure, each class's and each slice's mean loss, as ``new - base`` and relative to the
base; in paired mode also the figures of the per-row differences (``PairedFigures``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from .summary import SCHEMA, GateResult, SliceSummary, Summary

Mode = Literal["reports", "paired"]

FIGURES = ("loss", "mean_loss", "accuracy", "d2", "brier", "ece")
"""The headline figures ``delta`` and ``rel_delta`` hold (SPEC "xent compare")."""

LOWER_IS_BETTER = {
    "loss": True,
    "mean_loss": True,
    "accuracy": False,
    "d2": False,
    "brier": True,
    "ece": True,
}
"""Which way each figure improves: a lower loss, a higher accuracy."""


@dataclass(frozen=True)
class Change:
    """One figure in both runs: ``delta = new - base``, ``rel = delta / base`` (None
    where the base is 0 or a side has no figure, e.g. a class only one run saw)."""

    base: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.new is None:
            return None
        if self.base == self.new:  # inf - inf and equal figures: no change, never nan
            return 0.0
        return self.new - self.base

    @property
    def rel(self) -> float | None:
        delta = self.delta
        if delta is None or self.base is None or self.base == 0 or math.isnan(self.base):
            return None
        if delta == 0:
            return 0.0
        if math.isinf(self.base):
            return None
        return delta / abs(self.base)


@dataclass(frozen=True)
class ClassChange:
    """One class's mean loss in both runs (``n``: its rows in BASE and in NEW)."""

    name: str
    change: Change
    n_base: int | None
    n_new: int | None


@dataclass(frozen=True)
class SliceChange:
    """One slice's mean loss in both runs (``--by``)."""

    column: str
    value: Any
    change: Change
    n_base: int | None
    n_new: int | None


D_LOW, D_HIGH = -16, 6
"""The paired differences' histogram (``PairedFigures.d_counts``) bins ``d`` (nats) by
sign and binary exponent: ``2**e <= |d| < 2**(e+1)`` for ``D_LOW <= e < D_HIGH``."""
D_OCTAVES = D_HIGH - D_LOW
D_SLOTS = 2 * (D_OCTAVES + 2) + 1
"""Slots left to right: ``-d >= 2**D_HIGH`` (``-inf`` too), the negative octaves from
the largest, ``0 < -d < 2**D_LOW``, ``d = 0`` (slot ``D_OCTAVES + 2``), then the same
mirrored for positive ``d``."""


@dataclass(frozen=True)
class PairedFigures:
    """The figures of the per-row differences ``d = l_new - l_base`` (paired mode), in the
    report's log base: their (weighted) mean ``delta`` with its ``se`` and interval, the
    paired t-test and exact McNemar p-values, and how many rows each model won."""

    n: int
    delta: float
    se: float
    level: float
    method: str
    interval: tuple[float, float]
    replicates: int | None
    seed: int | None
    p_value_loss: float
    p_value_accuracy: float
    wins: int
    losses: int
    ties: int
    base_only: int
    new_only: int
    d_counts: tuple[int, ...] = ()
    """Rows per slot of ``d`` (nats) by sign and binary exponent, for the report's figure
    (``metrics.histograms.d_slots``); empty when not known."""
    d_nan: int = 0


@dataclass(frozen=True)
class Comparison:
    """BASE against NEW: both summaries, the changes, the paired figures (paired mode
    only), the gates. ``mismatch`` names the first signature field that differs when
    ``--allow-mismatch`` let it through."""

    mode: Mode
    signature: str
    base: Summary
    new: Summary
    figures: dict[str, Change]
    per_class: tuple[ClassChange, ...]
    slices: tuple[SliceChange, ...] | None
    paired: PairedFigures | None = None
    gates: tuple[GateResult, ...] = ()
    passed: bool = True
    mismatch: str | None = None
    warnings: tuple[str, ...] = ()
    xent_version: str = ""
    gate_classes: tuple[str | None, ...] = ()
    """Per gate, the class it reads (``--max-class-increase``), else None."""
    alpha: float | None = None
    """``--alpha``: the loss gates fail only on a significant rise (paired mode)."""
    gate_bounds: tuple[float | None, ...] = ()
    """Per gate, the one-sided lower confidence bound at level ``1 - alpha`` of what it
    reads, in the gate's own units, when ``--alpha`` judged it; else None."""

    @property
    def delta_loss(self) -> float | None:
        """The change of the headline loss: the paired mean of ``d`` when there is one
        (mean reduction), else ``new.loss - base.loss``."""
        if self.paired is not None and self.base.reduction == "mean":
            return self.paired.delta
        return self.figures["loss"].delta

    def _repr_html_(self) -> str:
        """The notebook's view (Jupyter): ``report.compare``, imported only when shown."""
        from .report.compare import to_html_fragment

        return to_html_fragment(self)

    def _repr_markdown_(self) -> str:
        """The notebook's view as Markdown: ``report.compare``, imported only when shown."""
        from .report.compare import to_markdown

        return to_markdown(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's keys (SPEC "xent compare"), in order."""
        delta: dict[str, Any] = {name: self.figures[name].delta for name in FIGURES}
        rel: dict[str, Any] = {name: self.figures[name].rel for name in FIGURES}
        if self.paired is not None:
            delta["loss"] = self.delta_loss
            if self.base.reduction == "mean":
                delta["mean_loss"] = self.paired.delta
        delta["per_class"] = [
            {
                "class": c.name,
                "base": c.change.base,
                "new": c.change.new,
                "delta": c.change.delta,
            }
            for c in self.per_class
        ]
        rel["per_class"] = [{"class": c.name, "delta": c.change.rel} for c in self.per_class]
        if self.slices is not None:
            delta["slices"] = [
                {
                    "column": s.column,
                    "value": s.value,
                    "base": s.change.base,
                    "new": s.change.new,
                    "delta": s.change.delta,
                }
                for s in self.slices
            ]
            rel["slices"] = [
                {"column": s.column, "value": s.value, "delta": s.change.rel} for s in self.slices
            ]
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "xent_version": self.xent_version,
            "mode": self.mode,
            "signature": self.signature,
            "mismatch": self.mismatch,
            "base": self.base.to_dict(),
            "new": self.new.to_dict(),
            "delta": delta,
            "rel_delta": rel,
        }
        if self.paired is not None:
            p = self.paired
            ci: dict[str, Any] = {
                "level": p.level,
                "method": p.method,
                "loss": list(p.interval),
                "se": p.se,
            }
            if p.replicates is not None:
                ci["replicates"] = p.replicates
                ci["seed"] = p.seed
            out["n_paired"] = p.n
            out["ci"] = ci
            out["p_value"] = {"loss": p.p_value_loss, "accuracy": p.p_value_accuracy}
            out["wins"], out["losses"], out["ties"] = p.wins, p.losses, p.ties
            out["discordant"] = {"base_only": p.base_only, "new_only": p.new_only}
        gates = []
        for i, g in enumerate(self.gates):
            entry: dict[str, Any] = {
                "name": g.name,
                "threshold": g.threshold,
                "value": g.value,
                "passed": g.passed,
            }
            cls = self.gate_classes[i] if i < len(self.gate_classes) else None
            if cls is not None:
                entry["class"] = cls
            bound = self.gate_bounds[i] if i < len(self.gate_bounds) else None
            if bound is not None:
                entry["alpha"] = self.alpha
                entry["lower_bound"] = bound
            gates.append(entry)
        out["gates"] = gates
        out["passed"] = self.passed
        out["warnings"] = list(self.warnings)
        return out


def compared(
    mode: Mode,
    base: Summary,
    new: Summary,
    *,
    paired: PairedFigures | None = None,
    mismatch: str | None = None,
    warnings: tuple[str, ...] = (),
    xent_version: str = "",
) -> Comparison:
    """The ``Comparison`` of two summaries (its gates not yet judged)."""
    figures, per_class, slices = changes(base, new)
    return Comparison(
        mode=mode,
        signature=base.signature,
        base=base,
        new=new,
        figures=figures,
        per_class=per_class,
        slices=slices,
        paired=paired,
        mismatch=mismatch,
        warnings=warnings,
        xent_version=xent_version,
    )


def changes(
    base: Summary, new: Summary
) -> tuple[dict[str, Change], tuple[ClassChange, ...], tuple[SliceChange, ...] | None]:
    """Every figure, class and slice of BASE next to NEW's: classes in BASE's order then
    those only NEW has; slices likewise, matched on (column, value)."""
    figures = {name: Change(_figure(base, name), _figure(new, name)) for name in FIGURES}
    per_class = tuple(
        ClassChange(name, *_mean_losses(b, n))
        for name, b, n in _matched(base.per_class, new.per_class, attrgetter("name"))
    )
    slices = None
    if base.slices is not None and new.slices is not None:
        slices = tuple(
            SliceChange(key[0], (b or n).value, *_mean_losses(b, n))
            for key, b, n in _matched(base.slices, new.slices, _slice_key)
        )
    return figures, per_class, slices


def _matched(
    base: Iterable[Any], new: Iterable[Any], key: Callable[[Any], Any]
) -> Iterator[tuple[Any, Any, Any]]:
    """(key, BASE's item or None, NEW's item or None): BASE's keys in order, then those
    only NEW has."""
    bases = {key(item): item for item in base}
    news = {key(item): item for item in new}
    for k in _union(bases, news):
        yield k, bases.get(k), news.get(k)


def _mean_losses(base: Any, new: Any) -> tuple[Change, int | None, int | None]:
    """A class's or slice's mean loss in both runs and its rows in each (None: absent)."""
    return (
        Change(_present(base, "mean_loss"), _present(new, "mean_loss")),
        _present(base, "n"),
        _present(new, "n"),
    )


def _figure(summary: Summary, name: str) -> float | None:
    value = getattr(summary, name)
    return None if value is None else float(value)


def _present(item: Any, attribute: str) -> Any:
    return None if item is None else getattr(item, attribute)


def _union(first: dict[Any, Any], second: dict[Any, Any]) -> Iterable[Any]:
    yield from first
    yield from (key for key in second if key not in first)


def _slice_key(item: SliceSummary) -> tuple[str, str]:
    """A slice's identity across two reports: its column and its value as JSON writes
    it, so a run's value and the same value read back from its report match."""
    import json

    return item.column, json.dumps(item.value, sort_keys=True, default=str)
