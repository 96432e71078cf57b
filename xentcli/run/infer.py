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

from ..errors import InferenceError, UsageError
from ..io.arrays import compute as pc
from ..io.arrays import from_numpy, mask, numbers, strings
from ..losses.core import row_logsumexp
from ..options import Options

# Prefixes stripped from prediction columns to give the class names (SPEC "Inputs"); a
# longer prefix comes before a shorter one it starts with (``logprobs_`` before ``logp_``).
PREFIXES = (
    "logprobs_",
    "logprob_",
    "log_p_",
    "logp_",
    "logits_",
    "logit_",
    "probas_",
    "proba_",
    "probs_",
    "prob_",
    "pred_",
    "score_",
    "class_",
    "p_",
)
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
    >>> class_names(["v[0]", "v[1]"]), class_names(["logp_cat", "logp_dog"])
    (('0', '1'), ('cat', 'dog'))
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
    numbers in [0, 1]): 0/1 with at most one 1 per row is one-hot (hard labels; a row of
    zeros is a missing label, which the checks name, not a sign of multilabel), 0/1 with
    two or more 1s in some row is multilabel, anything else soft targets. ``--task
    multiclass`` reads the columns as soft targets whatever they hold (one-hot rows are
    soft targets too)."""
    if options.task == "binary":
        raise UsageError("--task binary needs one prediction column; LABELS has a column per class")
    if options.task == "multilabel":
        return "multilabel", "hard", "--task multilabel"
    if options.task == "multiclass":
        return "multiclass", "soft", "--task multiclass: a target distribution per row"
    zero_one = bool(np.all((targets == 0) | (targets == 1)))
    ones = targets.sum(axis=1)
    if zero_one and bool(np.any(ones == 1)) and bool(np.all(ones <= 1)):
        empty = int(np.count_nonzero(ones == 0))
        reason = "one-hot label columns: one class per row"
        if empty:
            reason += f" ({empty} of the first {ones.size} rows all zeros: missing labels)"
        return "multiclass", "hard", reason
    if zero_one:
        return "multilabel", "hard", "0/1 label columns, some rows with more or fewer than one 1"
    return "multiclass", "soft", "label columns of fractions: a target distribution per row"


DECISION_ROWS = 10_000  # "the first rows" that decide: at least this many, or the whole input
MOST = 0.99  # this share of the first rows of one kind decides it; the others are invalid rows
HALF = 0.5  # a share above HALF and below MOST decides nothing: ambiguous

_AFTER_PREFIX = r"(?=$|[_\-. \[\d])"
NAMED_KINDS = (
    ("logprobs", re.compile(r"^(?:log_?probs?|log_?p)" + _AFTER_PREFIX)),
    ("logits", re.compile(r"^logits?" + _AFTER_PREFIX)),
    ("probs", re.compile(r"^(?:p_|(?:probs?|probas?|probabilit(?:y|ies))" + _AFTER_PREFIX + ")")),
)
KIND_WORDS = {"probs": "probabilities", "logits": "logits", "logprobs": "log-probabilities"}


def named_kind(columns: Sequence[str]) -> str | None:
    """The input kind that the prediction columns' names state (``logit_*``, ``logprob_*``,
    ``logp_*``, ``p_*``, ``prob_*``), when every column states the same one.

    >>> named_kind(["logprob_1"]), named_kind(["p_cat", "p_dog"]), named_kind(["logits[0]"])
    ('logprobs', 'probs', 'logits')
    >>> named_kind(["p_cat", "logit_dog"]), named_kind(["score"]), named_kind(["logitech"])
    (None, None, None)
    """
    kinds = {
        next((kind for kind, pattern in NAMED_KINDS if pattern.match(c.lower())), None)
        for c in columns
    }
    return kinds.pop() if len(kinds) == 1 else None


def decide_input(
    block: npt.NDArray[np.float64],
    task: str,
    options: Options,
    file: str,
    rows: npt.NDArray[np.int64] | int = 0,
    columns: Sequence[str] = (),
) -> tuple[str, str]:
    """``probs``, ``logits``, ``logprobs`` or ``percent`` for the first rows' finite values
    (``rows`` their row numbers, or the first one's), with the reason: ``--input``, else
    what the columns' names say (held to the values), else the values by SPEC's rules.
    At least 99% of the rows of one kind decide it, and the others are invalid rows that
    the checks name (or ``--drop-invalid`` drops); a share between 50% and 99% is an
    error naming ``--input``."""
    if options.input != "auto":
        if options.input == "percent":
            return "percent", "--input percent: probabilities x 100, divided by 100"
        return options.input, f"--input {options.input}"
    if isinstance(rows, int):
        rows = rows + np.arange(block.shape[0], dtype=np.int64)
    if task == "multiclass" and options.pred_cols is None and columns:
        _no_stray_column(block, options, file, columns)
    named = named_kind(columns)
    if named is None:
        return _from_values(block, task, options, file, rows, columns)
    kind, reason = _as_named(named, block, options, file, rows, columns)
    try:
        by_values: tuple[str, str] | None = _from_values(block, task, options, file, rows)
    except InferenceError:
        by_values = None  # the values alone are ambiguous: the names settle it
    if by_values is not None and by_values[0] == kind:
        return by_values  # the values say so too, and say why
    return kind, reason


def _no_stray_column(
    block: npt.NDArray[np.float64], options: Options, file: str, columns: Sequence[str]
) -> None:
    """A column the default rule took that is not a class's scores (``temperature``,
    ``age`` beside ``cat, dog, fox``) turns probability rows into "logits": when the rows
    are not probability rows but leaving out one column makes them so (values in [0, 1]
    summing to 1 on 99% of the first rows), that column is named and refused."""
    n, k = block.shape
    if k < 3 or k > 64 or n == 0:
        return
    in_unit = (block >= 0) & (block <= 1)
    sums = block.sum(axis=1)

    def probability_rows(keep: npt.NDArray[np.bool_], total: npt.NDArray[np.float64]) -> float:
        return float(np.mean(keep & (np.abs(total - 1.0) <= options.sum_tol)))

    if probability_rows(in_unit.all(axis=1), sums) >= MOST:
        return
    outside = (~in_unit).sum(axis=1)
    strays = [
        j
        for j in range(k)
        if probability_rows(outside - ~in_unit[:, j] == 0, sums - block[:, j]) >= MOST
    ]
    if len(strays) == 1:
        name = columns[strays[0]]
        raise InferenceError(
            f"the columns other than {name!r} hold probabilities summing to 1 on every row: "
            f"is {name!r} a prediction column?",
            file=file,
            column=name,
            hint=f"pass --pred-cols to name the prediction columns, or --weight-col {name} "
            "if it weighs the rows",
        )


def _as_named(
    kind: str,
    block: npt.NDArray[np.float64],
    options: Options,
    file: str,
    rows: npt.NDArray[np.int64],
    columns: Sequence[str],
) -> tuple[str, str]:
    """The kind the names state, unless more than 1% of the first rows contradict it."""
    shown = columns[0] if len(columns) == 1 else f"{columns[0]} .. {columns[-1]}"
    reason = f"{KIND_WORDS[kind]}: the columns are named so ({shown})"
    if kind == "logits":
        return kind, reason
    if kind == "probs":
        wrong, what = (block < 0) | (block > 1), "outside [0, 1]"
    else:
        wrong, what = block > 0, "above 0"
    bad_rows = np.flatnonzero(wrong.any(axis=1))
    n = block.shape[0]
    if bad_rows.size <= (1 - MOST) * n:
        if bad_rows.size:
            reason += f"; {_invalid(bad_rows.size, n)} with values {what}"
        return kind, reason
    first = int(bad_rows[0])
    column = int(np.flatnonzero(wrong[first])[0])
    if kind == "probs" and _looks_like_percent(block):
        hint = "pass --input percent for probabilities x 100, or --input logits"
    else:
        hint = "pass --input logits if these are logits"
    raise InferenceError(
        f"the column is named as {KIND_WORDS[kind]} but holds {float(block[first, column])!r}, "
        f"{what}, as do {bad_rows.size} of the first {n} rows",
        file=file,
        column=columns[column],
        row=int(rows[first]),
        hint=hint,
    )


def _looks_like_percent(block: npt.NDArray[np.float64]) -> bool:
    return bool(np.all((block >= 0) & (block <= 100)) and np.any(block > 1))


def _from_values(
    block: npt.NDArray[np.float64],
    task: str,
    options: Options,
    file: str,
    rows: npt.NDArray[np.int64],
    columns: Sequence[str] = (),
) -> tuple[str, str]:
    """The input kind from the values alone (SPEC "Inputs", ``auto``)."""
    n = block.shape[0]
    in_unit = np.all((block >= 0) & (block <= 1), axis=1)
    sums = block.sum(axis=1)
    lenient = options.renormalize or options.compat == "keras"
    if task != "multiclass" or lenient:
        probability = in_unit
    else:
        probability = in_unit & (np.abs(sums - 1.0) <= options.sum_tol)
    n_probs = int(np.count_nonzero(probability))
    if n_probs >= MOST * n:
        if task == "binary":
            reason = "one column, values in [0, 1]"
        elif task == "multilabel":
            reason = "multilabel, values in [0, 1]"
        elif options.renormalize:
            reason = "values in [0, 1], --renormalize given"
        elif options.compat == "keras":
            reason = "values in [0, 1], renormalised as Keras does"
        else:
            reason = "values in [0, 1], rows sum to 1"
        if n_probs < n:
            reason += f"; {_invalid(n - n_probs, n)} that are not"
        return "probs", reason
    if in_unit.all():  # multiclass rows in [0, 1] that do not sum to 1
        off = int(np.flatnonzero(~probability)[0])
        raise InferenceError(
            f"values are all in [0, 1] but the row sums to {sums[off]:.6g}, not 1: "
            "probabilities or logits?",
            file=file,
            row=int(rows[off]),
            hint="pass --input probs --renormalize, or --input logits"
            if options.compat == "xent"
            else "pass --input probs or --input logits",
        )
    if n_probs > HALF * n:
        first = int(np.flatnonzero(~probability)[0])
        raise InferenceError(
            f"{n_probs} of the first {n} rows are probabilities but the others are not "
            f"({_row_shown(block[first])}): probabilities with invalid rows, or logits?",
            file=file,
            row=int(rows[first]),
            hint="pass --input probs to name the others as invalid rows (--drop-invalid "
            "drops them), or --input logits",
        )
    _refuse_percentages(block, task, options, file, rows)
    if task == "binary":
        _refuse_nonpositive(block, file, rows, columns[0] if len(columns) == 1 else None)
    if task == "multiclass":
        nonpositive = np.all(block <= 0, axis=1)
        logprob = nonpositive & (np.abs(row_logsumexp(block)) <= options.sum_tol)
        n_logprobs = int(np.count_nonzero(logprob))
        if n_logprobs >= MOST * n:
            reason = "values <= 0, rows log-sum-exp to 0"
            if n_logprobs < n:
                reason += f"; {_invalid(n - n_logprobs, n)} that do not"
            return "logprobs", reason
        if n_logprobs > HALF * n:
            first = int(np.flatnonzero(~logprob)[0])
            raise InferenceError(
                f"{n_logprobs} of the first {n} rows are log-probabilities (<= 0, log-sum-exp "
                f"0) but the others are not ({_row_shown(block[first])}): "
                "log-probabilities with invalid rows, or logits?",
                file=file,
                row=int(rows[first]),
                hint="pass --input logprobs to name the others as invalid rows, or --input logits",
            )
    return "logits", "values outside [0, 1]"


def _refuse_percentages(
    block: npt.NDArray[np.float64],
    task: str,
    options: Options,
    file: str,
    rows: npt.NDArray[np.int64],
) -> None:
    """Rows of values in [0, 100] summing to 100 are percentages, and a column per class
    (one, or multilabel) of values in [0, 100] with some above 1 may be percentages or
    logits: either way ``--input`` must say."""
    in_range = np.all((block >= 0) & (block <= 100), axis=1)
    above_one = np.any(block > 1, axis=1)
    n = block.shape[0]
    if task == "multiclass":
        percent = in_range & (np.abs(block.sum(axis=1) - 100.0) <= 100.0 * options.sum_tol)
        if np.count_nonzero(percent) >= HALF * n and np.any(percent & above_one):
            first = int(np.flatnonzero(percent & above_one)[0])
            raise InferenceError(
                f"the rows are values in [0, 100] summing to 100 "
                f"({_row_shown(block[first])}): percentages?",
                file=file,
                row=int(rows[first]),
                hint="pass --input percent for probabilities x 100, or --input logits",
            )
        return
    if np.count_nonzero(in_range) >= MOST * n and np.any(in_range & above_one):
        first = int(np.flatnonzero(in_range & above_one)[0])
        where = "" if in_range.all() else f" in {int(in_range.sum())} of the first {n} rows"
        raise InferenceError(
            f"the values are in [0, 100]{where}, none negative and some above 1 "
            f"({_row_shown(block[first])}): logits or percentages?",
            file=file,
            row=int(rows[first]),
            hint="pass --input logits, or --input percent for probabilities x 100",
        )


def _refuse_nonpositive(
    block: npt.NDArray[np.float64],
    file: str,
    rows: npt.NDArray[np.int64],
    column: str | None,
) -> None:
    """One column of values <= 0 (in 99% of the first rows) whose name says nothing may be
    logits or log-probabilities (``predict_log_proba(X)[:, 1]``), two numbers: ``--input``
    must say. A column named ``logit*`` or ``logp*`` settles it before this."""
    nonpositive = np.all(block <= 0, axis=1)
    n = block.shape[0]
    if np.count_nonzero(nonpositive) < MOST * n:
        return
    first = int(np.flatnonzero(nonpositive & np.any(block < 0, axis=1))[0])
    where = "" if nonpositive.all() else f" in {int(nonpositive.sum())} of the first {n} rows"
    raise InferenceError(
        f"the one prediction column's values are all <= 0{where} ({_row_shown(block[first])}): "
        "logits or log-probabilities?",
        file=file,
        row=int(rows[first]),
        column=column,
        hint="pass --input logits, or --input logprobs for log-probabilities such as "
        "predict_log_proba gives",
    )


def _invalid(count: int, n: int) -> str:
    """``1 invalid row of the first 10000`` for a reason."""
    return f"{count} invalid row{'s' if count > 1 else ''} of the first {n}"


def _row_shown(values: npt.NDArray[np.float64]) -> str:
    """A row's values for a message: ``-1, -1, -1`` (the first few)."""
    shown = ", ".join(f"{v:.6g}" for v in values[:5])
    return shown + (", ..." if values.size > 5 else "")


