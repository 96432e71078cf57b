"""The frozen results every output is made from: ``Summary`` and its parts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: importing them costs start-up time
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

SCHEMA = 1


@dataclass(frozen=True)
class ClassSummary:
    """One class's figures: rows whose label is this class, their mean loss, accuracy and
    ``sum_loss``, the sum ``sum w l`` with the weights of the headline mean (for
    multilabel, a label's positives and its own binary losses over every row)."""

    name: str
    n: int
    mean_loss: float
    accuracy: float
    sum_loss: float = math.nan


@dataclass(frozen=True)
class GateResult:
    """One gate (``run/gates.py``): its name, threshold, the exact figure compared (None
    when there is none, e.g. no slice of ``--min-slice-n`` rows) and whether it passed;
    ``slice`` is the slice the figure comes from, for ``max_slice_loss``."""

    name: str
    threshold: float
    value: float | None
    passed: bool
    slice: SliceSummary | None = None


@dataclass(frozen=True)
class CalibrationBin:
    """One reliability bin ``lo <= confidence < hi`` (the last also holds 1): its rows
    (or (row, label) pairs), their (weighted) mean confidence and accuracy; an empty bin
    has ``n`` 0 and None for both."""

    lo: float
    hi: float
    n: int
    confidence: float | None
    accuracy: float | None


@dataclass(frozen=True)
class Interval:
    """``--ci``: the interval of the mean loss (in the report's base) and of accuracy,
    ``normal`` (Wilson for accuracy) or ``bootstrap`` (with its replicates and seed)."""

    level: float
    method: str
    loss: tuple[float, float]
    accuracy: tuple[float, float]
    replicates: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class SliceSummary:
    """One value of a ``--by`` column: its rows, mean loss, accuracy and ECE; ``value``
    is the cell as JSON has it (number, text, bool or None for null)."""

    column: str
    value: Any
    n: int
    mean_loss: float
    accuracy: float
    ece: float


@dataclass(frozen=True)
class WorstRow:
    """One of the ``--worst`` rows: its PREDS row, id (with ``--id-col``), label and
    predicted class names, loss in the report's base, and the true class's probability."""

    row: int
    id: Any
    label: str
    pred: str
    loss: float
    p_true: float


@dataclass(frozen=True)
class Histogram:
    """Row counts on fixed bins: ``counts[i]`` holds ``edges[i] <= x < edges[i+1]`` (the
    last regular bin of ``p_true`` also ``x = 1``); ``overflow`` the values at or above
    the last edge (the loss's bin for the tail), ``outside`` those no bin takes (NaN)."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    overflow: int = 0
    outside: int = 0


@dataclass(frozen=True)
class Histograms:
    """What the report's figures are drawn from (``metrics.histograms``): the rows'
    ``p_true`` on fixed bins of [0, 1] and their losses (report base) on fixed bins
    (``row_loss``: a key of its own, so ``grep '"loss"'`` finds the headline alone)."""

    p_true: Histogram
    row_loss: Histogram


@dataclass(frozen=True)
class Facts:
    """What is known of a run besides the sums: decisions, conventions, inputs."""

    task: str
    input: str
    classes: tuple[str, ...]
    log_base: str
    reduction: str
    eps: float
    signature: str
    target: str = "hard"
    compat: str = "xent"
    reasons: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str | None] = field(default_factory=dict)
    unmatched_labels: int | None = None
    dropped: int = 0
    ignored: int = 0
    rules: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """The figures of one run; losses in ``log_base``, ``loss`` is mean or sum by ``reduction``."""

    xent_version: str
    signature: str
    compat: str
    task: str
    input: str
    target: str
    log_base: str
    n_samples: int
    n_classes: int
    classes: tuple[str, ...]
    loss: float
    mean_loss: float
    sum_loss: float
    perplexity: float
    accuracy: float
    per_class: tuple[ClassSummary, ...]
    clipped: int
    renormalized: int
    dropped: int
    gates: tuple[GateResult, ...] = ()
    passed: bool = True
    inputs: dict[str, str | None] = field(default_factory=dict)
    unmatched_labels: int | None = None
    reduction: str = "mean"
    eps: float = 0.0
    reasons: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    ignored: int = 0
    rules: dict[str, str] = field(default_factory=dict)
    baseline_loss: float = math.nan
    d2: float = math.nan
    normalized_entropy: float = math.nan
    brier: float = math.nan
    ece: float = math.nan
    mce: float = math.nan
    bins: int = 15
    calibration: tuple[CalibrationBin, ...] = ()
    ci: Interval | None = None
    slices: tuple[SliceSummary, ...] | None = None
    worst: tuple[WorstRow, ...] | None = None
    histograms: Histograms | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's keys (SPEC "Outputs"), in order, values as Python objects."""
        return {
            "schema": SCHEMA,
            "xent_version": self.xent_version,
            "signature": self.signature,
            "compat": self.compat,
            "task": self.task,
            "input": self.input,
            "target": self.target,
            "log_base": self.log_base,
            "n_samples": self.n_samples,
            "n_classes": self.n_classes,
            "classes": list(self.classes),
            "loss": self.loss,
            "mean_loss": self.mean_loss,
            "sum_loss": self.sum_loss,
            "perplexity": self.perplexity,
            "accuracy": self.accuracy,
            "per_class": [
                {"class": c.name, "n": c.n, "mean_loss": c.mean_loss, "accuracy": c.accuracy}
                for c in self.per_class
            ],
            "clipped": self.clipped,
            "renormalized": self.renormalized,
            "dropped": self.dropped,
            "ignored": self.ignored,
            "unmatched_labels": self.unmatched_labels,
            "gates": [
                {"name": g.name, "threshold": g.threshold, "value": g.value, "passed": g.passed}
                for g in self.gates
            ],
            "passed": self.passed,
            "reduction": self.reduction,
            "eps": self.eps,
            "reasons": dict(self.reasons),
            "rules": dict(self.rules),
            "warnings": list(self.warnings),
            "inputs": dict(self.inputs),
            "baseline_loss": self.baseline_loss,
            "d2": self.d2,
            "normalized_entropy": self.normalized_entropy,
            "brier": self.brier,
            "ece": self.ece,
            "mce": self.mce,
            "bins": self.bins,
            "calibration": [
                {
                    "lo": b.lo,
                    "hi": b.hi,
                    "n": b.n,
                    "confidence": b.confidence,
                    "accuracy": b.accuracy,
                }
                for b in self.calibration
            ],
            **self._asked(),
        }

    def _asked(self) -> dict[str, Any]:
        """The sections present only when asked for (``ci``, ``slices``, ``worst``) or
        known (``histograms``: a report read back from an older xent has none)."""
        asked: dict[str, Any] = {}
        if self.ci is not None:
            ci: dict[str, Any] = {
                "level": self.ci.level,
                "method": self.ci.method,
                "loss": list(self.ci.loss),
                "accuracy": list(self.ci.accuracy),
            }
            if self.ci.replicates is not None:
                ci["replicates"] = self.ci.replicates
                ci["seed"] = self.ci.seed
            asked["ci"] = ci
        if self.slices is not None:
            asked["slices"] = [
                {
                    "column": s.column,
                    "value": s.value,
                    "n": s.n,
                    "mean_loss": s.mean_loss,
                    "accuracy": s.accuracy,
                    "ece": s.ece,
                }
                for s in self.slices
            ]
        if self.worst is not None:
            asked["worst"] = [
                {
                    "row": w.row,
                    **({"id": w.id} if w.id is not None else {}),
                    "label": w.label,
                    "pred": w.pred,
                    "loss": w.loss,
                    "p_true": w.p_true,
                }
                for w in self.worst
            ]
        if self.histograms is not None:
            asked["histograms"] = {
                name: {
                    "edges": list(h.edges),
                    "counts": list(h.counts),
                    "overflow": h.overflow,
                    "outside": h.outside,
                }
                for name, h in (
                    ("p_true", self.histograms.p_true),
                    ("row_loss", self.histograms.row_loss),
                )
            }
        return asked

    def _repr_html_(self) -> str:
        """The notebook's view (Jupyter): ``report.notebook``, imported only when shown."""
        from .report.notebook import to_html

        return to_html(self)

    def _repr_markdown_(self) -> str:
        """The notebook's view as Markdown: ``report.notebook``, imported only when shown."""
        from .report.notebook import to_markdown

        return to_markdown(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        """The ``Summary`` of a JSON report read back (``"inf"``/``"-inf"``/``"nan"``
        decoded in the numeric fields only: a class named "nan" stays a name).

        Raises ``ValueError`` naming the first key that is missing or of another schema.
        """
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, not {SCHEMA}: not an xent report")
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not an xent report of schema {SCHEMA}: {error!r}") from None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> Summary:
        ci = d.get("ci")
        return cls(
            xent_version=d["xent_version"],
            signature=d["signature"],
            compat=d["compat"],
            task=d["task"],
            input=d["input"],
            target=d["target"],
            log_base=d["log_base"],
            n_samples=d["n_samples"],
            n_classes=d["n_classes"],
            classes=tuple(d["classes"]),
            loss=_number(d["loss"]),
            mean_loss=_number(d["mean_loss"]),
            sum_loss=_number(d["sum_loss"]),
            perplexity=_number(d["perplexity"]),
            accuracy=_number(d["accuracy"]),
            per_class=tuple(
                ClassSummary(c["class"], c["n"], _number(c["mean_loss"]), _number(c["accuracy"]))
                for c in d["per_class"]
            ),
            clipped=d["clipped"],
            renormalized=d["renormalized"],
            dropped=d["dropped"],
            ignored=d.get("ignored", 0),
            unmatched_labels=d.get("unmatched_labels"),
            gates=tuple(
                GateResult(g["name"], _number(g["threshold"]), _number(g["value"]), g["passed"])
                for g in d.get("gates", [])
            ),
            passed=d.get("passed", True),
            reduction=d.get("reduction", "mean"),
            eps=_number(d.get("eps", 0.0)),
            reasons=dict(d.get("reasons", {})),
            rules=dict(d.get("rules", {})),
            warnings=tuple(d.get("warnings", ())),
            inputs=dict(d.get("inputs", {})),
            baseline_loss=_number(d["baseline_loss"]),
            d2=_number(d["d2"]),
            normalized_entropy=_number(d["normalized_entropy"]),
            brier=_number(d["brier"]),
            ece=_number(d["ece"]),
            mce=_number(d["mce"]),
            bins=d["bins"],
            calibration=tuple(
                CalibrationBin(
                    _number(b["lo"]),
                    _number(b["hi"]),
                    b["n"],
                    _number(b["confidence"]),
                    _number(b["accuracy"]),
                )
                for b in d["calibration"]
            ),
            ci=None
            if ci is None
            else Interval(
                level=_number(ci["level"]),
                method=ci["method"],
                loss=(_number(ci["loss"][0]), _number(ci["loss"][1])),
                accuracy=(_number(ci["accuracy"][0]), _number(ci["accuracy"][1])),
                replicates=ci.get("replicates"),
                seed=ci.get("seed"),
            ),
            slices=None
            if d.get("slices") is None
            else tuple(
                SliceSummary(
                    s["column"],
                    s["value"],
                    s["n"],
                    _number(s["mean_loss"]),
                    _number(s["accuracy"]),
                    _number(s["ece"]),
                )
                for s in d["slices"]
            ),
            worst=None
            if d.get("worst") is None
            else tuple(
                WorstRow(
                    w["row"],
                    w.get("id"),
                    w["label"],
                    w["pred"],
                    _number(w["loss"]),
                    _number(w["p_true"]),
                )
                for w in d["worst"]
            ),
            histograms=_histograms(d.get("histograms")),
        )


def _histograms(data: Mapping[str, Any] | None) -> Histograms | None:
    if data is None:
        return None

    def one(h: Mapping[str, Any]) -> Histogram:
        edges = tuple(_number(e) for e in h["edges"])
        counts = tuple(int(c) for c in h["counts"])
        if len(edges) != len(counts) + 1:
            raise ValueError(f"{len(edges)} histogram edges for {len(counts)} counts")
        return Histogram(edges, counts, int(h.get("overflow", 0)), int(h.get("outside", 0)))

    return Histograms(p_true=one(data["p_true"]), row_loss=one(data["row_loss"]))


def _number(value: Any) -> Any:
    """A JSON number back as a float: ``"inf"``, ``"-inf"``, ``"nan"`` decoded; None and
    integers kept."""
    if isinstance(value, str):
        if value not in ("inf", "-inf", "nan"):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    return float(value) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class SampleRows:
    """One batch's per-sample figures, for ``--per-sample``; ``loss`` in the report's base.

    ``label_text``/``pred_text`` replace the class names of ``labels``/``preds`` where a
    row has several (multilabel: the positive labels joined by ``|``); ``weights`` is
    each row's weight (sample weight times its class's weight) when weights are given.
    """

    key_name: str
    keys: pa.Array
    labels: npt.NDArray[np.int64]
    preds: npt.NDArray[np.int64]
    loss: npt.NDArray[np.float64]
    p_true: npt.NDArray[np.float64]
    classes: tuple[str, ...]
    label_text: pa.Array | None = None
    pred_text: pa.Array | None = None
    weights: npt.NDArray[np.float64] | None = None


class SampleSink(Protocol):
    """Anything that takes per-sample rows batch by batch (a file writer, a list)."""

    def write(self, rows: SampleRows) -> None: ...
