"""Arrow IPC files (alias Feather v2), Arrow IPC streams and Feather v1 as a ``Source``.

A file on disk is memory-mapped and only the columns asked for are read; an IPC
stream is read as it arrives; an IPC file or Feather v1 that comes through a pipe is
read whole first, as it must be to seek.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.ipc as ipc

from ..errors import InputError
from .detect import ARROW_MAGIC, ARROW_STREAM_MAGIC, FEATHER1_MAGIC
from .onepass import Peek
from .sourcebase import FirstRows, Source, arrow_message, cast_batch, make_source
from .tableread import table_source


def open_arrow_path(path: str, head: bytes) -> Source:
    """An Arrow IPC file (Feather v2) or stream, memory-mapped; Feather v1 read whole."""
    if head.startswith(FEATHER1_MAGIC):
        return _open_feather1(path, path)
    try:
        mapped = pa.memory_map(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {arrow_message(exc)}", file=path) from None
    if head.startswith(ARROW_STREAM_MAGIC):
        return open_arrow_stream(mapped, path, mapped.size(), mapped.tell)
    return _open_arrow_file(mapped, path)


def open_arrow_whole(data: pa.BufferReader, name: str, head: bytes) -> Source:
    """An Arrow IPC file or Feather v1 already read into memory."""
    if head.startswith(FEATHER1_MAGIC):
        return _open_feather1(data, name)
    return _open_arrow_file(data, name)


def _count_rows(reader: ipc.RecordBatchFileReader) -> int:
    """The file's rows: pyarrow 26 counts them from the footer; before it, the batches'
    lengths summed (``get_batch`` reads a batch's header, not its data)."""
    count = getattr(reader, "count_rows", None)
    if count is not None:
        return int(count())
    return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def _open_arrow_file(where: pa.NativeFile, name: str) -> Source:
    try:
        reader = ipc.open_file(where)
        schema = reader.schema
        num_rows = _count_rows(reader)
    except (OSError, pa.ArrowException) as exc:
        where.seek(0)
        magic = where.read(len(ARROW_MAGIC)) == ARROW_MAGIC
        raise InputError(
            f"cannot read as an Arrow IPC file: {arrow_message(exc)}",
            file=name,
            hint="it starts like one, so it may be cut short" if magic else None,
        ) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            if batch.num_rows:
                return batch.select(list(columns))
        return None

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        try:  # only the columns asked for are read (decompressed, if they are)
            fields = sorted(schema.get_field_index(c) for c in columns)
            part = ipc.open_file(where, options=ipc.IpcReadOptions(included_fields=fields))
            for i in range(part.num_record_batches):
                yield cast_batch(part.get_batch(i).select(list(columns)), types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Arrow IPC: {arrow_message(exc)}", file=name) from None

    return make_source(name, "arrow", schema, num_rows, opener, _guarded(first_rows, name))


def open_arrow_stream(
    where: pa.NativeFile, name: str, size: int | None, position: Callable[[], int] | None
) -> Source:
    """An Arrow IPC stream, read once as it arrives."""
    try:
        reader = ipc.open_stream(where)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            f"cannot read as an Arrow IPC stream: {arrow_message(exc)}", file=name
        ) from None

    def error(exc: BaseException, rows: int) -> InputError:
        return InputError(
            f"cannot read as an Arrow IPC stream after row {rows - 1}: {arrow_message(exc)}",
            file=name,
        )

    peek = Peek(iter(reader), name, error)
    return make_source(
        name, "arrow", reader.schema, None, peek.opener, peek.first_rows, size, position
    )


def _open_feather1(where: str | pa.NativeFile, name: str) -> Source:
    """Feather v1, which pyarrow reads only whole (and deprecates)."""
    import pyarrow.feather as feather  # rare: not imported until needed

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            table = feather.read_table(where, memory_map=False)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read as Feather: {arrow_message(exc)}", file=name) from None
    return table_source(table, name, "arrow")


def _guarded(first_rows: FirstRows, name: str) -> FirstRows:
    """``first_rows`` with pyarrow's failures as ``InputError``."""

    def guarded(columns: Sequence[str]) -> pa.RecordBatch | None:
        try:
            return first_rows(columns)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read: {arrow_message(exc)}", file=name) from None

    return guarded
