"""The ``Source`` that every reader returns, and what the readers share.

A reader hands over a way to stream some columns of its input (``BatchOpener``)
and, where it can, a way to look at the first rows (``FirstRows``);
``make_source`` wraps them in a ``Source`` that presents numeric list columns
element by element (see ``listcols``). ``cast_batch`` gives columns the types asked
for and ``arrow_message`` turns a pyarrow failure into the text of one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from .errors import InputError
from .listcols import ListColumn, element_schema, list_columns, list_elements

BatchOpener = Callable[[Sequence[str], dict[str, pa.DataType], int], Iterator[pa.RecordBatch]]
FirstRows = Callable[[Sequence[str]], "pa.RecordBatch | None"]


@dataclass
class Source:
    """One input: its display name, format, schema and a way to stream its rows.

    ``batches(columns, types, batch_rows)`` reads only ``columns``; ``types`` asks
    for a column's type where the format has none of its own (CSV), e.g. ids as text.
    A numeric list column appears in ``schema`` as one column per element.
    """

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _opener: BatchOpener = field(repr=False)
    size: int | None = None
    _position: Callable[[], int] | None = field(default=None, repr=False)
    _lists: dict[str, ListColumn] = field(default_factory=dict, repr=False)

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
        self, columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns`` in batches of at most ``batch_rows`` rows."""
        wanted = set(columns)
        owners = {n: c for c in self._lists.values() for n in c.names if n in wanted}
        real = list(dict.fromkeys(owners[c].name if c in owners else c for c in columns))
        row = 0
        try:
            for batch in self._opener(real, types, batch_rows):
                if owners:
                    batch = self._expanded(batch, columns, owners, types, row)
                row += batch.num_rows
                for start in range(0, max(batch.num_rows, 1), batch_rows):
                    part = batch.slice(start, batch_rows)
                    if part.num_rows:
                        yield part
        except (OSError, pa.ArrowException) as exc:  # a failure the format's reader let pass
            raise InputError(f"cannot read: {arrow_message(exc)}", file=self.name) from None

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
) -> Source:
    """A ``Source`` whose numeric list columns are presented element by element."""
    lists = list_columns(schema, first_rows, name)
    if lists:
        schema = element_schema(schema, lists)
    return Source(name, format, schema, num_rows, opener, size, position, lists)


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
