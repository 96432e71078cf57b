"""What ``xent score`` would make of a file, without scoring it: ``xent inspect``.

``inspect_file`` opens the file as ``score`` does and asks the same code the same
questions: ``align.plan`` for the columns' roles, then ``pipeline.first_decisions``,
the very steps ``score`` runs on its first rows (a file of predictions alone gets
``decide_task`` and ``decide_input``), so that the two can never disagree; the
``Decisions`` object ``score`` would run on is in the result (``decisions``). It
reports each decision with the reason ``score`` would give, and the first reason
``score`` would refuse the file (``problem``) instead of raising it; only a file that
cannot be opened at all raises ``XentError``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import Counter
from collections.abc import Generator
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import InputError, XentError
from ..inspection import ColumnInfo, Inspection
from ..io.source import STDIN, Source, open_source
from ..options import Options
from . import roles
from .align import INDEX_COLUMN, LABEL_DEFAULTS, Layout, plan, read_types, scores_block
from .decisions import Decisions
from .infer import DECISION_ROWS, class_names, decide_input, decide_task
from .validate import check_finite

ROLES = roles.ROLES
"""A column's part in ``score``, as ``align.plan`` decides it (``roles.py``)."""

OPTIONS = (
    "pred_cols",
    "label_col",
    "id_col",
    "weight_col",
    "no_header",
    "preds_format",
    "input",
    "task",
    "positive",
    "label_type",
    "classes",
    "sum_tol",
    "renormalize",
    "ignore_label",
    "drop_invalid",
    "compat",
)
"""The ``Options`` fields that change what ``inspect`` finds (``xent inspect`` offers
these); the others (losses, outputs, figures, gates) are ``score``'s alone."""

REASONS = ("columns", "task", "input", "labels", "rows")  # in the order they are shown
COUNT_BATCH_ROWS = 1 << 20  # rows per batch when counting: one narrow column

"""A batch's scores, labels (None when not in the file) and 0-based row numbers."""


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
    source = open_source(data, "preds", fmt or opts.preds_format, opts.no_header)
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
        self.decisions: Decisions | None = None

    def _fail(self, error: XentError | str) -> None:
        """Note why ``score`` would refuse the file; the first reason is the one shown."""
        if self.problem is None:
            if isinstance(error, XentError):
                self.source.locate(error)  # a text file's row is named with its line
            self.problem = str(error)

    def run(self) -> Inspection:
        source = self.source
        layout, labelled = self._plan()
        if layout is not None:
            from .decisions import columns_reason

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
            decisions=self.decisions.to_dict() if self.decisions is not None else None,
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
        """Each column with the role ``plan`` gave it (the very ``Roles`` that ``score``
        runs on); without a plan, only what the name alone says."""
        infos = []
        for f in self.source.schema:
            entry = layout.roles.of(f.name) if layout is not None else None
            if entry is not None and (labelled or entry.role != "label"):
                infos.append(ColumnInfo(f.name, str(f.type), entry.role, entry.reason))
            else:
                infos.append(ColumnInfo(f.name, str(f.type), _name_role(f.name, self.options)))
        return tuple(infos)

    # -- decisions on the first batch ----------------------------------------------------

    def _decide(self, layout: Layout, labelled: bool) -> None:
        if labelled:
            self._decide_as_score(layout)
            return
        self._decide_predictions(layout)

    def _decide_as_score(self, layout: Layout) -> None:
        """A file with its labels: ``score``'s own first-batch decisions, and the error
        it would stop with there."""
        from .pipeline import first_decisions

        decisions, error = first_decisions(self.source, layout, self.options)
        if error is not None:
            self._fail(error)
        if decisions is None:
            if layout.label_cols is None:  # the task follows from the columns alone
                with contextlib.suppress(XentError):
                    self.task, self.reasons["task"] = decide_task(
                        len(layout.pred_cols), self.options, layout.pred_cols
                    )
                    if self.task == "multiclass":
                        self.classes = class_names(layout.pred_cols)
            if "input" not in self.reasons:
                self.reasons["input"] = "no rows left to decide from"
            return
        self.decisions = decisions
        reasons = decisions.reasons_dict
        self.reasons.update({k: v for k, v in reasons.items() if k in ("task", "input")})
        self.task = decisions.task
        self.input = decisions.input
        if self.task == "multiclass":
            self.classes = decisions.classes
        if decisions.label_mode is not None:
            self.labels = decisions.label_mode
            self.reasons["labels"] = reasons["labels"]
            self.classes = decisions.classes

    def _decide_predictions(self, layout: Layout) -> None:
        """A file of predictions alone: the task and input kind its first rows give
        (the labels, and so their checks, come from a LABELS file)."""
        opts, source = self.options, self.source
        try:
            self.task, self.reasons["task"] = decide_task(
                len(layout.pred_cols), opts, layout.pred_cols
            )
        except XentError as error:
            self._fail(error)
            return
        if self.task == "multiclass":
            self.classes = class_names(layout.pred_cols)
        try:
            with contextlib.closing(self._first_batch(layout)) as batches:
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
        scores, rows = first
        try:
            bad = check_finite(scores, layout.pred_cols, source.name, rows, opts.drop_invalid)
            if bad is not None:
                scores, rows = scores[~bad], rows[~bad]
            if not len(rows):
                self.reasons["input"] = "no valid rows in the first batch to decide from"
                return
            self.input, self.reasons["input"] = decide_input(
                scores[:DECISION_ROWS],
                self.task,
                opts,
                source.name,
                rows[:DECISION_ROWS],
                layout.pred_cols,
            )
        except XentError as error:
            self._fail(error)

    def _first_batch(
        self, layout: Layout
    ) -> Generator[tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]], None, None]:
        """The first batch of predictions as ``score`` reads them, with row numbers: at
        least ``DECISION_ROWS`` rows, or all of them (SPEC's "first rows")."""
        from .pipeline import batch_rows_for

        batch_rows = batch_rows_for(len(layout.pred_cols), self.options)
        types = read_types(self.source, layout, as_labels=False)
        blocks, offset = [], 0
        for part in self.source.batches(layout.pred_cols, types, batch_rows):
            blocks.append(scores_block(part, layout.pred_cols))
            offset += part.num_rows
            if offset >= DECISION_ROWS:
                break
        if blocks:
            yield np.concatenate(blocks), np.arange(offset)

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
            again = open_source(path, "preds", source.format, self.options.no_header)
            types = {first: pa.string()} if again.format in ("csv", "tsv") else {}
            return sum(b.num_rows for b in again.batches([first], types, COUNT_BATCH_ROWS))
        except XentError as error:
            self.reasons["rows"] = f"unknown: {error}"
            self._fail(error)
            return None


def _name_role(name: str, options: Options) -> str | None:
    """Without a plan, only the parts that the name alone gives (None for the rest)."""
    if name == options.id_col:
        return "id"
    if name == options.label_col or (options.label_col is None and name in LABEL_DEFAULTS):
        return "label"
    return "index" if INDEX_COLUMN.match(name) else None
