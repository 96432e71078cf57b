"""A directory or a glob of Parquet files read as one input, one file after another.

Which files belong is decided as pyarrow's datasets do (names starting with ``.`` or
``_`` are skipped), but by magic bytes rather than extension. The files are read in
natural path order (``part.2`` before ``part.10``, as Dask numbers them). Hive-style
directory names (``label=cat/part-0.parquet``, as DuckDB's ``PARTITION_BY`` and
pyarrow write them) become columns, typed as pyarrow's hive partitioning infers them
(integers as int32, else text; ``__HIVE_DEFAULT_PARTITION__`` is null), their values
repeated on each file's rows. Every file must have the first file's columns and
types, and a file that does not is named with what differs.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from .arrays import compute as pc
from .arrays import from_numpy, strings
from .detect import PARQUET_EXTENSIONS, PARQUET_MAGIC, extension
from .parquetread import read_batch_rows, read_settings, row_groups, rows_of
from .sourcebase import Source, arrow_message, cast_batch, make_source


def open_glob(pattern: str, fmt: str | None) -> Source:
    """Every file matching ``pattern``, sorted; all must be Parquet."""
    paths = (p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    return open_matches(pattern, paths, _glob_root(pattern), fmt)


def open_matches(
    pattern: str, matched: Iterable[str], root: str, fmt: str | None, place: Place | None = None
) -> Source:
    """The files a pattern matched (under ``root``), in natural order, as one Parquet
    dataset; a local glob's and a remote one's (``remote``) alike."""
    place = place or LOCAL
    paths = sorted(matched, key=natural_key)
    if not paths:
        raise InputError("no such file, and no file matches it as a pattern", file=pattern)
    _parquet_only(pattern, fmt)
    paths = [p for p in paths if _head_of(p, place) == PARQUET_MAGIC or not _hidden(p)]
    for path in paths:
        if _head_of(path, place) != PARQUET_MAGIC:
            raise InputError(
                f"is not a Parquet file (it lacks the PAR1 magic bytes); the pattern "
                f"{pattern!r} is read as one Parquet dataset",
                file=path,
            )
    return _open_parts(pattern, paths, root, place)


def open_directory(
    path: str, fmt: str | None, place: Place | None = None, name: str | None = None
) -> Source:
    """Every Parquet file (by its magic bytes) under ``path``, skipping names that start
    with ``.`` or ``_`` (``_SUCCESS``, ``.crc`` files), as pyarrow's datasets do; ``name``
    (else ``path``) names the dataset."""
    place = place or LOCAL
    name = name or path
    _parquet_only(name, fmt)
    found: list[str] = []
    others = 0
    for full in _walk(path, place):
        if _hidden(full):
            continue
        if _head_of(full, place) == PARQUET_MAGIC:
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
            file=name,
        )
    return _open_parts(name, sorted(found, key=natural_key), path, place)


def _walk(path: str, place: Place) -> Iterator[str]:
    """The files under ``path``, outside folders whose names start with ``.`` or ``_``."""
    if place.fs is not None:
        for full in place.files(path):
            if not any(f.startswith((".", "_")) for f in full[len(path) :].split("/")[1:-1]):
                yield full
        return
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_"))]
        for file in files:
            full = os.path.join(folder, file)
            if os.path.isfile(full):
                yield full


@dataclass(frozen=True)
class Place:
    """Where a dataset's files are read: the local disk (``fs`` None: a name is a
    path), or a pyarrow filesystem whose path ``root`` the URL ``url`` names (the
    files' names are URLs, their paths the filesystem's)."""

    fs: Any = None
    root: str = ""
    url: str = ""

    def path(self, name: str) -> str:
        """The filesystem path of the file named ``name``."""
        return name if self.fs is None else self.root + name[len(self.url) :]

    def name(self, path: str) -> str:
        """The name (a URL) of the filesystem path ``path``."""
        return path if self.fs is None else self.url + path[len(self.root) :]

    def opened(self, name: str) -> Any:
        """What pyarrow reads the file from: its path, or a remote file opened."""
        return name if self.fs is None else self.fs.open_input_file(self.path(name))

    def files(self, name: str, recursive: bool = True) -> list[str]:
        """The names of the files in the folder (a prefix on object storage) ``name``,
        and in its folders when ``recursive``; none when there is no such folder."""
        from pyarrow.fs import FileSelector  # only remote datasets list through it

        selector = FileSelector(self.path(name), allow_not_found=True, recursive=recursive)
        try:
            found = self.fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot list: {arrow_message(exc)}", file=name) from None
        return [self.name(info.path) for info in found if info.is_file]


LOCAL = Place()


def natural_key(path: str) -> list[str | int]:
    """A sort key putting ``part.2`` before ``part.10``: runs of digits compare as numbers."""
    return [int(run) if i % 2 else run for i, run in enumerate(re.split(r"(\d+)", path))]


def _glob_root(pattern: str) -> str:
    """The directory a glob's matches are under: its parts before the first wildcard."""
    parts = pattern.replace(os.sep, "/").split("/")
    fixed = list(itertools.takewhile(lambda p: not any(ch in p for ch in "*?["), parts[:-1]))
    return "/".join(fixed) or "."


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def _partitions(root: str, paths: list[str]) -> dict[str, list[str | None]]:
    """The hive partition values of each file: ``{key: [value per file]}``, from the
    ``key=value`` directories between ``root`` and the file; every file must have the
    same keys."""
    found: list[dict[str, str | None]] = []
    for path in paths:
        folders = os.path.relpath(os.path.dirname(path), root).replace(os.sep, "/").split("/")
        pairs: dict[str, str | None] = {}
        for folder in folders:
            key, equals, value = folder.partition("=")
            if equals and key:
                value = urllib.parse.unquote(value)
                pairs[key] = None if value == HIVE_NULL else value
        found.append(pairs)
    keys = list(found[0]) if found else []
    for path, pairs in zip(paths, found, strict=True):
        if list(pairs) != keys:
            raise InputError(
                f"its hive-style directories give the columns {list(pairs)}, those of "
                f"{paths[0]} give {keys}; every file of a dataset needs the same ones",
                file=path,
            )
    return {key: [pairs[key] for pairs in found] for key in keys}


