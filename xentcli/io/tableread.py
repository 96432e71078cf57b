"""In-memory inputs as a ``Source``: a pyarrow Table, RecordBatch, Array or ChunkedArray,
a pandas or polars DataFrame or Series, a dict of columns, a NumPy array (or anything
NumPy reads as one: a list of rows, a torch tensor); also any input that is read whole
into a table first (NumPy files, Feather v1).

An in-memory input is named by the argument it was passed as (``preds``, ``labels``,
``scores``), and its errors speak of it as one (``MemorySource.locate``): they name the
argument, the column and the row, never a file, a header or a line. A NumPy array reads
as a ``.npy`` file of it would: a 2-D array is a column per class named ``0..K-1``, a
1-D array one column, and those names are positions xent gave, no evidence of a class.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError, XentError, quoted
from .arrays import numpy_column
from .sourcebase import Source, arrow_message, cast_batch, make_source


@dataclass(frozen=True)
class Named:
    """An in-memory input and the argument it was passed as, for its messages.

    ``columns`` shows a column xent made under another name: column -> (argument,
    column or None), e.g. ``cross_entropy``'s ``{"weight": ("weights", None)}``.
    """

    data: Any
    name: str
    columns: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)


@dataclass
class MemorySource(Source):
    """A ``Source`` over a table in memory, whose errors speak of the argument it came
    as: no file, header or line (what a text file's errors are about)."""

    shown_as: dict[str, tuple[str, str | None]] = field(default_factory=dict, repr=False)

    def locate(self, error: XentError) -> XentError:
        """``error`` in the words of an in-memory input, when it is about this one (or
        about no input in particular)."""
        if error.file not in (self.name, None):
            return error
        if error.file == self.name and error.column in self.shown_as:
            error.file, error.column = self.shown_as[error.column]
        error.message = memory_words(error.message)
        if error.hint is not None:
            error.hint = memory_words(error.hint)
        return error


_MEMORY_WORDS = (
    ("(the file has a header but no data rows)", "(it has columns but no rows)"),
    ("in file order", "in column order"),
    ("out of the file", "out of the table"),
)
_ARGUMENTS = re.compile(r"\b(PREDS|LABELS)\b")  # the command's arguments: preds, labels
_FILE = re.compile(r"\b(both |either |each |the |this |a |)(files?)\b")


def memory_words(text: str) -> str:
    """A message about files in the words of in-memory tables.

    >>> memory_words("no rows to score (the file has a header but no data rows)")
    'no rows to score (it has columns but no rows)'
    >>> memory_words("rows joined on the index both files carry")
    'rows joined on the index both tables carry'
    """
    for said, meant in _MEMORY_WORDS:
        text = text.replace(said, meant)
    text = _ARGUMENTS.sub(lambda m: m[1].lower(), text)
    return _FILE.sub(lambda m: m.group(1) + ("tables" if m.group(2) == "files" else "table"), text)


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
            file="labels",
            hint="pass labels.loc[preds.index] to pair them on the index, or "
            "reset_index(drop=True) on both to pair them by position",
        )


def open_memory(data: Any, name: str) -> Source:
    """An in-memory input (or a ``Named`` one) as a ``Source`` named ``name``."""
    shown_as: dict[str, tuple[str, str | None]] = {}
    if isinstance(data, Named):
        data, name, shown_as = data.data, data.name, dict(data.columns)
    table, generated = as_table(data, name)
    if generated and name in ("preds", "scores"):
        numbers_only(table, name)
    if generated and table.num_columns == 1:  # a 1-D array: no column to name
        shown_as.setdefault(table.column_names[0], (name, None))
    source = table_source(table, name, "memory", kind=MemorySource)
    assert isinstance(source, MemorySource)
    source.generated_names = generated
    source.shown_as = shown_as
    return source


def numbers_only(table: pa.Table, name: str) -> None:
    """An array of predictions holds numbers: text in it is neither a score nor a label."""
    for column_name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(column.type) and len(column):
            raise InputError(
                f"holds text ({quoted(column[0].as_py())}), not numbers",
                file=name,
                column=None if table.num_columns == 1 else column_name,
                row=0,
                hint="pass the predictions as numbers, e.g. np.asarray(values, dtype=float)",
            )


def table_source(table: pa.Table, name: str, format: str, kind: type[Source] = Source) -> Source:
    """A ``Source`` (of type ``kind``) over a table held in memory."""

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

    return make_source(name, format, table.schema, table.num_rows, opener, first_rows, kind=kind)


