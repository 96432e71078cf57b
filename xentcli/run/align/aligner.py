"""``Aligner``: stream aligned ``Batch`` objects as the ``Layout`` says, by position or
by key, and check on every batch what must agree (PREDS' own label column, a key both
files carry)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import AlignError
from ...io.arrays import compute as pc
from ...io.arrays import mask, numbers, strings
from ...io.source import Source
from .batch import Batch, scores_block
from .join import KeyJoin
from .layout import Layout, read_types
from .pairing import range_keys
from .position import RowTaker, length_error


@dataclass
class Aligner:
    """Stream aligned batches; afterwards ``unmatched_labels`` counts labels no row used.

    ``rows`` limits the stream to the rows ``[start, stop)`` of both inputs, numbered as
    in the whole input (an engine's piece; rows paired by position)."""

    preds: Source
    labels: Source | None
    layout: Layout
    batch_rows: int
    classes: Sequence[str] | None = None  # --classes: the class of each label index
    rows: tuple[int, int] | None = None
    unmatched_labels: int | None = field(default=None, init=False)

    def __iter__(self) -> Iterator[Batch]:
        if self.labels is None:
            return self._own_labels()
        if self.layout.joined:
            return self._by_key(self.labels)
        return self._by_position(self.labels)

    def _pred_batches(self) -> Iterator[pa.RecordBatch]:
        layout = self.layout
        columns = [*layout.pred_cols]
        extras = (
            layout.id_col,
            layout.label_col if layout.labels_in_preds else None,
            layout.weight_col if layout.weight_in_preds else None,
            layout.label_check,
            *layout.shared_keys,
            *layout.by_read_from(preds=True),
        )
        for extra in extras:
            if extra is not None and extra not in columns:
                columns.append(extra)
        types = read_types(self.preds, layout, as_labels=False)
        return self.preds.batches(columns, types, self.batch_rows, self.rows)

    def _ids(self, batch: pa.RecordBatch, offset: int = 0) -> pa.Array | None:
        """The batch's keys: its id column, or the keys of pandas' RangeIndex as text."""
        if self.layout.id_col is not None:
            return batch.column(self.layout.id_col)
        if self.layout.id_range is not None and self.labels is not None:
            return range_keys(self.layout.id_range, offset, batch.num_rows)
        return None

    def _batch(
        self,
        offset: int,
        preds: pa.RecordBatch,
        labels: pa.RecordBatch | pa.Table,
        label_rows: npt.NDArray[np.int64] | None = None,
    ) -> Batch:
        """A ``Batch`` from rows of PREDS and the matching rows of LABELS."""
        layout = self.layout
        if self.labels is not None:
            if layout.label_check is not None:
                self._agree(offset, preds, labels, layout.label_check, layout.label_col, label_rows)
            for key in layout.shared_keys:
                self._agree(offset, preds, labels, key, key, None)
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
        keys = {
            name: _whole((preds if own else labels).column(name))
            for name, own in zip(layout.by_cols, layout.by_in_preds, strict=True)
        }
        return Batch(
            offset,
            scores_block(preds, layout.pred_cols),
            label_column,
            self._ids(preds, offset),
            label_rows=label_rows,
            targets=targets,
            weights=weights,
            keys=keys,
        )

    def _agree(
        self,
        offset: int,
        preds: pa.RecordBatch,
        labels: pa.RecordBatch | pa.Table,
        preds_column: str,
        labels_column: str,
        label_rows: npt.NDArray[np.int64] | None,
    ) -> None:
        """PREDS' ``preds_column`` must equal LABELS' ``labels_column`` row by row, as
        text (``1``, ``1.0`` and ``"1"`` alike): PREDS' own labels, or a key both carry."""
        from ..infer import label_text

        mine = label_text(_whole(preds.column(preds_column)))
        theirs = label_text(_whole(labels.column(labels_column)))
        shown_mine, shown_theirs = mine, theirs
        if preds_column == self.layout.label_check:
            mine, theirs = self._as_names(mine, theirs)
        equal = pc.equal(mine, theirs)
        # null (a side missing) as False, without the Python scalar that imports pandas
        same = pc.and_kleene(equal, pc.is_valid(equal))
        both_null = pc.and_(mine.is_null(), theirs.is_null())
        differ = np.flatnonzero(~mask(pc.or_(same, both_null)))
        if not differ.size:
            return
        i = int(differ[0])
        here, there = repr(shown_mine[i].as_py()), repr(shown_theirs[i].as_py())
        if mine is not shown_mine:
            here += f" (the class {mine[i].as_py()!r} by index)" if mine[i].is_valid else ""
        if theirs is not shown_theirs:
            there += f" (the class {theirs[i].as_py()!r} by index)" if theirs[i].is_valid else ""
        assert self.labels is not None
        label_row = int(label_rows[i]) if label_rows is not None else offset + i
        where = f"{self.labels.name} row {label_row}"
        if preds_column == labels_column and preds_column in self.layout.shared_keys:
            raise AlignError(
                f"rows are paired by position, but the key {preds_column!r} differs: "
                f"{mine[i].as_py()!r} here, {theirs[i].as_py()!r} in {where}",
                file=self.preds.name,
                row=offset + i,
                hint=f"pass --id-col {preds_column!r} to join on it",
            )
        raise AlignError(
            f"the label here is {here} but {where} ({labels_column!r}) says {there}; with "
            "LABELS given, PREDS' own label column must agree",
            file=self.preds.name,
            row=offset + i,
            column=preds_column,
            hint="drop the column, or score PREDS alone to use its labels",
        )

    def _as_names(self, mine: pa.Array, theirs: pa.Array) -> tuple[pa.Array, pa.Array]:
        """PREDS' labels and LABELS' as one kind: where one side holds class indices
        (``0..K-1``) and the other class names, the indices as the names they index
        (``--classes``, else the prediction columns in file order, as labels are read).
        Integer class names (``p_1``) are left alone: there the two readings conflict."""
        from ..decisions import class_numbers
        from ..infer import class_names

        names = list(self.classes or class_names(self.layout.pred_cols))
        if len(names) < 2 or class_numbers(names) is not None:
            return mine, theirs
        mine_indices, theirs_indices = _all_indices(mine), _all_indices(theirs)
        if mine_indices and not theirs_indices:
            return _names_at(mine, names), theirs
        if theirs_indices and not mine_indices:
            return mine, _names_at(theirs, names)
        return mine, theirs

    def _own_labels(self) -> Iterator[Batch]:
        offset = self._first_row
        for batch in self._pred_batches():
            yield self._batch(offset, batch, batch)
            offset += batch.num_rows

    def _label_batches(self, labels: Source) -> Iterator[pa.RecordBatch]:
        layout = self.layout
        columns = list(layout.label_columns)
        if layout.labels_id_col is not None:
            columns.insert(0, layout.labels_id_col)
        if layout.weight_col is not None and not layout.weight_in_preds:
            columns.append(layout.weight_col)
        columns.extend(k for k in layout.shared_keys if k not in columns)
        columns.extend(c for c in layout.by_read_from(preds=False) if c not in columns)
        types = read_types(labels, layout, as_labels=True)
        return labels.batches(columns, types, self.batch_rows, self.rows)

    def _by_position(self, labels: Source) -> Iterator[Batch]:
        if (
            self.preds.num_rows is not None
            and labels.num_rows is not None
            and self.preds.num_rows != labels.num_rows
        ):
            raise length_error(self.preds, self.preds.num_rows, labels.num_rows, labels)
        taker = RowTaker(self._label_batches(labels))
        offset = self._first_row
        preds_iter = self._pred_batches()
        for batch in preds_iter:
            label_part = taker.take(batch.num_rows)
            if label_part.num_rows < batch.num_rows:
                n_preds = offset + batch.num_rows + sum(b.num_rows for b in preds_iter)
                raise length_error(self.preds, n_preds, offset + label_part.num_rows, labels)
            yield self._batch(offset, batch, label_part)
            offset += batch.num_rows
        rest = taker.count_rest()
        if rest:
            raise length_error(self.preds, offset, offset + rest, labels)
        self.unmatched_labels = 0

    @property
    def _first_row(self) -> int:
        return 0 if self.rows is None else self.rows[0]

    def _by_key(self, labels: Source) -> Iterator[Batch]:
        join = KeyJoin(self._label_batches(labels), self.layout, self.preds.name, labels.name)
        offset = 0
        for batch in self._pred_batches():
            ids = self._ids(batch, offset)
            assert ids is not None
            rows = join.rows(ids, offset)
            if rows is not None:
                yield self._batch(offset, batch, join.labels(rows), rows)
            offset += batch.num_rows
        self.unmatched_labels = join.finish()


def _all_indices(text: pa.Array) -> bool:
    """Every label present is a class index as text (``0``, ``12``)."""
    return bool(pc.all(pc.match_substring_regex(text, r"^[0-9]{1,9}$")).as_py())


def _names_at(text: pa.Array, names: Sequence[str]) -> pa.Array:
    """Class indices as text, as the class names they index; out of range is null."""
    index = pc.cast(text, pa.int64())
    inside = pc.and_(pc.greater_equal(index, 0), pc.less(index, len(names)))
    return strings(names).take(pc.if_else(inside, index, pa.nulls(1, pa.int64())[0]))


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