def _partition_type(values: list[str | None]) -> pa.DataType:
    """int32 when every value is an integer that fits (as pyarrow infers it), else text."""
    present = [v for v in values if v is not None]
    if present and all(re.fullmatch(r"[+-]?\d+", v) and abs(int(v)) < 2**31 for v in present):
        return pa.int32()
    return pa.string()


def _agrees(column: pa.Array, value: str | None, key: str, path: str, rows_before: int) -> None:
    """An error when a file's own column ``key`` differs from its directory's value."""
    text = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
    if value:
        equal = pc.equal(text, strings([value])[0])  # no Python scalar: that imports pandas
        differs = pc.invert(pc.and_kleene(equal, pc.is_valid(equal)))
    else:
        differs = text.is_valid()
    if pc.any(differs).as_py():
        row = pc.index(differs, True).as_py()
        raise InputError(
            f"holds {text[row].as_py()!r}, but the file's directory says {key}={value}",
            file=path,
            column=key,
            row=rows_before + row,
        )


def _repeated(value: str | None, kind: pa.DataType, n: int) -> pa.Array:
    """A column of ``n`` copies of one partition value."""
    if value is None:
        return pa.nulls(n, kind)
    if kind == pa.int32():
        return from_numpy(np.full(n, int(value), dtype=np.int32))
    return strings([value] * n)


def _hidden(path: str) -> bool:
    """A name that datasets skip unless it is Parquet: ``_SUCCESS``, ``.part.crc``."""
    return os.path.basename(path).startswith((".", "_"))


def _parquet_only(name: str, fmt: str | None) -> None:
    if fmt not in (None, "parquet"):
        raise InputError(
            f"a directory or a pattern is read as Parquet files, not as {fmt}", file=name
        )


