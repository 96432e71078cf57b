"""The one options object shared by the CLI and the Python API.

Field names are the long option names with ``-`` as ``_``, so ``--sum-tol`` is
``Options.sum_tol`` and ``xentcli.score(..., sum_tol=1e-4)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from .errors import UsageError

InputKind = Literal["auto", "probs", "logits", "logprobs", "percent"]
Task = Literal["auto", "binary", "multiclass", "multilabel"]
Compat = Literal["xent", "torch", "keras", "sklearn"]
Reduction = Literal["mean", "sum"]
LogBase = Literal["e", "2", "10"]
LabelType = Literal["auto", "names", "indices"]

INPUT_KINDS = ("auto", "probs", "logits", "logprobs", "percent")  # percent: probs x 100
TASKS = ("auto", "binary", "multiclass", "multilabel")
COMPATS = ("xent", "torch", "keras", "sklearn")
FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl", "npy", "npz")
REDUCTIONS = ("mean", "sum")
LOG_BASES = ("e", "2", "10")
LABEL_TYPES = ("auto", "names", "indices")
ENGINES = ("local", "dask")
Engine = Literal["local", "dask"]
DEFAULT_BATCH_ROWS = 65536


@dataclass(frozen=True)
class Options:
    """Every setting behind a score; see ``xent score --help`` for each one."""

    pred_cols: tuple[str, ...] | None = None
    label_col: str | None = None
    id_col: str | None = None
    input: InputKind = "auto"
    task: Task = "auto"
    positive: str | None = None
    label_type: LabelType = "auto"
    classes: tuple[str, ...] | None = None
    reduction: Reduction = "mean"
    log_base: LogBase = "e"
    eps: float | Literal["auto"] = "auto"
    sum_tol: float = 1e-3
    renormalize: bool = False
    weight_col: str | None = None
    class_weights: str | Mapping[str, float] | None = None
    pos_weight: float | None = None
    label_smoothing: float = 0.0
    ignore_label: str | int | None = None
    drop_invalid: bool = False
    compat: Compat = "xent"
    preds_format: str | None = None
    labels_format: str | None = None
    no_header: bool = False
    max_loss: float | None = None
    min_accuracy: float | None = None
    bins: int = 15
    ci: float | None = None
    bootstrap: int | None = None
    seed: int = 0
    by: tuple[str, ...] = ()
    max_slices: int = 1000
    worst: int | None = None
    histograms: bool = False
    max_ece: float | None = None
    min_d2: float | None = None
    max_brier: float | None = None
    max_slice_loss: float | None = None
    min_slice_n: int = 30
    batch_rows: int = DEFAULT_BATCH_ROWS
    jobs: int | None = None  # None: the machine's cores, at most 8 (run.engine.jobs_for)
    engine: Engine = "local"
    scheduler: str | None = None

    def __post_init__(self) -> None:
        _choice("input", self.input, INPUT_KINDS)
        _choice("task", self.task, TASKS)
        _choice("reduction", self.reduction, REDUCTIONS)
        _choice("log-base", self.log_base, LOG_BASES)
        _choice("compat", self.compat, COMPATS)
        _choice("label-type", self.label_type, LABEL_TYPES)
        for name in ("preds_format", "labels_format"):
            if getattr(self, name) is not None:
                _choice(name.replace("_", "-"), getattr(self, name), FORMATS)
        if not (isinstance(self.label_smoothing, int | float) and 0 <= self.label_smoothing < 1):
            raise UsageError(
                f"--label-smoothing must be a number in [0, 1), got {self.label_smoothing!r}"
            )
        if self.pos_weight is not None and not (
            isinstance(self.pos_weight, int | float)
            and math.isfinite(self.pos_weight)
            and self.pos_weight >= 0
        ):
            raise UsageError(f"--pos-weight must be a finite number >= 0, got {self.pos_weight!r}")
        if self.eps != "auto" and (
            not isinstance(self.eps, int | float) or not 0 <= self.eps < 0.5
        ):
            raise UsageError(f"--eps must be 'auto' or a number in [0, 0.5), got {self.eps!r}")
        if not (isinstance(self.sum_tol, int | float) and 0 <= self.sum_tol < 1):
            raise UsageError(f"--sum-tol must be a number in [0, 1), got {self.sum_tol!r}")
        for name in ("max_loss", "min_accuracy"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or math.isnan(value)):
                raise UsageError(f"--{name.replace('_', '-')} must be a number, got {value!r}")
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 1:
            raise UsageError(f"--min-accuracy must be in [0, 1], got {self.min_accuracy!r}")
        self._check_figures()
        if not isinstance(self.batch_rows, int) or self.batch_rows < 1:
            raise UsageError(f"batch_rows must be a positive integer, got {self.batch_rows!r}")
        if self.jobs is not None:
            _positive_int("jobs", self.jobs)
        _choice("engine", self.engine, ENGINES)
        if isinstance(self.pred_cols, str):
            object.__setattr__(self, "pred_cols", split_list(self.pred_cols))
        if self.classes is not None:
            classes = (
                split_list(self.classes, "--classes")
                if isinstance(self.classes, str)
                else tuple(str(c) for c in self.classes)
            )
            if not classes:
                raise UsageError("--classes is empty")
            if len(set(classes)) != len(classes):
                twice = next(c for c in classes if classes.count(c) > 1)
                raise UsageError(f"--classes names {twice!r} twice; each class once")
            if self.label_type == "names":
                raise UsageError(
                    "--classes gives the class of each label index, so the labels are "
                    "indices; it contradicts --label-type names"
                )
            object.__setattr__(self, "classes", classes)

    def _check_figures(self) -> None:
        """The evaluation figures' options (SPEC "Evaluation figures")."""
        if isinstance(self.by, str):
            object.__setattr__(self, "by", (self.by,))
        else:
            object.__setattr__(self, "by", tuple(self.by))
        for name in ("bins", "max_slices", "min_slice_n"):
            _positive_int(name, getattr(self, name))
        for name in ("bootstrap", "worst"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise UsageError(f"--seed must be an integer >= 0, got {self.seed!r}")
        if self.ci is not None and not (
            isinstance(self.ci, int | float) and not isinstance(self.ci, bool) and 0 < self.ci < 1
        ):
            raise UsageError(f"--ci must be a level in (0, 1) such as 0.95, got {self.ci!r}")
        if self.bootstrap is not None and self.ci is None:
            object.__setattr__(self, "ci", 0.95)
        for name in ("max_ece", "min_d2", "max_brier", "max_slice_loss"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or math.isnan(value)):
                raise UsageError(f"--{name.replace('_', '-')} must be a number, got {value!r}")
        if self.max_slice_loss is not None and not self.by:
            raise UsageError("--max-slice-loss gates the slices of --by; pass --by COLUMN")

    @property
    def log_base_value(self) -> float:
        """The base as a number: e, 2 or 10."""
        return {"e": math.e, "2": 2.0, "10": 10.0}[self.log_base]

    @classmethod
    def from_kwargs(cls, options: Options | None = None, **kwargs: Any) -> Options:
        """Options from keyword arguments, on top of ``options`` if given."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise UsageError(f"unknown option {unknown[0]!r} (known: {', '.join(sorted(known))})")
        base = options if options is not None else cls()
        return replace(base, **kwargs)


@dataclass(frozen=True)
class CompareOptions:
    """What ``xent compare`` adds to the options of ``score`` (SPEC "xent compare"): its
    gates on the change from BASE to NEW, ``--alpha`` and ``--allow-mismatch``."""

    max_increase: float | None = None
    max_rel_increase: float | None = None
    max_accuracy_drop: float | None = None
    max_class_increase: float | None = None
    alpha: float | None = None
    allow_mismatch: bool = False

    def __post_init__(self) -> None:
        for name in ("max_increase", "max_rel_increase", "max_accuracy_drop", "max_class_increase"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value)
            ):
                raise UsageError(f"--{name.replace('_', '-')} must be a number, got {value!r}")
        if self.alpha is not None and not (
            isinstance(self.alpha, int | float)
            and not isinstance(self.alpha, bool)
            and 0 < self.alpha < 1
        ):
            raise UsageError(f"--alpha must be a level in (0, 1) such as 0.05, got {self.alpha!r}")
        if self.alpha is not None and self.max_increase is None and self.max_rel_increase is None:
            raise UsageError(
                "--alpha makes a loss gate fail only on a significant rise; "
                "pass --max-increase or --max-rel-increase"
            )

    @property
    def gated(self) -> bool:
        """Whether any gate is asked for."""
        return any(
            getattr(self, name) is not None
            for name in (
                "max_increase",
                "max_rel_increase",
                "max_accuracy_drop",
                "max_class_increase",
            )
        )


def split_list(text: str, option: str = "--pred-cols") -> tuple[str, ...]:
    """``'a, b,c'`` -> ``('a', 'b', 'c')``."""
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    if not items:
        raise UsageError(f"{option} is empty: {text!r}")
    return items


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        option = "--" + name.replace("_", "-")
        raise UsageError(f"{option} must be a positive integer, got {value!r}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"--{name} must be one of {', '.join(allowed)}, got {value!r}")
