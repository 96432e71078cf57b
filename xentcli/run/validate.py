"""Check a batch's values before the core sees them, naming the rows at fault.

Rows are named by their 0-based position among the data rows of PREDS (``offset``
is the batch's first row), never by their place in the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import InferenceError, ValidationError
from ..losses.core import row_logsumexp

FloatArray = npt.NDArray[np.float64]
EXAMPLES = 3


BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Checked:
    """A batch's scores ready for the core, and how many rows were renormalised.

    With ``--drop-invalid``, ``bad`` marks the rows to drop instead of an error
    (the caller drops them and checks again); ``unnormalized`` counts rows left
    summing away from 1 where the rules only warn (scikit-learn).
    """

    scores: FloatArray
    renormalized: int = 0
    bad: BoolArray | None = None
    unnormalized: int = 0


def check_finite(
    block: FloatArray, columns: Sequence[str], file: str, rows: IntArray, drop: bool = False
) -> BoolArray | None:
    """NaN, infinite and empty cells cannot be scored; with ``drop``, their rows are
    returned instead of an error."""

    def message(value: float) -> str:
        what = "empty or NaN" if np.isnan(value) else str(value)
        return f"prediction is {what}; every prediction must be a finite number"

    return _bad_cells(~np.isfinite(block), block, columns, file, rows, drop, message)


def _bad_cells(
    bad: BoolArray,
    block: FloatArray,
    columns: Sequence[str],
    file: str,
    rows: IntArray,
    drop: bool,
    message: Callable[[float], str],
    hint: str | None = None,
) -> BoolArray | None:
    """The rows holding a ``bad`` cell: returned with ``drop``, else the error naming the
    first cell's column and value (``message``) and the first rows."""
    if not bad.any():
        return None
    bad_rows: BoolArray = np.asarray(bad.any(axis=1))
    if drop:
        return bad_rows
    where = np.flatnonzero(bad_rows)
    first = int(where[0])
    col = int(np.flatnonzero(bad[first])[0])
    raise ValidationError(
        message(float(block[first, col])),
        file=file,
        column=columns[col],
        rows=rows[where[:EXAMPLES]].tolist(),
        count=int(where.size),
        hint=hint,
    )


def check_scores(
    block: FloatArray,
    input_kind: str,
    columns: Sequence[str],
    file: str,
    rows: IntArray,
    *,
    sum_tol: float,
    renormalize: bool,
    dtype: np.dtype,
    sums: str = "check",
    drop: bool = False,
) -> Checked:
    """Hold a batch to the input kind: probabilities in [0, 1] summing to 1 (percentages
    in [0, 100] are divided by 100 and held to that; the scores returned are the
    probabilities), log-probs <= 0 log-summing to 0. Rows off by more than float noise
    but within ``sum_tol`` (or any amount with ``renormalize``) are renormalised and
    counted. ``sums`` other than
    ``check`` leaves row sums to the peer's rules (``warn``: count them)."""
    if input_kind == "logits":
        return Checked(block)
    noise = float(np.sqrt(np.finfo(dtype).eps))
    if input_kind in ("probs", "percent"):
        if input_kind == "percent":
            bad = _in_range(block, columns, file, rows, 0.0, 100.0, "percentage", drop)
            if bad is not None:
                return Checked(block, bad=bad)
            block = block / 100.0  # percentages are probabilities x 100; a new block
        else:
            bad = _in_range(block, columns, file, rows, 0.0, 1.0, "probability", drop)
            if bad is not None:
                return Checked(block, bad=bad)
        if block.shape[1] == 1:
            return Checked(block)
        if sums != "check":
            return _peer_sums(block, sums, noise)
        total = block.sum(axis=1)
        off = np.abs(total - 1.0)
        bad = _within_tolerance(off, total, file, rows, sum_tol, renormalize, "sums to", "1", drop)
        if bad is not None:
            return Checked(block, bad=bad)
        fix = off > noise
        if not fix.any():
            return Checked(block)
        zero = np.flatnonzero(fix & (total == 0.0))
        if zero.size:
            if drop:
                return Checked(block, bad=fix & (total == 0.0))
            raise ValidationError(
                "probabilities sum to 0; the row cannot be renormalised",
                file=file,
                row=int(rows[zero[0]]),
            )
        fixed = block.copy(order="F")
        fixed[fix] /= total[fix, None]
        return Checked(fixed, int(fix.sum()))
    if input_kind == "logprobs":
        bad = _in_range(block, columns, file, rows, -np.inf, 0.0, "log-probability", drop)
        if bad is not None:
            return Checked(block, bad=bad)
        if block.shape[1] == 1 or sums != "check":
            return Checked(block)
        lse = row_logsumexp(block)
        off = np.abs(lse)
        bad = _within_tolerance(
            off, lse, file, rows, sum_tol, renormalize, "log-sum-exps to", "0", drop
        )
        if bad is not None:
            return Checked(block, bad=bad)
        fix = off > noise
        if not fix.any():
            return Checked(block)
        fixed = block.copy(order="F")
        fixed[fix] -= lse[fix, None]
        return Checked(fixed, int(fix.sum()))
    raise ValueError(f"unknown input kind {input_kind!r}")


