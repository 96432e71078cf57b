"""Pair prediction rows with labels and pick the columns: by position or by ``--id-col``.

``plan`` decides which columns are predictions, labels and ids from the schemas;
``Aligner`` streams ``Batch`` objects (a float64 block of scores, the raw labels,
the ids) and counts what a join leaves over.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .arrays import from_numpy, mask, numbers
from .errors import AlignError, InputError, UsageError
from .options import Options
from .source import Source

INDEX_COLUMN = re.compile(r"^(|Unnamed: \d+|__index_level_\d+__)$")
LABEL_DEFAULTS = ("label", "target", "y", "y_true")
EXAMPLES = 3


@dataclass(frozen=True)
class Layout:
    """Which columns play which part, and the input's float type (for ``--eps auto``).

    Labels are one column (``label_col``), or ``label_cols``: a numeric column per
    class, in the order of ``pred_cols`` (soft targets, one-hot or multilabel).
    """

    pred_cols: tuple[str, ...]
    label_col: str
    labels_in_preds: bool
    id_col: str | None
    dtype: np.dtype
    skipped: tuple[str, ...] = ()
    label_cols: tuple[str, ...] | None = None
    weight_col: str | None = None
    weight_in_preds: bool = True

    @property
    def label_columns(self) -> tuple[str, ...]:
        """The columns read as labels."""
        return self.label_cols if self.label_cols is not None else (self.label_col,)


@dataclass
class Batch:
    """Aligned rows: ``offset`` is the PREDS row of the first; ``label_rows`` the LABELS rows.

    ``labels`` is the label column, or None when ``targets`` holds label columns as a
    float64 block; ``weights`` the per-sample weights when a weight column is given.
    """

    offset: int
    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    ids: pa.Array | None
    label_rows: npt.NDArray[np.int64] | None = None
    targets: npt.NDArray[np.float64] | None = None
    weights: npt.NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def plan(preds: Source, labels: Source | None, options: Options) -> Layout:
    """Decide the prediction, label and id columns from the schemas and the options."""
    for source in (preds, labels):
        if source is not None:
            _no_duplicate_names(source)
    id_col = options.id_col
    if id_col is not None:
        for source in (preds, labels):
            if source is not None and id_col not in source.columns:
                raise InputError(f"no id column {id_col!r}{_listing(source)}", file=source.name)
    label_source = labels if labels is not None else preds
    weight_col, weight_in_preds = _weight_column(preds, labels, options)
    if weight_col is not None and weight_col in (id_col, options.label_col):
        raise UsageError(f"--weight-col {weight_col!r} is also the id or label column")
    label_col = _label_column(
        label_source, options, {id_col, weight_col}, sole_column_ok=labels is not None
    )
    exclude = {id_col, label_col, weight_col}  # never a prediction
    pred_cols, skipped = _pred_columns(preds, options, exclude)
    label_cols = None
    if labels is not None and label_col == "":
        label_cols = _label_columns(labels, pred_cols, {id_col, weight_col})
        if label_cols is None:
            raise _no_label_column(labels)
    return Layout(
        pred_cols=pred_cols,
        label_col=label_col,
        labels_in_preds=labels is None,
        id_col=id_col,
        dtype=_float_type(preds.schema, pred_cols),
        skipped=skipped,
        label_cols=label_cols,
        weight_col=weight_col,
        weight_in_preds=weight_in_preds,
    )


def _weight_column(
    preds: Source, labels: Source | None, options: Options
) -> tuple[str | None, bool]:
    """``--weight-col``: a column of PREDS, or else of LABELS (SPEC)."""
    name = options.weight_col
    if name is None:
        return None, True
    if name in preds.columns:
        source, in_preds = preds, True
    elif labels is not None and name in labels.columns:
        source, in_preds = labels, False
    else:
        where = f"{preds.name} or {labels.name}" if labels is not None else preds.name
        raise InputError(f"no weight column {name!r} in {where}{_listing(preds)}")
    if not _is_numeric(source.schema.field(name).type) and source.format not in ("csv", "tsv"):
        raise InputError(
            f"weight column is not numeric ({source.schema.field(name).type})",
            file=source.name,
            column=name,
        )
    return name, in_preds


LABEL_PREFIXES = ("y_", "t_", "true_", "target_", "targets_", "label_", "labels_", "soft_")


def _label_columns(
    labels: Source, pred_cols: Sequence[str], exclude: set[str | None]
) -> tuple[str, ...] | None:
    """A numeric column of LABELS per class, named like the prediction columns (the
    same names, or the same class names under a prefix such as ``y_``), in the order
    of ``pred_cols``; None when LABELS has no such columns."""
    from .infer import class_names

    wanted = class_names(pred_cols)
    candidates = [
        c.name
        for c in labels.schema
        if c.name not in exclude and not INDEX_COLUMN.match(c.name) and _is_numeric(c.type)
    ]
    if len(candidates) != len(pred_cols) or len(pred_cols) < 2:
        return None
    if set(candidates) == set(pred_cols):
        return tuple(pred_cols)
    names = class_names(candidates)
    for prefix in LABEL_PREFIXES:
        if all(c.startswith(prefix) for c in candidates):
            names = tuple(c[len(prefix) :] for c in candidates)
            names = class_names(names) if set(names) != set(wanted) else names
            break
    by_name = dict(zip(names, candidates, strict=True))
    if set(by_name) != set(wanted):
        return None
    return tuple(by_name[name] for name in wanted)


def _no_duplicate_names(source: Source) -> None:
    seen: set[str] = set()
    for name in source.columns:
        if name in seen:
            raise InputError(
                "duplicate column name; each column needs its own name",
                file=source.name,
                column=name,
            )
        seen.add(name)


def _label_column(
    source: Source, options: Options, exclude: set[str | None], sole_column_ok: bool
) -> str:
    """The label column's name; ``""`` when LABELS may instead hold a column per class."""
    names = source.columns
    if options.label_col is not None:
        if options.label_col not in names:
            raise InputError(
                f"no label column {options.label_col!r}{_listing(source)}", file=source.name
            )
        return options.label_col
    for default in LABEL_DEFAULTS:
        if default in names:
            return default
    lowered = {name.lower(): name for name in names}
    for default in LABEL_DEFAULTS:
        if default in lowered:
            return lowered[default]
    others = [n for n in names if n not in exclude and not INDEX_COLUMN.match(n)]
    if sole_column_ok and len(others) == 1:
        return others[0]
    if sole_column_ok and len(others) > 1:
        return ""  # perhaps a column per class; plan() looks
    raise _no_label_column(source)


