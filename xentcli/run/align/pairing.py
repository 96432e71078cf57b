"""How rows pair (SPEC "Inputs"): on ``--id-col``, on the index pandas wrote in both
files (a column, or a ``RangeIndex`` kept in the metadata), else by position; and, by
position, which columns both files carry that the rows must agree on."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ...errors import AlignError, InputError
from ...io.arrays import from_numpy
from ...io.source import Source
from ...options import Options
from ..roles import UNNAMED_INDEX, is_text, key_reason, pandas_range_indexes
from .columns import listing


@dataclass(frozen=True)
class Pairing:
    """How rows pair: on a key column of each file, or keys of pandas' RangeIndex
    (``start, step``) where a file keeps its index only in the metadata; by position
    when neither file has a key. ``reason`` says which, and why."""

    preds_col: str | None = None
    labels_col: str | None = None
    preds_range: tuple[int, int] | None = None
    labels_range: tuple[int, int] | None = None
    reason: str | None = None


def pair_rows(
    preds: Source,
    labels: Source | None,
    options: Options,
    preds_index: dict[str, str],
    labels_index: dict[str, str],
) -> Pairing:
    """``--id-col``; else the index pandas wrote in both files under the same name
    (SPEC), as a column or as a RangeIndex in the metadata; else position."""
    name = options.id_col
    if name is not None:
        preds_key = _key_column(preds, name, preds_index)
        if labels is None:
            return Pairing(preds_col=preds_key)
        return Pairing(
            preds_key,
            _key_column(labels, name, labels_index),
            reason=f"rows joined on --id-col {name!r} (keys compared as text)",
        )
    if labels is None:
        return Pairing()
    in_preds = _joinable(preds_index)
    in_labels = _joinable(labels_index)
    preds_ranges = pandas_range_indexes(preds.schema)
    labels_ranges = pandas_range_indexes(labels.schema)
    shared = [n for n in {**in_preds, **preds_ranges} if n in in_labels or n in labels_ranges]
    if len(shared) > 1:
        raise AlignError(
            "both files carry a pandas index of several levels "
            f"({', '.join(repr(n) for n in shared)}); xent joins on one key column",
            hint="pass --id-col",
        )
    if not shared:
        alone = [s.name for s, index in ((preds, preds_index), (labels, labels_index)) if index]
        only = f" (only {alone[0]} carries a pandas index)" if len(alone) == 1 else ""
        return Pairing(reason=f"rows paired by position{only}")
    index = shared[0]
    what = "pandas' unnamed index" if index == "" else f"the pandas index {index!r}"
    preds_range, labels_range = preds_ranges.get(index), labels_ranges.get(index)
    if preds_range is not None and preds_range == labels_range:
        return Pairing(
            reason=f"rows paired by position: both files carry {what} as the same RangeIndex"
        )
    spelled = [
        f"{_range_text(r)} in {s.name}" if r is not None else f"{c!r} in {s.name}"
        for s, c, r in (
            (preds, in_preds.get(index), preds_range),
            (labels, in_labels.get(index), labels_range),
        )
    ]
    return Pairing(
        in_preds.get(index) if preds_range is None else None,
        in_labels.get(index) if labels_range is None else None,
        preds_range,
        labels_range,
        f"rows joined on {what}, which both files carry ({', '.join(spelled)}), "
        "as pandas aligns them (keys compared as text)",
    )


def _range_text(start_step: tuple[int, int]) -> str:
    start, step = start_step
    return f"a RangeIndex from {start}" + (f" by {step}" if step != 1 else "")


def _joinable(index: dict[str, str]) -> dict[str, str]:
    """Index name -> its column, for the indexes a join may use (the first column
    of each name: a CSV may hold ``""`` and an older ``Unnamed: 0``)."""
    found: dict[str, str] = {}
    for column, name in index.items():
        if not re.match(r"^Unnamed: [1-9]", name):
            found.setdefault(name, column)
    return found


def _key_column(source: Source, name: str, index: dict[str, str]) -> str:
    """The column ``--id-col name`` means in ``source``; ``''``, ``Unnamed: 0`` and
    ``__index_level_0__`` all name pandas' unnamed index, however the file spells it."""
    if name in source.columns:
        return name
    if name in UNNAMED_INDEX or name == "__index_level_0__":
        for column, index_name in index.items():
            if index_name == "":
                return column
    raise InputError(f"no id column {name!r}{listing(source)}", file=source.name)


def shared_keys(
    preds: Source,
    labels: Source,
    preds_index: dict[str, str],
    labels_index: dict[str, str],
    not_keys: set[str | None],
) -> tuple[str, ...]:
    """The columns both files carry under one name that rows paired by position must
    agree on: a key by its name, an index both wrote, or any other column that is text
    or integer in both (a filename, ``ImageId``, a patient, a named CSV index) and is
    not a prediction, label or weight column. Float columns are left alone: they are
    scores or measurements, and need not be keys."""
    shared = []
    for name in preds.columns:
        if name not in labels.columns or name in not_keys:
            continue
        reason = key_reason(name)
        kinds = (preds.schema.field(name).type, labels.schema.field(name).type)
        if (
            (reason is not None and "key" in reason)
            or (name in preds_index and name in labels_index)
            or all(_key_type(k) for k in kinds)
        ):
            shared.append(name)
    return tuple(shared)


def not_partitioned(preds: Source, labels: Source) -> None:
    """A hive-partitioned dataset is read directory by directory (all of ``fold=0``,
    then ``fold=1``), not in the order its rows were written: paired by position with
    another file, its rows would meet the wrong labels."""
    for source, other in ((preds, labels), (labels, preds)):
        if source.partition_columns:
            keys = ", ".join(repr(k) for k in source.partition_columns)
            both = [
                n
                for n in preds.columns
                if n in labels.columns
                and n not in source.partition_columns
                and all(_key_type(s.schema.field(n).type) for s in (preds, labels))
            ]
            name = repr(both[0]) if both else "NAME"
            raise AlignError(
                f"is a hive-partitioned dataset (directories by {keys}), read directory "
                "by directory and not in the order its rows were written, so its rows "
                f"cannot be paired by position with {other.name}",
                file=source.name,
                hint=f"pass --id-col {name} to join on a key both files carry",
            )


def _key_type(kind: pa.DataType) -> bool:
    """Text or integer: a type a key can have (a float is a score or a measurement)."""
    return bool(pa.types.is_integer(kind) or is_text(kind))


def range_keys(start_step: tuple[int, int], offset: int, n: int) -> pa.Array:
    """Keys ``start + i * step`` for rows ``offset .. offset + n - 1``, as text."""
    start, step = start_step
    keys = start + (offset + np.arange(n, dtype=np.int64)) * step
    return from_numpy(keys).cast(pa.string())