def resolve_eps(options: Options, dtype: np.dtype) -> float:
    """``--eps auto`` is the machine epsilon of the input's float type (scikit-learn's rule)."""
    if options.eps == "auto":
        return float(np.finfo(dtype).eps)
    return float(options.eps)


INTEGER_VALUED = r"^\s*(?:\+|(-))?(\d+)\.0*\s*$"  # "2.0", " +2.00 " are 2; "-100.0" is -100


EXPONENT_TEXT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*$"  # np.savetxt's 2.000e+00


def label_text(raw: pa.Array) -> pa.Array:
    """Labels as text, so that ``2``, ``"2"``, ``2.0``, ``"2.0"``,
    ``"2.000000000000000000e+00"`` (NumPy's ``savetxt``) and a class named ``2`` compare
    alike."""
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        if pc.any(pc.match_substring(raw, "e", ignore_case=True)).as_py():
            raw = _whole_exponents(raw)
        if not pc.any(pc.match_substring(raw, ".")).as_py():
            return raw  # no "2.0" among them: spare the regex
        return pc.replace_substring_regex(raw, INTEGER_VALUED, r"\1\2")
    if pa.types.is_floating(raw.type):
        values = numbers(raw)
        if np.all(np.isfinite(values) & (values == np.floor(values))):
            return from_numpy(values.astype(np.int64)).cast(pa.string())
    return raw.cast(pa.string())


def _whole_exponents(raw: pa.Array) -> pa.Array:
    """Text labels in exponent form whose value is an integer (``2.000e+00``) as that
    integer's text (``2``); every other label as it is."""
    exponent = mask(pc.match_substring_regex(raw, EXPONENT_TEXT))
    if not exponent.any():
        return raw
    at = np.flatnonzero(exponent)
    values = numbers(pc.cast(pc.utf8_trim_whitespace(raw.take(at)), pa.float64()))
    whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2.0**53)
    if not whole.any():
        return raw
    replace = np.zeros(len(raw), dtype=bool)
    replace[at[whole]] = True
    texts = pa.array([str(int(v)) for v in values[whole]], type=raw.type)
    return pc.replace_with_mask(raw, from_numpy(replace), texts)