def _head_of(path: str, place: Place) -> bytes:
    if place.fs is not None:
        try:
            with place.opened(path) as handle:
                return handle.read(len(PARQUET_MAGIC))
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot open: {arrow_message(exc)}", file=path) from None
    try:
        with open(path, "rb") as handle:
            return handle.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


def _open_parts(name: str, paths: list[str], root: str, place: Place) -> Source:
    """Parquet files read one after the other, in the order of ``paths``, as one input;
    all must have the first file's columns and types, and the hive-style directories
    under ``root`` add columns. Remote files are read as object storage wants
    (``parquetread.read_settings``)."""
    metas: list[pq.FileMetaData] = []
    schema: pa.Schema | None = None
    for path in paths:
        try:
            meta = pq.read_metadata(place.opened(path))
            part_schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {arrow_message(exc)}", file=path) from None
        if schema is None:
            schema = part_schema
        else:
            _same_columns(part_schema, schema, path, paths[0])
        metas.append(meta)
    assert schema is not None
    partitions = _partitions(root, paths)
    partition_columns = tuple(partitions)
    kinds = {key: _partition_type(values) for key, values in partitions.items()}
    # polars writes the key into the files too: the files' column is read, and each
    # file's values must be its directory's
    in_files = {k: partitions.pop(k) for k in list(partitions) if k in schema.names}
    schema = pa.schema([*schema, *(pa.field(k, kinds[k]) for k in partitions)])

    def handle(i: int) -> pq.ParquetFile:
        settings = read_settings(remote=place.fs is not None)
        return pq.ParquetFile(place.opened(paths[i]), metadata=metas[i], **settings)

    def part(
        i: int, at: int, batch: pa.RecordBatch, columns: Sequence[str], stored: list[str]
    ) -> pa.RecordBatch:
        """A batch of file ``i`` (its first row the file's row ``at``) with its
        directories' columns, checked against the file's own copy of them."""
        arrays = dict(zip(stored, batch.columns[: len(stored)], strict=True))
        for key, values in in_files.items():
            if key in arrays:
                _agrees(arrays[key], values[i], key, paths[i], at)
        for key in columns:
            if key in partitions:
                arrays[key] = _repeated(partitions[key][i], kinds[key], batch.num_rows)
        return pa.RecordBatch.from_arrays([arrays[c] for c in columns], names=list(columns))

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        stored = [c for c in columns if c not in partitions]
        read = stored or [schema.names[0]]  # a partition column alone: rows from a column
        size = read_batch_rows(batch_rows, read)
        for i, path in enumerate(paths):
            at = 0  # rows read from this file
            try:
                for batch in handle(i).iter_batches(batch_size=size, columns=read):
                    # the same schema for every part: they may differ in nullability
                    yield cast_batch(part(i, at, batch, columns, stored), types, path)
                    at += batch.num_rows
            except (OSError, pa.ArrowException) as exc:
                raise InputError(
                    f"cannot read as Parquet: {arrow_message(exc)}", file=path
                ) from None

    def ranged(
        columns: Sequence[str],
        types: dict[str, pa.DataType],
        batch_rows: int,
        rows: tuple[int, int],
    ) -> Iterator[pa.RecordBatch]:
        stored = [c for c in columns if c not in partitions]
        read = stored or [schema.names[0]]
        size = read_batch_rows(batch_rows, read)
        i = 0
        try:
            for i, at, batch in rows_of(parts, rows, handle, read, size):
                yield cast_batch(part(i, at, batch, columns, stored), types, paths[i])
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"cannot read as Parquet: {arrow_message(exc)}", file=paths[i]
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
    parts = tuple(row_groups(m) for m in metas)
    source = make_source(name, "parquet", schema, num_rows, opener, first_rows)
    source.partition_columns = partition_columns
    source.parts, source._ranged = parts, ranged
    return source


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
