"""The ``Source`` that every reader returns, and what the readers share.

A reader hands over a way to stream some columns of its input (``BatchOpener``)
and, where it can, a way to look at the first rows (``FirstRows``);
``make_source`` wraps them in a ``Source`` that presents numeric list columns
element by element (see ``listcols``). Every ``Source`` presents its columns in the
few types the rest of xent knows (``presented_type``): any numeric Arrow type as a
number (decimals as float64; integers of any width and sign, float16, float32 and
float64 as they are, which ``arrays.numbers`` reads) and any string-like type (large,
view, dictionary-encoded) as ``string``. ``cast_batch`` gives columns the types asked
for and ``arrow_message`` turns a pyarrow failure into the text of one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from ..errors import InputError, XentError
from .arrays import compute as pc
from .listcols import ListColumn, element_schema, list_columns, list_elements

BatchOpener = Callable[[Sequence[str], dict[str, pa.DataType], int], Iterator[pa.RecordBatch]]
RangedOpener = Callable[
    [Sequence[str], dict[str, pa.DataType], int, tuple[int, int]], Iterator[pa.RecordBatch]
]
FirstRows = Callable[[Sequence[str]], "pa.RecordBatch | None"]


@dataclass
class Source:
    """One input: its display name, format, schema and a way to stream its rows.

    ``batches(columns, types, batch_rows)`` reads only ``columns``; ``types`` asks
    for a column's type where the format has none of its own (CSV), e.g. ids as text.
    A numeric list column appears in ``schema`` as one column per element, and every
    column in its presented type (``presented_type``). ``line_of(row)``, for text
    inputs, is the 1-based line a 0-based data row starts on. ``generated_names`` says
    the column names are positions xent gave (``0..K-1``: a NumPy array, ``--no-header``),
    not names the file's writer chose, so they are no evidence of a class.
    ``partition_columns`` are the columns a hive-partitioned dataset takes from its
    directory names (``fold=0/``): its rows come directory by directory, not in the
    order they were written. ``parts``, for Parquet, holds each file's row groups'
    row counts: an engine cuts the input into pieces of whole row groups, and each
    piece streams its rows alone (``batches(..., rows=(start, stop))``).
    """

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _opener: BatchOpener = field(repr=False)
    size: int | None = None
    _position: Callable[[], int] | None = field(default=None, repr=False)
    _lists: dict[str, ListColumn] = field(default_factory=dict, repr=False)
    line_of: Callable[[int], int | None] | None = field(default=None, repr=False)
    _raw_types: dict[str, pa.DataType] = field(default_factory=dict, repr=False)
    generated_names: bool = False
    partition_columns: tuple[str, ...] = ()
    parts: tuple[tuple[int, ...], ...] | None = None
    _ranged: RangedOpener | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        fields = []
        for column in self.schema:
            shown = presented_type(column.type)
            if shown != column.type:
                self._raw_types[column.name] = column.type
                column = column.with_type(shown)
            fields.append(column)
        if self._raw_types:
            self.schema = pa.schema(fields, metadata=self.schema.metadata)

    def locate(self, error: XentError) -> XentError:
        """``error`` with the line of its row filled in when it is about this input."""
        if self.line_of is None or error.file != self.name:
            return error
        if error.row is not None and error.line is None:
            error.line = self.line_of(error.row)
        if error.rows and error.lines is None:
            error.lines = [self.line_of(r) for r in error.rows[:5]]
        return error

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def fraction_done(self, rows_done: int) -> float | None:
        """How far reading has come, from rows (when known) or bytes; None if unknown."""
        if self.num_rows:
            return min(1.0, rows_done / self.num_rows)
        if self.size and self._position is not None:
            try:
                return min(1.0, self._position() / self.size)
            except (OSError, ValueError, pa.ArrowException):  # closed: all of it is read
                return 1.0
        return None

    def batches(
        self,
        columns: Sequence[str],
        types: dict[str, pa.DataType],
        batch_rows: int,
        rows: tuple[int, int] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns`` in batches of at most ``batch_rows`` rows: all of them, or
        the rows ``[start, stop)`` (inputs with ``parts`` only)."""
        wanted = set(columns)
        owners = {n: c for c in self._lists.values() for n in c.names if n in wanted}
        real = list(dict.fromkeys(owners[c].name if c in owners else c for c in columns))
        row = 0 if rows is None else rows[0]
        # a column read in another type than presented gets the type asked for after
        # it is presented (pyarrow cannot cast a string_view dictionary to a number)
        later = {c: t for c, t in types.items() if c in self._raw_types}
        now = {c: t for c, t in types.items() if c not in later}
        if rows is None:
            stream = self._opener(real, now, batch_rows)
        else:
            if self._ranged is None:
                raise InputError("cannot read a range of rows of this input", file=self.name)
            stream = self._ranged(real, now, batch_rows, rows)
        try:
            for batch in stream:
                if self._raw_types:
                    batch = cast_batch(self._presented(batch), later, self.name)
                if owners:
                    batch = self._expanded(batch, columns, owners, types, row)
                row += batch.num_rows
                for start in range(0, max(batch.num_rows, 1), batch_rows):
                    part = batch.slice(start, batch_rows)
                    if part.num_rows:
                        yield part
        except (OSError, pa.ArrowException) as exc:  # a failure the format's reader let pass
            raise InputError(f"cannot read: {arrow_message(exc)}", file=self.name) from None

    def _presented(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = [
            present(column) if name in self._raw_types else column
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def _expanded(
        self,
        batch: pa.RecordBatch,
        columns: Sequence[str],
        owners: dict[str, ListColumn],
        types: dict[str, pa.DataType],
        row: int,
    ) -> pa.RecordBatch:
        elements: dict[str, pa.Array] = {}
        for column in dict.fromkeys(owners[c].name for c in columns if c in owners):
            spec = self._lists[column]
            arrays = list_elements(batch.column(column), spec, self.name, row)
            elements.update(zip(spec.names, arrays, strict=True))
        arrays = [elements[c] if c in elements else batch.column(c) for c in columns]
        return cast_batch(pa.RecordBatch.from_arrays(arrays, names=list(columns)), types, self.name)


def make_source(
    name: str,
    format: str,
    schema: pa.Schema,
    num_rows: int | None,
    opener: BatchOpener,
    first_rows: FirstRows | None = None,
    size: int | None = None,
    position: Callable[[], int] | None = None,
    kind: type[Source] | None = None,
) -> Source:
    """A ``Source`` (or a ``kind`` of one) whose numeric list columns are presented
    element by element."""
    lists = list_columns(schema, first_rows, name)
    if lists:
        schema = element_schema(schema, lists)
    return (kind or Source)(name, format, schema, num_rows, opener, size, position, lists)


def presented_type(kind: pa.DataType) -> pa.DataType:
    """The type xent sees a column as: decimals as float64 (other numbers as they are:
    ``--compat sklearn`` keeps float16 in float16), string-like types (large, view,
    dictionary-encoded) as string, a dictionary of other values as its values; any
    other type as it is."""
    if pa.types.is_dictionary(kind):
        return presented_type(kind.value_type)
    if pa.types.is_decimal(kind):
        return pa.float64()
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def present(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``array`` in its ``presented_type``; a dictionary is decoded (its values cast first,
    since pyarrow cannot take from a ``string_view`` dictionary)."""
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array(
            [present(chunk) for chunk in array.chunks], presented_type(array.type)
        )
    kind = presented_type(array.type)
    if kind == array.type:
        return array
    if pa.types.is_dictionary(array.type):
        return pc.take(present(array.dictionary), array.indices)
    return array.cast(kind)


def cast_batch(batch: pa.RecordBatch, types: dict[str, pa.DataType], name: str) -> pa.RecordBatch:
    """``batch`` with each column named in ``types`` cast to that type."""
    if not types:
        return batch
    arrays = []
    for col_name, column in zip(batch.schema.names, batch.columns, strict=True):
        wanted = types.get(col_name)
        if wanted is not None and column.type != wanted:
            try:
                column = column.cast(wanted)
            except (pa.ArrowException, ValueError) as exc:
                raise InputError(
                    f"cannot read as {wanted}: {arrow_message(exc)}", file=name, column=col_name
                ) from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def arrow_message(exc: BaseException) -> str:
    """The first line of a pyarrow failure, without its ``ArrowInvalid:`` prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("ArrowInvalid: ")
