"""One Parquet file (a path, or the bytes of a stream) as a ``Source``.

Read in one pass with a small buffer rather than pyarrow's pre-buffering (a remote
file is pre-buffered: ``read_settings``), in
batches large enough that the cost paid per column per batch stays small;
``dataset`` reads directories and globs of Parquet files with the same settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from .sourcebase import Source, arrow_message, cast_batch, make_source

PARQUET_BUFFER_BYTES = 64 << 10  # one-pass reads: 3x to 5x faster than pre_buffer, less memory
PARQUET_MIN_BATCH_ROWS = 16384  # pyarrow pays per column per batch: 1000 columns read
# 5x slower in batches of 1048 rows than of 65536
MANY_COLUMNS = 64  # the floor is for many physical columns; a list column is one


def read_batch_rows(batch_rows: int, columns: Sequence[str]) -> int:
    """Rows per Parquet read: ``batch_rows``, raised to ``PARQUET_MIN_BATCH_ROWS`` when
    many physical columns are read (batches() slices them back). A list column of
    10,000 values is one column, and a floor would hold 16,384 x 10,000 values at once."""
    if len(columns) <= MANY_COLUMNS:
        return batch_rows
    return max(batch_rows, PARQUET_MIN_BATCH_ROWS)


def row_groups(meta: pq.FileMetaData) -> tuple[int, ...]:
    """The row counts of a file's row groups, in order."""
    return tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))


def rows_of(
    parts: Sequence[tuple[int, ...]],
    rows: tuple[int, int],
    open_file: Callable[[int], pq.ParquetFile],
    columns: Sequence[str],
    batch_size: int,
) -> Iterator[tuple[int, int, pa.RecordBatch]]:
    """The rows ``[start, stop)`` of files whose row groups hold ``parts`` rows, as
    (file index, the file's row of the batch's first row, batch): only the row groups
    they overlap are read, and the batches cut to the range."""
    start, stop = rows
    first = 0  # the global row of the current group's first row
    for i, groups in enumerate(parts):
        in_file = 0  # the file's row of the current group's first row
        for g, count in enumerate(groups):
            lo, hi = max(start - first, 0), min(stop - first, count)
            first += count
            in_file += count
            if lo >= hi:
                continue
            at = 0  # the row within the group of the batch's first row
            for batch in open_file(i).iter_batches(
                batch_size=batch_size, row_groups=[g], columns=list(columns)
            ):
                skip = max(lo - at, 0)
                cut = batch.slice(skip, max(min(hi - at, batch.num_rows) - skip, 0))
                if cut.num_rows:
                    yield i, in_file - count + at + skip, cut
                at += batch.num_rows
                if at >= hi:
                    break
        if first >= stop:
            return


def read_settings(remote: bool = False) -> dict[str, Any]:
    """``ParquetFile``'s read settings: a local file in one pass with a small buffer; a
    remote one pre-buffered, a few large ranged reads (a 101 MB file on S3: 5 GETs
    instead of 1035)."""
    if remote:
        return {"pre_buffer": True}
    return {"pre_buffer": False, "buffer_size": PARQUET_BUFFER_BYTES}


def open_parquet(where: str | pa.NativeFile, name: str, remote: bool = False) -> Source:
    try:
        handle = pq.ParquetFile(where, **read_settings(remote))
        schema = handle.schema_arrow
        num_rows = handle.metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=name) from None

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        try:
            size = read_batch_rows(batch_rows, columns)
            for batch in handle.iter_batches(batch_size=size, columns=list(columns)):
                yield cast_batch(batch, types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=name) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        try:
            for batch in handle.iter_batches(batch_size=1, columns=list(columns)):
                if batch.num_rows:
                    return batch
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=name) from None
        return None

    def ranged(
        columns: Sequence[str],
        types: dict[str, pa.DataType],
        batch_rows: int,
        rows: tuple[int, int],
    ) -> Iterator[pa.RecordBatch]:
        try:
            size = read_batch_rows(batch_rows, columns)
            for _, _, batch in rows_of(parts, rows, lambda _: handle, columns, size):
                yield cast_batch(batch, types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=name) from None

    parts = (row_groups(handle.metadata),)
    source = make_source(name, "parquet", schema, num_rows, opener, first_rows)
    source.parts, source._ranged = parts, ranged
    return source