def _peer_sums(block: FloatArray, sums: str, noise: float) -> Checked:
    """Row sums under a peer's rules: scikit-learn warns (``np.allclose`` at a relative
    tolerance of sqrt(eps)); PyTorch does not look; Keras renormalises in the kernel."""
    if sums != "warn":
        return Checked(block)
    off = np.abs(block.sum(axis=1) - 1.0) > noise
    return Checked(block, unnormalized=int(off.sum()))


def check_targets(
    targets: FloatArray,
    task: str,
    columns: Sequence[str],
    file: str,
    rows: IntArray,
    *,
    sum_tol: float,
    one_hot: bool,
    drop: bool = False,
) -> BoolArray | None:
    """Label columns: finite, in [0, 1]; one-hot rows have a single 1 (a row of zeros is
    a missing label), soft rows sum to 1 within ``sum_tol``. Returns the rows to drop
    with ``drop``, else raises. A row that is not one-hot after one-hot first rows (two
    1s, or fractions) contradicts the task decided, and is an error even with ``drop``."""
    bad_cells = ~np.isfinite(targets) | (targets < 0) | (targets > 1)
    if one_hot and task != "multilabel":
        _still_one_hot(targets, bad_cells, file, rows)
    if drop:  # every kind of fault at once: the rows out of range and those off the sum
        out_of_range = np.asarray(bad_cells.any(axis=1))
        rest = _target_sums(targets, task, sum_tol, one_hot)
        both = out_of_range if rest is None else out_of_range | rest
        return both if both.any() else None
    if bad_cells.any():
        where = np.flatnonzero(bad_cells.any(axis=1))
        col = int(np.flatnonzero(bad_cells[where[0]])[0])
        value = float(targets[where[0], col])
        shown = "empty or NaN" if np.isnan(value) else repr(value)
        raise ValidationError(
            f"label value {shown} is not a number in [0, 1]",
            file=file,
            column=columns[col],
            rows=rows[where[:EXAMPLES]].tolist(),
            count=int(where.size),
        )
    bad = _target_sums(targets, task, sum_tol, one_hot)
    if bad is None:
        return None
    total = targets.sum(axis=1)
    if one_hot:  # only rows of zeros are left: _still_one_hot took the others
        what = "is all zeros: a missing label (one-hot labels have one 1 per row)"
        hint = "pass --drop-invalid to leave such rows out"
    else:
        what = "sums to {total}, not 1, beyond --sum-tol {sum_tol:g}"
        hint = "soft labels are a target distribution per row"
    where = np.flatnonzero(bad)
    message = what.format(total=repr(float(total[where[0]])), sum_tol=sum_tol)
    raise ValidationError(
        f"the label row {message}",
        file=file,
        rows=rows[where[:EXAMPLES]].tolist(),
        count=int(where.size),
        hint=hint,
    )