def _no_label_column(source: Source) -> InputError:
    return InputError(
        "no label column: name it 'label', 'target', 'y' or 'y_true', or pass --label-col "
        "(or give LABELS a numeric column per class, named like the prediction columns)"
        f"{_listing(source)}",
        file=source.name,
    )


def _pred_columns(
    preds: Source, options: Options, exclude: set[str | None]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    schema = preds.schema
    if options.pred_cols is not None:
        chosen: dict[str, None] = {}  # ordered, and a set for 100,000 names
        names = set(schema.names)
        for item in options.pred_cols:
            if item not in names and any(ch in item for ch in "*?["):
                matches = [n for n in schema.names if fnmatch.fnmatchcase(n, item)]
                if not matches:
                    raise UsageError(
                        f"--pred-cols {item!r} matches no column{_listing(preds)}", file=preds.name
                    )
            elif item in names:  # a name wins over a pattern: probs[0], [cat]
                matches = [item]
            elif f"{item}[0]" in names:  # a list column by its own name
                matches = [n for n in schema.names if n.startswith(f"{item}[")]
            else:
                raise UsageError(
                    f"--pred-cols: no column {item!r}{_listing(preds)}", file=preds.name
                )
            chosen.update(dict.fromkeys(matches))
        for name in chosen:
            if not _is_numeric(schema.field(name).type):
                raise InputError(
                    f"prediction column is not numeric ({schema.field(name).type})",
                    file=preds.name,
                    column=name,
                )
        return tuple(chosen), ()
    found: list[str] = []
    skipped: list[str] = []
    for column in schema:
        if column.name in exclude or INDEX_COLUMN.match(column.name):
            continue
        (found if _is_numeric(column.type) else skipped).append(column.name)
    if not found:
        raise InputError(
            f"no numeric prediction columns{_listing(preds)}",
            file=preds.name,
            hint="pass --pred-cols",
        )
    return tuple(found), tuple(skipped)


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _float_type(schema: pa.Schema, columns: Sequence[str]) -> np.dtype:
    kinds = {schema.field(c).type for c in columns}
    if kinds == {pa.float32()}:
        return np.dtype(np.float32)
    if kinds == {pa.float16()}:
        return np.dtype(np.float16)
    return np.dtype(np.float64)


def _listing(source: Source) -> str:
    names = source.columns
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f" (columns: {shown})" if names else " (no columns)"


def read_types(source: Source, layout: Layout, *, as_labels: bool) -> dict[str, pa.DataType]:
    """Types to ask of a reader: ids as text; for CSV, labels as text (``00`` may be a
    class name, not the number 0) and scores as float64."""
    types: dict[str, pa.DataType] = {}
    if layout.id_col is not None:
        types[layout.id_col] = pa.string()
    if source.format in ("csv", "tsv"):
        if as_labels or layout.labels_in_preds:
            if layout.label_cols is not None:
                types.update(dict.fromkeys(layout.label_cols, pa.float64()))
            else:
                types[layout.label_col] = pa.string()
        if not as_labels:
            types.update(dict.fromkeys(layout.pred_cols, pa.float64()))
        if layout.weight_col is not None and as_labels != layout.weight_in_preds:
            types[layout.weight_col] = pa.float64()
    return types


def scores_block(
    batch: pa.RecordBatch | pa.Table, columns: Sequence[str]
) -> npt.NDArray[np.float64]:
    """The prediction columns as one float64 (rows, classes) block; nulls become NaN."""
    block = np.empty((batch.num_rows, len(columns)), dtype=np.float64, order="F")
    for j, name in enumerate(columns):
        block[:, j] = numbers(batch.column(name))
    return block


@dataclass
class Aligner:
    """Stream aligned batches; afterwards ``unmatched_labels`` counts labels no row used."""

    preds: Source
    labels: Source | None
    layout: Layout
    batch_rows: int
    unmatched_labels: int | None = field(default=None, init=False)

    def __iter__(self) -> Iterator[Batch]:
        if self.labels is None:
            return self._own_labels()
        if self.layout.id_col is not None:
            return self._by_key(self.labels)
        return self._by_position(self.labels)

    def _pred_batches(self) -> Iterator[pa.RecordBatch]:
        layout = self.layout
        columns = [*layout.pred_cols]
        extras = (
            layout.id_col,
            layout.label_col if layout.labels_in_preds else None,
            layout.weight_col if layout.weight_in_preds else None,
        )
        for extra in extras:
            if extra is not None and extra not in columns:
                columns.append(extra)
        types = read_types(self.preds, layout, as_labels=False)
        return self.preds.batches(columns, types, self.batch_rows)

    def _ids(self, batch: pa.RecordBatch) -> pa.Array | None:
        return batch.column(self.layout.id_col) if self.layout.id_col is not None else None

    def _batch(
        self, offset: int, preds: pa.RecordBatch, labels: pa.RecordBatch | pa.Table
    ) -> Batch:
        """A ``Batch`` from rows of PREDS and the matching rows of LABELS."""
        layout = self.layout
        weights = None
        if layout.weight_col is not None:
            source = preds if layout.weight_in_preds else labels
            weights = numbers(source.column(layout.weight_col), np.float64)
        targets = None
        label_column = None
        if layout.label_cols is not None:
            targets = scores_block(labels, layout.label_cols)
        else:
            label_column = labels.column(layout.label_col)
            if isinstance(label_column, pa.ChunkedArray):
                label_column = label_column.combine_chunks()
        return Batch(
            offset,
            scores_block(preds, layout.pred_cols),
            label_column,
            self._ids(preds),
            targets=targets,
            weights=weights,
        )

    def _own_labels(self) -> Iterator[Batch]:
        offset = 0
        for batch in self._pred_batches():
            yield self._batch(offset, batch, batch)
            offset += batch.num_rows

    def _label_batches(self, labels: Source) -> Iterator[pa.RecordBatch]:
        layout = self.layout
        columns = list(layout.label_columns)
        if layout.id_col is not None:
            columns.insert(0, layout.id_col)
        if layout.weight_col is not None and not layout.weight_in_preds:
            columns.append(layout.weight_col)
        types = read_types(labels, layout, as_labels=True)
        return labels.batches(columns, types, self.batch_rows)

    def _by_position(self, labels: Source) -> Iterator[Batch]:
        if (
            self.preds.num_rows is not None
            and labels.num_rows is not None
            and self.preds.num_rows != labels.num_rows
        ):
            raise self._length_error(self.preds.num_rows, labels.num_rows, labels)
        taker = _RowTaker(self._label_batches(labels))
        offset = 0
        preds_iter = self._pred_batches()
        for batch in preds_iter:
            label_part = taker.take(batch.num_rows)
            if label_part.num_rows < batch.num_rows:
                n_preds = offset + batch.num_rows + sum(b.num_rows for b in preds_iter)
                raise self._length_error(n_preds, offset + label_part.num_rows, labels)
            yield self._batch(offset, batch, label_part)
            offset += batch.num_rows
        rest = taker.count_rest()
        if rest:
            raise self._length_error(offset, offset + rest, labels)
        self.unmatched_labels = 0

    def _length_error(self, n_preds: int, n_labels: int, labels: Source) -> AlignError:
        return AlignError(
            f"{self.preds.name} has {n_preds} rows but {labels.name} has {n_labels}; "
            f"rows are paired by position unless --id-col names a key column to join on"
        )

    def _by_key(self, labels: Source) -> Iterator[Batch]:
        id_col = self.layout.id_col
        assert id_col is not None
        batches = list(self._label_batches(labels))
        if not sum(b.num_rows for b in batches):
            raise InputError("no rows (the file has a header but no data rows)", file=labels.name)
        table = pa.Table.from_batches(batches).combine_chunks()
        label_ids = table.column(id_col).combine_chunks()
        _no_missing_ids(label_ids, labels.name, id_col)
        _no_duplicate_ids(label_ids, labels.name, id_col)
        label_values = table.drop_columns([id_col])
        seen = np.zeros(table.num_rows, dtype=bool)
        missing: list[str] = []
        n_missing = 0
        duplicates: list[str] = []
        n_duplicates = 0
        offset = 0
        for batch in self._pred_batches():
            ids = batch.column(id_col)
            _no_missing_ids(ids, self.preds.name, id_col, offset)
            index = pc.index_in(ids, value_set=label_ids)
            absent = mask(index.is_null())
            if absent.any():
                n_missing += int(absent.sum())
                keys = ids.filter(from_numpy(absent)).to_pylist()
                missing.extend(keys[: EXAMPLES - len(missing)])
            rows = np.nan_to_num(numbers(index, np.float64)).astype(np.int64)
            present = rows[~absent]
            again = seen[present] | _repeated_within(present)
            if again.any():
                n_duplicates += int(again.sum())
                repeated = ids.filter(from_numpy(~absent)).filter(from_numpy(again))
                for key in repeated.to_pylist():
                    if len(duplicates) < EXAMPLES and key not in duplicates:
                        duplicates.append(key)
            seen[present] = True
            if not n_missing and not n_duplicates:
                aligned = self._batch(offset, batch, label_values.take(from_numpy(rows)))
                aligned.label_rows = rows
                yield aligned
            offset += batch.num_rows
        if n_missing:
            raise AlignError(
                f"{n_missing} id{'s' if n_missing > 1 else ''} of {self.preds.name} "
                f"{'are' if n_missing > 1 else 'is'} not in {labels.name} "
                f"(e.g. {_examples(missing)})",
                column=id_col,
            )
        if n_duplicates:
            raise AlignError(
                f"{self.preds.name} repeats ids: {n_duplicates} duplicate row"
                f"{'s' if n_duplicates > 1 else ''} (e.g. {_examples(duplicates)})",
                column=id_col,
            )
        self.unmatched_labels = int((~seen).sum())


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


class _RowTaker:
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
