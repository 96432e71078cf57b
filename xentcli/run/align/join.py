"""Rows joined on a key: LABELS held in memory, looked up for each batch of PREDS.
Every key of PREDS must be in LABELS, once; LABELS' keys must be present and unique;
the keys of LABELS that no row used are counted."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import AlignError, InputError
from ...io.arrays import compute as pc
from ...io.arrays import from_numpy, mask, numbers
from .layout import Layout
from .pairing import range_keys


class KeyJoin:
    """LABELS by key: ``rows(ids)`` gives each PREDS key's LABELS row, ``labels(rows)``
    those rows; ``finish()`` raises for keys missing or repeated (counted over the whole
    file, so the error says how many) and returns how many LABELS rows went unused."""

    def __init__(
        self, batches: Iterable[pa.RecordBatch], layout: Layout, preds_name: str, labels_name: str
    ) -> None:
        self.preds_name, self.labels_name = preds_name, labels_name
        self.id_col = layout.id_col
        self.hint = None
        if layout.join is not None and "pandas" in layout.join:
            self.hint = (
                "rows are joined on the pandas index both files carry; "
                "write them with to_csv/to_parquet(index=False) to pair rows by position"
            )
        parts = list(batches)
        if not sum(b.num_rows for b in parts):
            raise InputError("no rows (the file has a header but no data rows)", file=labels_name)
        self.table = pa.Table.from_batches(parts).combine_chunks()
        labels_id = layout.labels_id_col
        if labels_id is not None:
            self.keys = self.table.column(labels_id).combine_chunks()
        else:
            assert layout.labels_id_range is not None
            labels_id = "(pandas' RangeIndex)"
            self.keys = range_keys(layout.labels_id_range, 0, self.table.num_rows)
        _no_missing_ids(self.keys, labels_name, labels_id)
        _no_duplicate_ids(self.keys, labels_name, labels_id)
        self.seen = np.zeros(self.table.num_rows, dtype=bool)
        self.missing: list[str] = []
        self.n_missing = 0
        self.duplicates: list[str] = []
        self.n_duplicates = 0

    def rows(self, ids: pa.Array, offset: int) -> npt.NDArray[np.int64] | None:
        """The LABELS row of each of PREDS' ``ids`` (rows from ``offset``); None once any
        key so far is missing or repeated (``finish`` names them)."""
        _no_missing_ids(ids, self.preds_name, self.id_col or "(RangeIndex)", offset)
        index = pc.index_in(ids, value_set=self.keys)
        absent = mask(index.is_null())
        if absent.any():
            self.n_missing += int(absent.sum())
            keys = ids.filter(from_numpy(absent)).to_pylist()
            self.missing.extend(keys[: EXAMPLES - len(self.missing)])
        rows = np.nan_to_num(numbers(index, np.float64)).astype(np.int64)
        present = rows[~absent]
        again = self.seen[present] | _repeated_within(present)
        if again.any():
            self.n_duplicates += int(again.sum())
            repeated = ids.filter(from_numpy(~absent)).filter(from_numpy(again))
            for key in repeated.to_pylist():
                if len(self.duplicates) < EXAMPLES and key not in self.duplicates:
                    self.duplicates.append(key)
        self.seen[present] = True
        return rows if not self.n_missing and not self.n_duplicates else None

    def labels(self, rows: npt.NDArray[np.int64]) -> pa.Table:
        """LABELS' ``rows``, in that order."""
        return self.table.take(from_numpy(rows))

    def finish(self) -> int:
        """Raise for the keys of PREDS missing from LABELS or repeated; else the number
        of LABELS rows no key matched."""
        if self.n_missing:
            n = self.n_missing
            raise AlignError(
                f"{n} id{'s' if n > 1 else ''} of {self.preds_name} "
                f"{'are' if n > 1 else 'is'} not in {self.labels_name} "
                f"(e.g. {_examples(self.missing)})",
                column=self.id_col,
                hint=self.hint,
            )
        if self.n_duplicates:
            n = self.n_duplicates
            raise AlignError(
                f"{self.preds_name} repeats ids: {n} duplicate row"
                f"{'s' if n > 1 else ''} (e.g. {_examples(self.duplicates)})",
                column=self.id_col,
                hint=self.hint,
            )
        return int((~self.seen).sum())


EXAMPLES = 3


def _examples(keys: list[str]) -> str:
    return ", ".join(repr(k) for k in keys)


def _repeated_within(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True for each entry whose value already occurred earlier in ``rows``."""
    flags = np.zeros(rows.shape[0], dtype=bool)
    if rows.size:
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        flags[order[1:]] = ordered[1:] == ordered[:-1]
    return flags


def _no_missing_ids(
    ids: pa.Array | pa.ChunkedArray, name: str, column: str, offset: int = 0
) -> None:
    if ids.null_count:
        where = np.flatnonzero(mask(ids.is_null())) + offset
        raise AlignError(
            "missing id",
            file=name,
            column=column,
            rows=where[:EXAMPLES].tolist(),
            count=int(where.size),
        )


def _no_duplicate_ids(ids: pa.Array, name: str, column: str) -> None:
    counts = ids.value_counts()
    repeated = counts.filter(from_numpy(numbers(counts.field("counts")) > 1))
    if len(repeated):
        keys = repeated.field("values").to_pylist()
        raise AlignError(
            f"{len(keys)} id{'s' if len(keys) > 1 else ''} appear more than once "
            f"(e.g. {', '.join(repr(k) for k in keys[:EXAMPLES])})",
            file=name,
            column=column,
        )