def _still_one_hot(targets: FloatArray, bad_cells: BoolArray, file: str, rows: IntArray) -> None:
    """One-hot first rows decided a multiclass task: a later row with two or more 1s
    (multilabel) or with fractions (soft targets) contradicts it, and ``--task`` must say
    which it is; rows of zeros are missing labels, and cells out of range invalid cells,
    which the caller names (or drops)."""
    valid = ~bad_cells.any(axis=1)
    zero_one = np.all((targets == 0) | (targets == 1), axis=1)
    several = valid & zero_one & (targets.sum(axis=1) >= 2)
    fractions = valid & ~zero_one
    wrong = several | fractions
    if not wrong.any():
        return
    first = int(np.flatnonzero(wrong)[0])
    if several[first]:
        what = f"has {int(targets[first].sum())} 1s"
        hint = "pass --task multilabel if a row may have several labels"
    else:
        value = float(targets[first][(targets[first] != 0) & (targets[first] != 1)][0])
        what = f"holds {value!r}, not 0 or 1"
        hint = "pass --task multiclass to read the label columns as soft targets"
    raise InferenceError(
        f"the label row {what}, but the first rows were one-hot (one class per row)",
        file=file,
        rows=rows[np.flatnonzero(wrong)[:EXAMPLES]].tolist(),
        count=int(np.count_nonzero(wrong)),
        hint=hint,
    )


def _target_sums(targets: FloatArray, task: str, sum_tol: float, one_hot: bool) -> BoolArray | None:
    """Rows that are not one-hot (when the first rows were) or do not sum to 1."""
    if task == "multilabel":
        return None
    total = targets.sum(axis=1)
    if one_hot:
        bad = ~np.all((targets == 0) | (targets == 1), axis=1) | (total != 1)
    else:
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(total - 1.0) <= sum_tol)
    return np.asarray(bad) if bad.any() else None


def check_weights(weights: FloatArray, file: str, column: str, rows: IntArray) -> None:
    """Weights must be finite and >= 0, always (``--drop-invalid`` does not drop them)."""
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        where = np.flatnonzero(bad)
        value = float(weights[where[0]])
        what = "empty or NaN" if np.isnan(value) else repr(value)
        raise ValidationError(
            f"weight {what} is not a finite number >= 0",
            file=file,
            column=column,
            rows=rows[where[:EXAMPLES]].tolist(),
            count=int(where.size),
        )


def _in_range(
    block: FloatArray,
    columns: Sequence[str],
    file: str,
    rows: IntArray,
    lo: float,
    hi: float,
    what: str,
    drop: bool,
) -> BoolArray | None:
    span = f"[{lo:g}, {hi:g}]" if np.isfinite(lo) else f"<= {hi:g}"
    hint = (
        "pass --drop-invalid to leave such rows out, or --input logits if these are not "
        "probabilities"
        if what == "probability"
        else "pass --drop-invalid to leave such rows out"
    )
    return _bad_cells(
        (block < lo) | (block > hi),
        block,
        columns,
        file,
        rows,
        drop,
        lambda value: f"{what} {value!r} is outside {span}",
        hint,
    )


def _within_tolerance(
    off: FloatArray,
    totals: FloatArray,
    file: str,
    rows: IntArray,
    sum_tol: float,
    renormalize: bool,
    verb: str,
    target: str,
    drop: bool,
) -> BoolArray | None:
    if renormalize:
        return None
    bad: BoolArray = np.asarray(off > sum_tol)
    if not bad.any():
        return None
    if drop:
        return bad
    where = np.flatnonzero(bad)
    first = int(where[0])
    raise ValidationError(
        f"the row {verb} {float(totals[first])!r}, not {target}, beyond --sum-tol {sum_tol:g}",
        file=file,
        rows=rows[where[:EXAMPLES]].tolist(),
        count=int(where.size),
        hint="pass --renormalize to rescale such rows, or --input logits",
    )
