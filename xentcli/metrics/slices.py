"""``--by COL``: per distinct value of a column, its rows, mean loss, accuracy and ECE.

Values map to slice ids batch by batch with pyarrow (``dictionary_encode``), so Python
sees each distinct value once per batch, not each row; the sums are grouped by slice id
(ECE's by slice and bin) and exact, and merging remaps the other side's ids by value.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import UsageError
from ..summary import SliceSummary
from .calibration import bin_of
from .exact import ExactSums
from .rows import Ends, Rows


def _regrouped(sums: ExactSums, index: npt.NDArray[np.int64], k: int) -> ExactSums:
    """``sums`` with its group ``g`` moved to group ``index[g]`` of ``k`` groups (groups
    beyond ``len(index)`` must be empty). Moves the exact state; adds nothing."""
    out = ExactSums(k)
    used = len(index)
    out.low, out.pending = sums.low, sums.pending
    out.hi = np.zeros((k, sums.hi.shape[1]))
    out.lo = np.zeros_like(out.hi)
    out.hi[index] = sums.hi[:used]
    out.lo[index] = sums.lo[:used]
    for g, target in enumerate(index.tolist()):
        out.ints[target] = sums.ints[g]
    out.special[index] = sums.special[:used]
    return out


class _Groups:
    """Per-group sums: integer counts, or exact float sums when sample weights enter."""

    def __init__(self, k: int, exact: bool) -> None:
        self.exact = exact
        self.counts = np.zeros(k, dtype=np.int64)
        self.sums = ExactSums(k) if exact else None

    def add(self, values: npt.NDArray[Any], groups: npt.NDArray[np.int64]) -> None:
        if self.sums is not None:
            self.sums.add(np.asarray(values, dtype=np.float64), groups)
        else:
            k = self.counts.shape[0]
            self.counts += np.bincount(groups, weights=values, minlength=k).astype(np.int64)

    def regrouped(self, index: npt.NDArray[np.int64], k: int) -> _Groups:
        out = _Groups(0, self.exact)
        out.counts = np.zeros(k, dtype=np.int64)
        out.counts[index] = self.counts[: len(index)]
        if self.sums is not None:
            out.sums = _regrouped(self.sums, index, k)
        return out

    def merge(self, other: _Groups) -> _Groups:
        out = _Groups(0, self.exact)
        out.counts = self.counts + other.counts
        if self.sums is not None and other.sums is not None:
            out.sums = self.sums.merge(other.sums)
        return out

    def totals(self) -> npt.NDArray[np.float64]:
        return self.counts.astype(np.float64) if self.sums is None else self.sums.totals()


_FIELDS = ("n", "num", "den", "right", "weight", "bin_n", "bin_conf", "bin_out", "bin_w")


class _Column:
    """One ``--by`` column's slices: the values seen (id = position) and per slice (and
    per slice and bin) the sums. Groups are allocated ``capacity`` at a time."""

    def __init__(
        self, name: str, bins: int, max_slices: int, weighted: bool, sample_weighted: bool
    ) -> None:
        self.name, self.bins, self.max_slices = name, bins, max_slices
        self.weighted, self.sample_weighted = weighted, sample_weighted
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = []
        self.capacity = 0
        self._allocate(8)

    def _allocate(self, capacity: int) -> None:
        """Grow every sum to ``capacity`` slices, keeping what they hold."""
        old, k, bins = self.capacity, capacity, self.bins
        if old == 0:
            sw = self.sample_weighted
            self.n = _Groups(k, False)
            self.num = _Groups(k, True)
            self.den = _Groups(k, True)
            self.right = _Groups(k, sw)
            self.weight = _Groups(k, sw)
            self.bin_n = _Groups(k * bins, False)
            self.bin_conf = _Groups(k * bins, True)
            self.bin_out = _Groups(k * bins, sw)
            self.bin_w = _Groups(k * bins, sw)
        else:
            index = np.arange(old, dtype=np.int64)
            self._remap(index, k)
        self.capacity = capacity

    def _remap(self, index: npt.NDArray[np.int64], k: int) -> None:
        """Move slice ``s`` to slice ``index[s]`` of ``k``."""
        binned = (index[:, None] * self.bins + np.arange(self.bins)).ravel()
        for name in _FIELDS:
            groups = getattr(self, name)
            which = binned if name.startswith("bin_") else index
            size = k * self.bins if name.startswith("bin_") else k
            setattr(self, name, groups.regrouped(which, size))

    def _register(self, value: Any) -> int:
        slice_id = self.ids.get(value)
        if slice_id is None:
            slice_id = self.ids[value] = len(self.values)
            self.values.append(value)
            if len(self.values) > self.max_slices:
                raise self._too_many(len(self.values))
        return slice_id

    def _too_many(self, count: int) -> UsageError:
        m = self.max_slices
        return UsageError(
            f"--by {self.name!r} has more than {m} distinct values ({count} so far, "
            f"--max-slices {m}); slice by a coarser column or raise --max-slices"
        )

    def slice_ids(self, column: Any) -> npt.NDArray[np.int64]:
        """Each row's slice id, registering the batch's new values."""
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if not isinstance(array, pa.Array):
            array = pa.array(column)
        value_type = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
        convert = _converter(self.name, value_type)
        if pa.types.is_null(array.type):
            return np.full(len(array), self._register(None), dtype=np.int64)
        if pa.types.is_dictionary(array.type):
            codes = np.asarray(array.indices.fill_null(-1), dtype=np.int64)
            used = np.unique(codes[codes >= 0])
            entries = array.dictionary.take(pa.array(used))
            local = np.full(len(array.dictionary), -1, dtype=np.int64)
            local[used] = np.arange(used.size)
            codes = np.where(codes >= 0, local[np.maximum(codes, 0)], -1)
        else:
            encoded = pc.dictionary_encode(array)
            codes = np.asarray(encoded.indices.fill_null(-1), dtype=np.int64)
            entries = encoded.dictionary
        if len(entries) > self.max_slices + 2:  # "" and NaN may join null: 2 spare
            raise self._too_many(len(entries))
        mapping = [self._register(convert(v)) for v in entries.to_pylist()]
        if array.null_count:
            mapping.append(self._register(None))
        return np.asarray(mapping, dtype=np.int64)[codes]  # -1: the null slice, last

    def add(self, rows: Rows, column: Any) -> None:
        ids = self.slice_ids(column)
        if len(self.values) > self.capacity:
            self._allocate(max(len(self.values), 2 * self.capacity))
        n, w = len(rows), rows.weights
        self.n.add(np.ones(n), ids)
        self.num.add(rows.numerator, ids)
        if self.weighted:
            self.den.add(rows.denominator if rows.denominator is not None else np.ones(n), ids)
        self.right.add(rows.hit if w is None else np.where(rows.hit, w, 0.0), ids)
        if w is not None:
            self.weight.add(w, ids)
        confidence, outcome = rows.confidence, rows.outcome
        if confidence.ndim == 2:  # multilabel: every (row, label) pair
            width = confidence.shape[1]
            ids = np.repeat(ids, width)
            w = None if w is None else np.repeat(w, width)
            confidence, outcome = confidence.ravel(), outcome.ravel()
        groups = ids * self.bins + bin_of(confidence, self.bins)
        self.bin_n.add(np.ones(groups.size), groups)
        self.bin_conf.add(confidence if w is None else confidence * w, groups)
        self.bin_out.add(outcome if w is None else np.where(outcome, w, 0.0), groups)
        if w is not None:
            self.bin_w.add(w, groups)

    def merge(self, other: _Column) -> _Column:
        merged = _Column(self.name, self.bins, self.max_slices, self.weighted, self.sample_weighted)
        merged.ids, merged.values = dict(self.ids), list(self.values)
        index = np.array([merged._register(v) for v in other.values], dtype=np.int64)
        k = max(len(merged.values), self.capacity, other.capacity)
        mine = self._copy_remapped(np.arange(len(self.values), dtype=np.int64), k)
        theirs = other._copy_remapped(index, k)
        for name in _FIELDS:
            setattr(merged, name, getattr(mine, name).merge(getattr(theirs, name)))
        merged.capacity = k
        return merged

    def _copy_remapped(self, index: npt.NDArray[np.int64], k: int) -> _Column:
        twin = _Column.__new__(_Column)
        twin.bins = self.bins
        for name in _FIELDS:
            setattr(twin, name, getattr(self, name))
        twin._remap(index, k)
        return twin

    def finish(self, ends: Ends) -> list[SliceSummary]:
        n = self.n.counts
        num = self.num.totals()
        den = self.den.totals() if self.weighted else n.astype(np.float64)
        right = self.right.totals()
        weight = self.weight.totals() if self.sample_weighted else n.astype(np.float64)
        bins = self.bins
        bin_n = self.bin_n.counts.reshape(-1, bins)
        bin_w = (self.bin_w.totals() if self.sample_weighted else self.bin_n.totals()).reshape(
            -1, bins
        )
        bin_conf = self.bin_conf.totals().reshape(-1, bins)
        bin_out = self.bin_out.totals().reshape(-1, bins)
        out = []
        for s in sorted(range(len(self.values)), key=lambda i: _order(self.values[i])):
            total = float(den[s])
            mean = float(num[s]) / total / ends.scale if total > 0 else math.nan
            w = float(weight[s])
            out.append(
                SliceSummary(
                    column=self.name,
                    value=_json(self.values[s]),
                    n=int(n[s]),
                    mean_loss=mean,
                    accuracy=float(right[s]) / w if w > 0 else math.nan,
                    ece=_ece(bin_n[s], bin_w[s], bin_conf[s], bin_out[s]),
                )
            )
        return out


def _ece(
    n: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    confidence: npt.NDArray[np.float64],
    outcome: npt.NDArray[np.float64],
) -> float:
    """ECE as ``Calibration.table`` computes it, from one slice's bins."""
    total = math.fsum(weight.tolist())
    shares = []
    for i in range(n.shape[0]):
        if n[i] == 0 or not weight[i] > 0:
            continue
        conf = float(confidence[i] / weight[i])
        acc = float(outcome[i] / weight[i])
        shares.append(float(weight[i]) / total * abs(acc - conf))
    return math.fsum(shares) if shares else math.nan


