"""What ``xent score`` would make of a file, without scoring it: ``xent inspect``.

``inspect_file`` opens the file as ``score`` does and asks the same functions the
same questions: ``align.plan`` for the columns' roles, then, on the first batch of
rows (the rows ``score`` decides on), ``decide_task``, ``decide_input`` and a
``LabelEncoder``, so that the two can never disagree. It reports each decision with
the reason ``score`` would give, and the first reason ``score`` would refuse the
file (``problem``) instead of raising it; only a file that cannot be opened at all
raises ``XentError``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .align import INDEX_COLUMN, LABEL_DEFAULTS, Aligner, Layout, plan, read_types, scores_block
from .errors import InputError, ValidationError, XentError
from .infer import LabelEncoder, class_names, decide_input, decide_task
from .options import Options
from .source import STDIN, Source, open_source

ROLES = ("prediction", "label", "id", "weight", "index", "skipped", "unused")
"""A column's part in ``score``: ``index`` is a pandas row-number column (never a
prediction), ``skipped`` a text column passed over, ``unused`` a column that
``--pred-cols`` left out."""

REASONS = ("columns", "task", "input", "labels", "rows")  # in the order they are shown
COUNT_BATCH_ROWS = 1 << 20  # rows per batch when counting: one narrow column

_Rows = tuple[npt.NDArray[np.float64], "pa.Array | None", npt.NDArray[np.int64]]
"""A batch's scores, labels (None when not in the file) and 0-based row numbers."""


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, its type as the file holds it, and its role (or None)."""

    name: str
    type: str
    role: str | None


@dataclass(frozen=True)
class Inspection:
    """What ``inspect_file`` found; ``None`` where it cannot be known.

    ``labels`` is how the label column is read (``names``, ``indices`` or ``binary``
    for 0/1 and true/false), ``reasons`` says why for each decision, as ``score``'s
    report does, and ``problem`` is why ``score`` would refuse the file.
    """

    file: str
    format: str
    size: int | None
    rows: int | None
    columns: tuple[ColumnInfo, ...]
    task: str | None = None
    input: str | None = None
    classes: tuple[str, ...] | None = None
    label_column: str | None = None
    labels: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    @property
    def scorable(self) -> bool:
        """Whether ``xent score FILE`` would get past its first rows."""
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``xent inspect --json``, keys in order."""
        return {
            "file": self.file,
            "format": self.format,
            "size": self.size,
            "rows": self.rows,
            "columns": [{"name": c.name, "type": c.type, "role": c.role} for c in self.columns],
            "task": self.task,
            "input": self.input,
            "classes": list(self.classes) if self.classes is not None else None,
            "label_column": self.label_column,
            "labels": self.labels,
            "reasons": dict(self.reasons),
            "problem": self.problem,
        }


def inspect_file(
    data: Any, fmt: str | None = None, *, options: Options | None = None, **kwargs: Any
) -> Inspection:
    """Columns, types, row count and what ``score`` would infer from a file or table.

    Parameters
    ----------
    data : path, "-", pandas.DataFrame, pyarrow.Table or dict of columns
        The file, as ``score``'s PREDS.
    fmt : str, optional
        Read it as this format (``--preds-format``); default: detected.
    options : Options, optional
        Settings; keyword arguments (``label_col=...``) override it.

    Returns
    -------
    Inspection

    Raises
    ------
    XentError
        When the file cannot be opened or read at all; any other reason ``score``
        would refuse it is the ``problem`` of the result.

    Examples
    --------
    >>> import pandas as pd
    >>> found = inspect_file(pd.DataFrame({"p_cat": [0.9, 0.2], "p_dog": [0.1, 0.8],
    ...                                    "label": ["cat", "dog"]}))
    >>> found.rows, found.task, found.input, found.classes, found.labels
    (2, 'multiclass', 'probs', ('cat', 'dog'), 'names')
    >>> [c.role for c in found.columns]
    ['prediction', 'prediction', 'label']
    """
    opts = Options.from_kwargs(options, **kwargs)
    source = open_source(data, "preds", fmt or opts.preds_format)
    return _Inspector(data, source, opts).run()


