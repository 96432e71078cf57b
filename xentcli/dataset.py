"""A directory or a glob of Parquet files read as one input, one file after another.

Which files belong is decided as pyarrow's datasets do (names starting with ``.`` or
``_`` are skipped), but by magic bytes rather than extension; every file must have
the first file's columns and types, and a file that does not is named with what
differs.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .detect import PARQUET_EXTENSIONS, PARQUET_MAGIC, extension
from .errors import InputError
from .parquetread import PARQUET_BUFFER_BYTES, read_batch_rows
from .sourcebase import Source, arrow_message, cast_batch, make_source


def open_glob(pattern: str, fmt: str | None) -> Source:
    """Every file matching ``pattern``, sorted; all must be Parquet."""
    paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not paths:
        raise InputError("no such file, and no file matches it as a pattern", file=pattern)
    _parquet_only(pattern, fmt)
    paths = [p for p in paths if _head_of(p) == PARQUET_MAGIC or not _hidden(p)]
    for path in paths:
        if _head_of(path) != PARQUET_MAGIC:
            raise InputError(
                f"is not a Parquet file (it lacks the PAR1 magic bytes); the pattern "
                f"{pattern!r} is read as one Parquet dataset",
                file=path,
            )
    return _open_parts(pattern, paths)


def open_directory(path: str, fmt: str | None) -> Source:
    """Every Parquet file (by its magic bytes) under ``path``, skipping names that start
    with ``.`` or ``_`` (``_SUCCESS``, ``.crc`` files), as pyarrow's datasets do."""
    _parquet_only(path, fmt)
    found: list[str] = []
    others = 0
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_"))]
        for file in files:
            full = os.path.join(folder, file)
            if _hidden(full) or not os.path.isfile(full):
                continue
            if _head_of(full) == PARQUET_MAGIC:
                found.append(full)
            elif extension(full) in PARQUET_EXTENSIONS:
                raise InputError("is not a Parquet file (it lacks the PAR1 magic bytes)", file=full)
            else:
                others += 1
    if not found:
        besides = f" ({others} other file{'s' if others != 1 else ''})" if others else ""
        raise InputError(
            f"is a directory with no Parquet files{besides}; a directory is read as one "
            "Parquet dataset",
            file=path,
        )
    return _open_parts(path, sorted(found))


def _hidden(path: str) -> bool:
    """A name that datasets skip unless it is Parquet: ``_SUCCESS``, ``.part.crc``."""
    return os.path.basename(path).startswith((".", "_"))


def _parquet_only(name: str, fmt: str | None) -> None:
    if fmt not in (None, "parquet"):
        raise InputError(
            f"a directory or a pattern is read as Parquet files, not as {fmt}", file=name
        )


def _head_of(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


def _open_parts(name: str, paths: list[str]) -> Source:
    """Parquet files read one after the other, in the order of ``paths``, as one input;
    all must have the first file's columns and types."""
    metas: list[pq.FileMetaData] = []
    schema: pa.Schema | None = None
    for path in paths:
        try:
            meta = pq.read_metadata(path)
            part_schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=path) from None
        if schema is None:
            schema = part_schema
        else:
            _same_columns(part_schema, schema, path, paths[0])
        metas.append(meta)
    assert schema is not None

    def handle(i: int) -> pq.ParquetFile:
        return pq.ParquetFile(
            paths[i], metadata=metas[i], pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES
        )

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        size = read_batch_rows(batch_rows, columns)
        for i, path in enumerate(paths):
            try:
                for batch in handle(i).iter_batches(batch_size=size, columns=list(columns)):
                    # the same schema for every part: they may differ in nullability
                    yield cast_batch(
                        pa.RecordBatch.from_arrays(batch.columns, names=list(columns)),
                        types,
                        path,
                    )
            except (OSError, pa.ArrowException) as exc:
                raise InputError(
                    f"cannot read as Parquet: {arrow_message(exc)}", file=path
                ) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for i, path in enumerate(paths):
            if not metas[i].num_rows:
                continue
            try:
                return next(handle(i).iter_batches(batch_size=1, columns=list(columns)))
            except (OSError, pa.ArrowException, StopIteration) as exc:
                raise InputError(
                    f"cannot read as Parquet: {arrow_message(exc)}", file=path
                ) from None
        return None

    num_rows = sum(m.num_rows for m in metas)
    return make_source(name, "parquet", schema, num_rows, opener, first_rows)


def _same_columns(schema: pa.Schema, first: pa.Schema, path: str, first_path: str) -> None:
    """An error naming what differs between a part's columns and the first part's."""
    missing = [n for n in first.names if n not in schema.names]
    extra = [n for n in schema.names if n not in first.names]
    if missing or extra:
        what = "; ".join(
            f"{word} {', '.join(repr(n) for n in names)}"
            for word, names in (("lacks", missing), ("has extra", extra))
            if names
        )
        raise InputError(
            f"its columns differ from those of {first_path}: it {what}; "
            "every file of a dataset needs the same columns",
            file=path,
        )
    for column in schema:
        expected = first.field(column.name).type
        if not column.type.equals(expected):
            raise InputError(
                f"type {column.type} differs from {expected} in {first_path}; "
                "every file of a dataset needs the same column types",
                file=path,
                column=column.name,
            )
