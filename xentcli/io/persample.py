"""Write per-sample rows (``--per-sample``) as the batches go: CSV, TSV or Parquet; or
gather them into one pyarrow Table (the Python door's ``per_sample=True``)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import OutputError, UsageError
from ..summary import SampleRows
from .arrays import from_numpy, strings
from .outputs import is_stream_target

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
PART_NAME = re.compile(r"^part-\d{5}\.(csv|tsv|parquet)$")  # the files of a parts folder


def format_for(path: str) -> str:
    """The per-sample format from the file extension; ``-`` is CSV."""
    if path == "-":
        return "csv"
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS and is_stream_target(path):  # /dev/stdout, >(...): CSV
        return "csv"
    if ext not in FORMATS:
        raise UsageError(
            f"--per-sample {path}: unknown extension {ext or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)} (or - for CSV on standard output)"
        )
    return FORMATS[ext]


def parts_format_for(path: str) -> str:
    """The format of a parts folder's files, from the folder's extension
    (``rows.parquet/``, as Spark names its output folders); CSV without one."""
    return FORMATS.get(os.path.splitext(path.rstrip("/" + os.sep))[1].lower(), "csv")


@dataclass(frozen=True)
class PartsTarget:
    """``--per-sample DIR`` on the Dask engine: the rows of piece ``i``, in input order,
    become ``part-{i:05d}.<format>`` in ``folder``, written by the worker that scored
    the piece. ``folder`` is a temporary the client renames to ``shown`` when the whole
    run succeeded; a piece without rows writes no file."""

    folder: str
    format: str
    shown: str

    def write(self, index: int, samples: Sequence[SampleRows]) -> None:
        """Write one piece's rows as its part file (on the worker that scored it)."""
        part = f"part-{index:05d}.{self.format}"
        shown = os.path.join(self.shown, part)
        if not os.path.isdir(self.folder):
            raise OutputError(
                f"cannot write {shown}: its folder is not on the Dask worker that scored "
                "the piece; on a cluster, --per-sample needs a folder every worker shares"
            )
        try:
            handle = open(os.path.join(self.folder, part), "wb")  # noqa: SIM115 - below
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", file=shown) from None
        with handle:
            writer = PerSampleWriter(handle, self.format, shown)
            try:
                for rows in samples:
                    writer.write(rows)
                writer.close()
            except BaseException:
                writer.abandon()
                raise


class PerSampleWriter:
    """Stream ``SampleRows`` to a binary handle; columns: key, label, loss, pred, p_true."""

    def __init__(self, handle: BinaryIO, fmt: str, name: str = "--per-sample") -> None:
        self.handle = handle
        self.name = name
        self.format = fmt
        self.delimiter = "\t" if fmt == "tsv" else ","
        self._parquet: pq.ParquetWriter | None = None
        self._started = False

    def write(self, rows: SampleRows) -> None:
        try:
            self._write(_record_batch(rows))
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk, a device that refuses
            raise OutputError(f"cannot write: {exc.strerror or exc}", file=self.name) from None

    def _write(self, batch: pa.RecordBatch) -> None:
        if self.format == "parquet":
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.handle, batch.schema)
            self._parquet.write_batch(batch)
            return
        if not self._started:
            self.handle.write(_csv_lines([batch.schema.names], self.delimiter))
            self._started = True
        self.handle.write(self._csv(batch))

    def _csv(self, batch: pa.RecordBatch) -> bytes:
        """pyarrow writes the batch unquoted; a batch with a delimiter, quote or newline in
        a name goes through the csv module, which quotes only those cells."""
        buffer = io.BytesIO()
        options = pacsv.WriteOptions(
            include_header=False, delimiter=self.delimiter, quoting_style="none"
        )
        try:
            pacsv.write_csv(batch, buffer, write_options=options)
        except pa.ArrowInvalid:
            return _csv_lines(
                zip(*(c.to_pylist() for c in batch.columns), strict=True), self.delimiter
            )
        return buffer.getvalue()

    def abandon(self) -> None:
        """Let go of a run that failed: its file is removed, so only the Parquet writer
        needs closing now (else it complains when collected, after the file is gone)."""
        if self._parquet is not None:
            with contextlib.suppress(Exception):
                self._parquet.close()
            self._parquet = None

    def close(self) -> None:
        """Finish the file (Parquet's footer); the handle itself stays open."""
        try:
            if self._parquet is not None:
                self._parquet.close()
            self.handle.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", file=self.name) from None


class TableSink:
    """Gather ``SampleRows`` into one pyarrow Table with the columns of ``--per-sample``."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []

    def write(self, rows: SampleRows) -> None:
        self.batches.append(_record_batch(rows))

    def table(self) -> pa.Table:
        return pa.Table.from_batches(self.batches)


def _csv_lines(rows: Iterable[Sequence[object]], delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows([repr(v) if isinstance(v, float) else v for v in row] for row in rows)
    return out.getvalue().encode()


def _record_batch(rows: SampleRows) -> pa.RecordBatch:
    names = strings(rows.classes)
    columns = {
        rows.key_name: rows.keys,
        "label": rows.label_text
        if rows.label_text is not None
        else names.take(from_numpy(rows.labels)),
        "loss": from_numpy(rows.loss.astype(np.float64, copy=False)),
        "pred": rows.pred_text
        if rows.pred_text is not None
        else names.take(from_numpy(rows.preds)),
        "p_true": from_numpy(rows.p_true.astype(np.float64, copy=False)),
    }
    if rows.weights is not None:
        columns["weight"] = from_numpy(rows.weights.astype(np.float64, copy=False))
    return pa.record_batch(columns)