class _Inspector:
    """One inspection: the plan, the first batch's decisions, the row count."""

    def __init__(self, data: Any, source: Source, options: Options) -> None:
        self.data, self.source, self.options = data, source, options
        self.reasons: dict[str, str] = {}
        self.problem: str | None = None
        self.task: str | None = None
        self.input: str | None = None
        self.classes: tuple[str, ...] | None = None
        self.labels: str | None = None

    def _fail(self, error: XentError | str) -> None:
        """Note why ``score`` would refuse the file; the first reason is the one shown."""
        if self.problem is None:
            self.problem = str(error)

    def run(self) -> Inspection:
        source = self.source
        layout, labelled = self._plan()
        if layout is not None:
            from .pipeline import columns_reason

            self.reasons["columns"] = columns_reason(layout, self.options)
            self._decide(layout, labelled)
        rows = self._rows()
        return Inspection(
            file=source.name,
            format=source.format,
            size=self._size(),
            rows=rows,
            columns=self._columns(layout, labelled),
            task=self.task,
            input=self.input,
            classes=self.classes,
            label_column=layout.label_col if layout is not None and labelled else None,
            labels=self.labels,
            reasons={k: self.reasons[k] for k in REASONS if k in self.reasons},
            problem=self.problem,
        )

    # -- columns -----------------------------------------------------------------------

    def _plan(self) -> tuple[Layout | None, bool]:
        """``score``'s plan for this file alone; failing that (no label column), its plan
        with the labels in a LABELS file, so that the predictions can still be shown."""
        try:
            return plan(self.source, None, self.options), True
        except XentError as error:
            self._fail(error)
        opts = self.options
        names = [opts.label_col or "label"]
        if opts.id_col is not None and opts.id_col not in names:
            names.append(opts.id_col)
        stand_in = open_source(pa.table({n: pa.array([], pa.string()) for n in names}), "labels")
        try:
            layout = plan(self.source, stand_in, opts)
        except XentError:
            return None, False
        self.reasons["labels"] = (
            "none in this file: they must come from a LABELS file (xent score FILE LABELS)"
        )
        return layout, False

    def _columns(self, layout: Layout | None, labelled: bool) -> tuple[ColumnInfo, ...]:
        predictions = frozenset(layout.pred_cols) if layout is not None else frozenset()
        return tuple(
            ColumnInfo(
                f.name, str(f.type), _role(f.name, layout, labelled, self.options, predictions)
            )
            for f in self.source.schema
        )

    # -- decisions on the first batch ----------------------------------------------------

    def _decide(self, layout: Layout, labelled: bool) -> None:
        opts, source = self.options, self.source
        try:
            self.task, self.reasons["task"] = decide_task(
                len(layout.pred_cols), opts, layout.pred_cols
            )
            encoder = (
                LabelEncoder(self.task, layout.pred_cols, opts, source.name, layout.label_col)
                if labelled
                else None
            )
        except XentError as error:
            self._fail(error)
            return
        if self.task == "multiclass":
            self.classes = class_names(layout.pred_cols)
        try:
            with contextlib.closing(self._first_batch(layout, labelled)) as batches:
                first = next(batches, None)
        except XentError as error:
            self._fail(error)
            return
        if first is None:
            self.reasons["input"] = "no data rows to decide from"
            self._fail(
                InputError(
                    "no rows to score (the file has a header but no data rows)", file=source.name
                )
            )
            return
        scores, labels, rows = first
        scores, labels, rows = self._ignored(scores, labels, rows)
        try:
            scores, labels, rows = self._finite(scores, labels, rows, layout)
            if not len(rows):
                self.reasons["input"] = "no valid rows in the first batch to decide from"
                return
            self.input, self.reasons["input"] = decide_input(
                scores, self.task, opts, source.name, int(rows[0])
            )
        except XentError as error:
            self._fail(error)
        if encoder is not None and labels is not None:
            self._encode(encoder, labels, rows)

    def _first_batch(self, layout: Layout, labelled: bool) -> Generator[_Rows, None, None]:
        """The first batch as ``score`` reads it: its scores, labels and row numbers."""
        from .pipeline import batch_rows_for

        batch_rows = batch_rows_for(len(layout.pred_cols), self.options)
        if labelled:
            for batch in Aligner(self.source, None, layout, batch_rows):
                yield batch.scores, batch.labels, batch.offset + np.arange(len(batch))
            return
        types = read_types(self.source, layout, as_labels=False)
        offset = 0
        for part in self.source.batches(layout.pred_cols, types, batch_rows):
            yield scores_block(part, layout.pred_cols), None, offset + np.arange(part.num_rows)
            offset += part.num_rows

    def _ignored(
        self,
        scores: npt.NDArray[np.float64],
        labels: pa.Array | None,
        rows: npt.NDArray[np.int64],
    ) -> _Rows:
        """Less the rows whose label is ``--ignore-label``, which ``score`` leaves out first."""
        if self.options.ignore_label is None or labels is None:
            return scores, labels, rows
        from .pipeline import ignored_rows

        ignored = ignored_rows(labels, self.options.ignore_label)
        if not ignored.any():
            return scores, labels, rows
        return _keep(scores, labels, rows, ~ignored)

    def _finite(
        self,
        scores: npt.NDArray[np.float64],
        labels: pa.Array | None,
        rows: npt.NDArray[np.int64],
        layout: Layout,
    ) -> _Rows:
        """Predictions must be finite before the input kind is decided; ``--drop-invalid``
        drops the rows that are not, as ``score`` does."""
        from .validate import check_finite

        bad = check_finite(
            scores, layout.pred_cols, self.source.name, rows, self.options.drop_invalid
        )
        if bad is None:
            return scores, labels, rows
        return _keep(scores, labels, rows, ~bad)

    def _encode(self, encoder: LabelEncoder, labels: pa.Array, rows: npt.NDArray[np.int64]) -> None:
        """Encode the first batch's labels, which decides how labels are read and, for
        binary class names, the classes; labels that break the rule are the problem."""
        while True:
            try:
                encoder.encode(labels, rows)
                break
            except ValidationError as error:
                if not self.options.drop_invalid or error.positions is None:
                    self._fail(error)
                    break
                keep = np.ones(len(labels), dtype=bool)
                keep[np.asarray(error.positions)] = False
                labels = labels.filter(pa.array(keep))
                rows = rows[keep]
                if not len(labels):
                    break
            except XentError as error:
                self._fail(error)
                break
        if encoder.mode is not None:
            self.labels = encoder.mode
            self.reasons["labels"] = encoder.reason
            self.classes = encoder.classes

    # -- size and rows -----------------------------------------------------------------

    def _path(self) -> str | None:
        """The path, when the input is a regular file that can be read again."""
        if not isinstance(self.data, str | os.PathLike):
            return None
        path = os.fspath(self.data)
        if path == STDIN:
            return None
        try:
            return path if stat.S_ISREG(os.stat(path).st_mode) else None
        except OSError:
            return None

    def _size(self) -> int | None:
        path = self._path()
        if path is not None:
            return os.stat(path).st_size
        return None

    def _rows(self) -> int | None:
        """The row count: from the file's metadata when it has one (Parquet, Arrow),
        else by reading the file again, one column only; unknown for a stream."""
        source = self.source
        if source.num_rows is not None:
            return source.num_rows
        path = self._path()
        if path is None:
            self.reasons["rows"] = "unknown: the input is a stream, read once"
            return None
        counts = Counter(source.columns)
        unique = [n for n in source.columns if counts[n] == 1]
        if not unique:
            self.reasons["rows"] = "unknown: no column has a name of its own"
            return None
        first = unique[0]
        try:
            again = open_source(path, "preds", source.format)
            types = {first: pa.string()} if again.format in ("csv", "tsv") else {}
            return sum(b.num_rows for b in again.batches([first], types, COUNT_BATCH_ROWS))
        except XentError as error:
            self.reasons["rows"] = f"unknown: {error}"
            self._fail(error)
            return None


def _keep(
    scores: npt.NDArray[np.float64],
    labels: pa.Array | None,
    rows: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
) -> _Rows:
    labels = labels.filter(pa.array(keep)) if labels is not None else None
    return np.asfortranarray(scores[keep]), labels, rows[keep]


def _role(
    name: str,
    layout: Layout | None,
    labelled: bool,
    options: Options,
    predictions: frozenset[str] = frozenset(),
) -> str | None:
    """The column's part in ``score`` under ``layout``; without a plan, only the parts
    that the name alone gives (None for the rest)."""
    if layout is None:
        if name == options.id_col:
            return "id"
        if name == options.label_col or (options.label_col is None and name in LABEL_DEFAULTS):
            return "label"
        return "index" if INDEX_COLUMN.match(name) else None
    if name in predictions:
        return "prediction"
    if labelled and name == layout.label_col:
        return "label"
    if name == layout.id_col:
        return "id"
    if name == layout.weight_col and layout.weight_in_preds:
        return "weight"
    if INDEX_COLUMN.match(name):
        return "index"
    if name in layout.skipped:
        return "skipped"
    return "unused"
