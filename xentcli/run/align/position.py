"""Rows paired by position: LABELS' batches cut to PREDS', and the error when the two
files differ in length."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from ...errors import AlignError
from ...io.source import Source


class RowTaker:
    """Take exactly ``n`` rows at a time from a stream of record batches."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self._pending: pa.RecordBatch | None = None

    def take(self, n: int) -> pa.RecordBatch:
        parts: list[pa.RecordBatch] = []
        need = n
        while need > 0:
            if self._pending is None or self._pending.num_rows == 0:
                self._pending = next(self._batches, None)
                if self._pending is None:
                    break
            part = self._pending.slice(0, need)
            self._pending = self._pending.slice(part.num_rows)
            parts.append(part)
            need -= part.num_rows
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return pa.RecordBatch.from_pylist([])
        return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]

    def count_rest(self) -> int:
        rest = self._pending.num_rows if self._pending is not None else 0
        return rest + sum(b.num_rows for b in self._batches)


def _first_line_was_data(source: Source) -> bool:
    """A text file whose first line ``--no-header`` read as data (columns named 0..K-1)."""
    return source.format in ("csv", "tsv") and source.generated_names


def length_error(preds: Source, n_preds: int, n_labels: int, labels: Source) -> AlignError:
    """Different lengths; when the longer file is one row longer and its first line
    was read as data (``--no-header``), that line may be a header: pandas writes
    ``0`` above an unnamed Series (``pd.Series(y).to_csv(index=False)``)."""
    longer = labels if n_labels > n_preds else preds
    header = ""
    if abs(n_labels - n_preds) == 1 and _first_line_was_data(longer):
        header = (
            f"; {longer.name}'s first line was read as data (--no-header reads every "
            "text file so): if it is a header, such as the '0' pandas writes above an "
            "unnamed Series, write the file without it (pandas: header=False) or with "
            "a named header (pandas: to_csv(index=False, header=['label']))"
        )
    return AlignError(
        f"{preds.name} has {n_preds} rows but {labels.name} has {n_labels}"
        f"{header}; rows are paired by position unless --id-col names a key column to "
        "join on"
    )
