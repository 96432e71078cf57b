"""Decide task, input kind and class mapping from the first rows, and say why.

Every decision is recorded with its reason for the report. How labels map to
classes is decided, and later batches are held to it, in ``decisions.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import from_numpy, numbers, strings
from .core import row_logsumexp
from .errors import InferenceError, UsageError
from .options import Options

PREFIXES = ("logprob_", "logit_", "logits_", "proba_", "probs_", "prob_", "pred_", "score_", "p_")
TRUE_TEXT = ("1", "1.0", "true")
FALSE_TEXT = ("0", "0.0", "false")
ZERO_ONE = strings(["0", "1"])
VECTOR_ITEM = re.compile(r"^(.*)\[(\d+)\]$")  # a list column's element: probs[3]
INTEGER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # numbers; _indices checks integrality


@dataclass(frozen=True)
class Inference:
    """What ``auto`` decided (or the options fixed), each with the reason."""

    task: str
    input: str
    eps: float
    reasons: dict[str, str] = field(default_factory=dict)


def class_names(columns: Sequence[str]) -> tuple[str, ...]:
    """Class names from prediction columns, less a prefix they all share (``p_cat`` -> ``cat``).

    A list column's vector, shown as ``probs[0]`` .. ``probs[K-1]``, has the classes
    ``0`` .. ``K-1``.

    >>> class_names(["p_cat", "p_dog"]), class_names(["cat", "p_dog"])
    (('cat', 'dog'), ('cat', 'p_dog'))
    >>> class_names(["v[0]", "v[1]"])
    ('0', '1')
    """
    vector = [VECTOR_ITEM.match(c) for c in columns]
    if columns and all(vector) and len({m.group(1) for m in vector if m}) == 1:
        return tuple(m.group(2) for m in vector if m)
    for prefix in PREFIXES:
        if all(c.startswith(prefix) and len(c) > len(prefix) for c in columns):
            stripped = tuple(c[len(prefix) :] for c in columns)
            if len(set(stripped)) == len(stripped):
                return stripped
    return tuple(columns)


def decide_task(n_columns: int, options: Options, columns: Sequence[str]) -> tuple[str, str]:
    """``binary`` for one prediction column, ``multiclass`` for several; with the reason."""
    if options.task == "multilabel":
        raise UsageError(
            "--task multilabel needs LABELS with a 0/1 column per class, named like the "
            "prediction columns; these labels are one column"
        )
    if options.task == "binary":
        if n_columns != 1:
            raise UsageError(
                f"--task binary needs one prediction column (the positive class), got "
                f"{n_columns}: {', '.join(columns[:5])}; several columns are scored as multiclass"
            )
        return "binary", "--task binary"
    if options.task == "multiclass":
        if n_columns < 2:
            raise UsageError(
                f"--task multiclass needs a prediction column per class, got one ({columns[0]}); "
                "one column is scored as binary"
            )
        return "multiclass", "--task multiclass"
    if n_columns == 1:
        return "binary", "one prediction column"
    return "multiclass", f"{n_columns} prediction columns, one label per row"


def decide_targets(targets: npt.NDArray[np.float64], options: Options) -> tuple[str, str, str]:
    """Task, target kind and reason for a column per class in LABELS (cells already
    numbers in [0, 1]): 0/1 with one 1 per row is one-hot (hard labels), other 0/1 is
    multilabel, anything else soft targets. ``--task multiclass`` reads the columns as
    soft targets whatever they hold (one-hot rows are soft targets too)."""
    if options.task == "binary":
        raise UsageError("--task binary needs one prediction column; LABELS has a column per class")
    zero_one = bool(np.all((targets == 0) | (targets == 1)))
    one_hot = zero_one and bool(np.all(targets.sum(axis=1) == 1))
    if options.task == "multilabel":
        return "multilabel", "hard", "--task multilabel"
    if options.task == "multiclass":
        return "multiclass", "soft", "--task multiclass: a target distribution per row"
    if one_hot:
        return "multiclass", "hard", "one-hot label columns: one class per row"
    if zero_one:
        return "multilabel", "hard", "0/1 label columns, some rows with more or fewer than one 1"
    return "multiclass", "soft", "label columns of fractions: a target distribution per row"


def decide_input(
    block: npt.NDArray[np.float64], task: str, options: Options, file: str, offset: int = 0
) -> tuple[str, str]:
    """``probs``, ``logits`` or ``logprobs`` from finite values by SPEC's rules, with the reason."""
    if options.input != "auto":
        return options.input, f"--input {options.input}"
    lo, hi = float(block.min()), float(block.max())
    if lo >= 0.0 and hi <= 1.0:
        if task == "binary":
            return "probs", "one column, values in [0, 1]"
        if task == "multilabel":
            return "probs", "multilabel, values in [0, 1]"
        sums = block.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1.0) > options.sum_tol)
        if off.size == 0:
            return "probs", "values in [0, 1], rows sum to 1"
        if options.renormalize:
            return "probs", "values in [0, 1], --renormalize given"
        if options.compat == "keras":
            return "probs", "values in [0, 1], renormalised as Keras does"
        raise InferenceError(
            f"values are all in [0, 1] but the row sums to {sums[off[0]]:.6g}, not 1: "
            "probabilities or logits?",
            file=file,
            row=int(offset + off[0]),
            hint="pass --input probs --renormalize, or --input logits"
            if options.compat == "xent"
            else "pass --input probs or --input logits",
        )
    if hi <= 0.0 and task == "multiclass":
        lse = row_logsumexp(block)
        if np.all(np.abs(lse) <= options.sum_tol):
            return "logprobs", "values <= 0, rows log-sum-exp to 0"
    return "logits", "values outside [0, 1]"


def resolve_eps(options: Options, dtype: np.dtype) -> float:
    """``--eps auto`` is the machine epsilon of the input's float type (scikit-learn's rule)."""
    if options.eps == "auto":
        return float(np.finfo(dtype).eps)
    return float(options.eps)


INTEGER_VALUED = r"^\s*(?:\+|(-))?(\d+)\.0*\s*$"  # "2.0", " +2.00 " are 2; "-100.0" is -100


def label_text(raw: pa.Array) -> pa.Array:
    """Labels as text, so that ``2``, ``"2"``, ``2.0``, ``"2.0"`` and a class named ``2``
    compare alike."""
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        if not pc.any(pc.match_substring(raw, ".")).as_py():
            return raw  # no "2.0" among them: spare the regex
        return pc.replace_substring_regex(raw, INTEGER_VALUED, r"\1\2")
    if pa.types.is_floating(raw.type):
        values = numbers(raw)
        if np.all(np.isfinite(values) & (values == np.floor(values))):
            return from_numpy(values.astype(np.int64)).cast(pa.string())
    return raw.cast(pa.string())
