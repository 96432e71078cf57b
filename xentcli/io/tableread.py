"""In-memory tables as a ``Source``: a pyarrow Table or RecordBatch, a pandas DataFrame
or Series, a dict of columns; also any input that is read whole into a table first
(Feather v1)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from ..errors import InputError
from .sourcebase import Source, cast_batch, make_source


def frames_in_step(preds: Any, labels: Any) -> None:
    """In-memory pandas inputs pair by position, as scikit-learn's ``log_loss`` pairs its
    arrays; but two frames whose indexes hold the same labels in another order (labels
    shuffled, or sorted apart) would be paired by pandas on the index: two readings, two
    numbers, so they are refused. Indexes that differ as sets (``predict_proba`` in a new
    frame beside ``y_test`` from ``train_test_split``) pair by position."""
    index_of = [getattr(x, "index", None) for x in (preds, labels)]
    if any(i is None or not hasattr(i, "equals") for i in index_of):
        return
    a, b = index_of
    if len(a) != len(b) or a.equals(b) or not a.is_unique or not b.is_unique:
        return
    try:
        same_labels = a.sort_values().equals(b.sort_values())
    except TypeError:  # labels of kinds that do not sort together: not the same set
        return
    if same_labels:
        raise InputError(
            "the predictions and the labels carry the same pandas index in another order: "
            "pandas would pair them on it, by position they pair otherwise",
            file="<labels>",
            hint="pass labels.loc[preds.index] to pair them on the index, or "
            "reset_index(drop=True) on both to pair them by position",
        )


def open_memory(data: Any, name: str) -> Source:
    return table_source(_as_table(data, name), name, "memory")


def table_source(table: pa.Table, name: str, format: str) -> Source:
    """A ``Source`` over a table held in memory."""

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        for batch in table.select(list(columns)).to_batches(max_chunksize=batch_rows):
            yield cast_batch(batch, types, name)

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for batch in table.select(list(columns)).to_batches():
            if batch.num_rows:
                return batch
        return None

    return make_source(name, format, table.schema, table.num_rows, opener, first_rows)


def _as_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas"):
        import pandas as pd  # only when the caller already has pandas objects

        frame = data.to_frame() if isinstance(data, pd.Series) else data
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(data, dict):
        try:
            return pa.table(data)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"cannot make a table of this dict: {exc}", file=name) from None
    if hasattr(data, "__arrow_c_stream__"):  # polars, DuckDB relations: the Arrow C stream
        try:
            table = pa.table(data)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"cannot read this {_kind(data)} as Arrow: {exc}", file=name) from None
        return table
    raise InputError(
        f"expected a path, '-', a pandas or polars DataFrame, a pyarrow Table or a dict of "
        f"columns, got {_kind(data)}",
        file=name,
    )


def _kind(data: Any) -> str:
    """A value's type as a user knows it: ``polars.DataFrame``, ``list``."""
    module = type(data).__module__.split(".")[0]
    return type(data).__name__ if module == "builtins" else f"{module}.{type(data).__name__}"