def as_table(data: Any, name: str) -> tuple[pa.Table, bool]:
    """The table of an in-memory input, and whether xent named its columns (``0..K-1``
    for the columns of an array)."""
    if isinstance(data, pa.Table):
        return data, False
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), False
    if isinstance(data, pa.Array | pa.ChunkedArray):
        return pa.table({"0": data}), True
    if type(data).__module__.startswith("pandas"):
        import pandas as pd  # only when the caller already has pandas objects

        frame = data.to_frame() if isinstance(data, pd.Series) else data
        if not isinstance(frame, pd.DataFrame):
            return _array_table(data, name)  # an Index, a Categorical: values in a row
        return pa.Table.from_pandas(frame, preserve_index=False), False
    if isinstance(data, dict):
        try:
            return pa.table(data), False
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(
                f"cannot make a table of this dict: {arrow_message(exc)}", file=name
            ) from None
    if hasattr(data, "__arrow_c_stream__"):  # polars, DuckDB relations: the Arrow C stream
        return _arrow_stream(data, name)
    if isinstance(data, np.ndarray | list | tuple) or hasattr(data, "__array__"):
        return _array_table(data, name)
    raise InputError(
        f"expected a path, '-', a pandas or polars DataFrame or Series, a pyarrow Table or "
        f"Array, a NumPy array or a dict of columns, got {_kind(data)}",
        file=name,
    )


def _arrow_stream(data: Any, name: str) -> tuple[pa.Table, bool]:
    """A table, or a column (a polars Series), through the Arrow C stream."""
    try:
        return pa.table(data), False
    except (pa.ArrowException, TypeError, ValueError) as exc:
        column_name = getattr(data, "name", None)
        try:
            column = pa.chunked_array(data)
        except (pa.ArrowException, TypeError, ValueError):
            raise InputError(
                f"cannot read this {_kind(data)} as Arrow: {arrow_message(exc)}", file=name
            ) from None
        if isinstance(column_name, str) and column_name:
            return pa.table({column_name: column}), False
        return pa.table({"0": column}), True


def _array_table(data: Any, name: str) -> tuple[pa.Table, bool]:
    """An array-like as a ``.npy`` file of it reads: 1-D one column, 2-D a column per
    class, named ``0..K-1``; a structured array a column per field."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged rows
        first = str(exc).split(". ")[0]
        raise InputError(f"is not an array of rows: {first}", file=name) from None
    if isinstance(data, list | tuple) and array.dtype.kind in "US":
        as_given = np.asarray(data, dtype=object)  # [0, "cat"] is not ["0", "cat"]
        if any(not isinstance(v, str | bytes) for v in as_given.ravel().tolist()):
            array = as_given
    if array.ndim == 0:
        raise InputError(
            f"is a single value ({quoted(array.item())}), not one value or row per sample",
            file=name,
        )
    if array.ndim > 2:
        raise InputError(
            f"has {array.ndim} dimensions (shape {array.shape}); pass a 1-D array (one value "
            "per sample) or a 2-D array (one column per class)",
            file=name,
        )
    if array.dtype.names:
        if array.ndim != 1:
            raise InputError(f"is a structured array of {array.ndim} dimensions", file=name)
        return pa.table({f: _array_column(array[f], name, f) for f in array.dtype.names}), False
    if array.ndim == 1:
        return pa.table({"0": _array_column(array, name, None)}), True
    return pa.table(
        {str(j): _array_column(array[:, j], name, str(j)) for j in range(array.shape[1])}
    ), True


def _array_column(values: np.ndarray, name: str, column: str | None) -> pa.Array:
    try:
        converted = numpy_column(values)
    except UnicodeDecodeError:
        raise InputError("holds bytes that are not UTF-8 text", file=name, column=column) from None
    if converted is not None:
        return converted
    kind = values.dtype.kind
    if kind == "O":
        items = values.tolist()
        try:
            return pa.array(items)
        except (pa.ArrowException, TypeError, ValueError):
            kinds = [type(v) for v in items]
            row = next((i for i, k in enumerate(kinds) if k is not kinds[0]), 0)
            raise InputError(
                f"holds {_kind(items[row])} {quoted(items[row])} among "
                f"{_kind(items[0])} values; a column holds numbers or text",
                file=name,
                column=column,
                row=row,
            ) from None
    raise InputError(
        f"holds values of dtype {values.dtype}; xent reads numbers, booleans or text",
        file=name,
        column=column,
    )


def _kind(data: Any) -> str:
    """A value's type as a user knows it: ``polars.DataFrame``, ``list``."""
    module = type(data).__module__.split(".")[0]
    return type(data).__name__ if module == "builtins" else f"{module}.{type(data).__name__}"