def _converter(name: str, value_type: pa.DataType) -> Any:
    """How a cell's Python value becomes its slice key: an empty text cell and a float
    NaN are null, -0.0 is 0.0, bytes are text; a type that has no JSON value is an error."""
    t = pa.types
    if t.is_string(value_type) or t.is_large_string(value_type) or _is_view(value_type, "string"):
        return lambda v: v if v != "" else None
    if (
        t.is_binary(value_type)
        or t.is_large_binary(value_type)
        or t.is_fixed_size_binary(value_type)
    ):
        return lambda v: v.decode("utf-8", "replace") or None
    if t.is_floating(value_type):
        return lambda v: None if v != v else v + 0.0
    if (
        t.is_integer(value_type)
        or t.is_boolean(value_type)
        or t.is_temporal(value_type)
        or t.is_decimal(value_type)
        or t.is_null(value_type)
    ):
        return lambda v: v
    raise UsageError(
        f"--by {name!r} is a column of type {value_type}; slice by a column of text, "
        "numbers, booleans or dates"
    )


def _is_view(value_type: pa.DataType, kind: str) -> bool:
    return str(value_type) == f"{kind}_view"


def _order(value: Any) -> tuple[int, Any]:
    """Numbers numerically, text by code point, dates in time; null last."""
    return (1, 0) if value is None else (0, value)


def _json(value: Any) -> Any:
    """The value as JSON has it: dates and times as ISO text, decimals as numbers."""
    if isinstance(value, datetime.date | datetime.time | datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


class Slices:
    """The ``--by`` columns' slices, in the order given; values ordered in ``finish``."""

    def __init__(
        self,
        by: tuple[str, ...],
        bins: int = 15,
        max_slices: int = 1000,
        weighted: bool = False,
        sample_weighted: bool = False,
    ) -> None:
        self.by, self.bins, self.max_slices = tuple(by), bins, max_slices
        self.weighted, self.sample_weighted = weighted, sample_weighted
        self.columns = [_Column(c, bins, max_slices, weighted, sample_weighted) for c in self.by]

    def add(self, rows: Rows) -> None:
        if not len(rows):
            return
        for column in self.columns:
            if column.name not in rows.keys:
                raise UsageError(f"--by {column.name!r}: no such column")
            column.add(rows, rows.keys[column.name])

    def merge(self, other: Slices) -> Slices:
        merged = Slices(self.by, self.bins, self.max_slices, self.weighted, self.sample_weighted)
        merged.columns = [a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)]
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        return {"slices": tuple(s for c in self.columns for s in c.finish(ends))}
