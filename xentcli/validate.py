"""Check a batch's values before the core sees them, naming the rows at fault.

Rows are named by their 0-based position among the data rows of PREDS (``offset``
is the batch's first row), never by their place in the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .core import row_logsumexp
from .errors import ValidationError

FloatArray = npt.NDArray[np.float64]
EXAMPLES = 3


@dataclass(frozen=True)
class Checked:
    """A batch's scores ready for the core, and how many rows were renormalised."""

    scores: FloatArray
    renormalized: int = 0


def check_finite(block: FloatArray, columns: Sequence[str], file: str, offset: int) -> None:
    """NaN, infinite and empty cells cannot be scored."""
    bad = ~np.isfinite(block)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        first = int(rows[0])
        col = int(np.flatnonzero(bad[first])[0])
        value = block[first, col]
        what = "empty or NaN" if np.isnan(value) else str(value)
        raise ValidationError(
            f"prediction is {what}; every prediction must be a finite number",
            file=file,
            column=columns[col],
            rows=(rows[:EXAMPLES] + offset).tolist(),
            count=int(rows.size),
        )


def check_scores(
    block: FloatArray,
    input_kind: str,
    columns: Sequence[str],
    file: str,
    offset: int,
    *,
    sum_tol: float,
    renormalize: bool,
    dtype: np.dtype,
) -> Checked:
    """Hold a batch to the input kind: probabilities in [0, 1] summing to 1, log-probs <= 0
    log-summing to 0. Rows off by more than float noise but within ``sum_tol`` (or any
    amount with ``renormalize``) are renormalised and counted."""
    if input_kind == "logits":
        return Checked(block)
    noise = float(np.sqrt(np.finfo(dtype).eps))
    if input_kind == "probs":
        _in_range(block, columns, file, offset, 0.0, 1.0, "probability")
        if block.shape[1] == 1:
            return Checked(block)
        sums = block.sum(axis=1)
        off = np.abs(sums - 1.0)
        _within_tolerance(off, sums, file, offset, sum_tol, renormalize, "sums to", "1")
        fix = off > noise
        if not fix.any():
            return Checked(block)
        zero = np.flatnonzero(fix & (sums == 0.0))
        if zero.size:
            raise ValidationError(
                "probabilities sum to 0; the row cannot be renormalised",
                file=file,
                row=int(zero[0] + offset),
            )
        fixed = block.copy(order="F")
        fixed[fix] /= sums[fix, None]
        return Checked(fixed, int(fix.sum()))
    if input_kind == "logprobs":
        _in_range(block, columns, file, offset, -np.inf, 0.0, "log-probability")
        if block.shape[1] == 1:
            return Checked(block)
        lse = row_logsumexp(block)
        off = np.abs(lse)
        _within_tolerance(off, lse, file, offset, sum_tol, renormalize, "log-sum-exps to", "0")
        fix = off > noise
        if not fix.any():
            return Checked(block)
        fixed = block.copy(order="F")
        fixed[fix] -= lse[fix, None]
        return Checked(fixed, int(fix.sum()))
    raise ValueError(f"unknown input kind {input_kind!r}")


def _in_range(
    block: FloatArray,
    columns: Sequence[str],
    file: str,
    offset: int,
    lo: float,
    hi: float,
    what: str,
) -> None:
    bad = (block < lo) | (block > hi)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        first = int(rows[0])
        col = int(np.flatnonzero(bad[first])[0])
        span = f"[{lo:g}, {hi:g}]" if np.isfinite(lo) else f"<= {hi:g}"
        raise ValidationError(
            f"{what} {float(block[first, col])!r} is outside {span}",
            file=file,
            column=columns[col],
            rows=(rows[:EXAMPLES] + offset).tolist(),
            count=int(rows.size),
            hint="pass --input logits if these are not probabilities"
            if what == "probability"
            else None,
        )


def _within_tolerance(
    off: FloatArray,
    totals: FloatArray,
    file: str,
    offset: int,
    sum_tol: float,
    renormalize: bool,
    verb: str,
    target: str,
) -> None:
    if renormalize:
        return
    rows = np.flatnonzero(off > sum_tol)
    if rows.size:
        first = int(rows[0])
        raise ValidationError(
            f"the row {verb} {float(totals[first])!r}, not {target}, beyond --sum-tol {sum_tol:g}",
            file=file,
            rows=(rows[:EXAMPLES] + offset).tolist(),
            count=int(rows.size),
            hint="pass --renormalize to rescale such rows, or --input logits",
        )
