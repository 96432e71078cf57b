"""xent: score a classifier's predictions against labels with cross-entropy.

The public door: ``score`` for files and tables, ``cross_entropy`` for arrays, the
``Options`` they share with the ``xent`` command, and the ``Summary`` they return;
``compare`` for two reports or two models' predictions, returning a ``Comparison``.

The package is laid out by the stage each module serves, and imports point down the
flow only (``cli -> run -> io / losses / metrics -> summary``; ``report`` reads a
``Summary``)::

    __init__, options, errors, summary, inspection, version   the door and shared types
    comparison                                                what changed, for compare
    cli/      the xent command: options declared once, score, inspect, compare, exit codes
    io/       readers (every format as Arrow batches) and writers (atomic outputs)
    losses/   per-sample cross-entropy and per-row figures in NumPy, peers' conventions
    run/      column roles, decisions made once, alignment, checks, the batch loop, gates
    metrics/  the mergeable partials of every figure, over exact sums
    report/   the rich table, JSON, CSV, Markdown, HTML and the notebook view
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

from .errors import AlignError, InputError, XentError
from .options import Options
from .summary import (
    CalibrationBin,
    ClassSummary,
    GateResult,
    Interval,
    SliceSummary,
    Summary,
    WorstRow,
)
from .version import __version__

if TYPE_CHECKING:  # annotations only: the door imports NumPy and pyarrow when it runs
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from .comparison import Comparison

__all__ = [
    "CalibrationBin",
    "ClassSummary",
    "Comparison",
    "GateResult",
    "Interval",
    "Options",
    "SliceSummary",
    "Summary",
    "WorstRow",
    "XentError",
    "__version__",
    "compare",
    "cross_entropy",
    "inspect_file",
    "score",
]


def __getattr__(name: str) -> Any:
    """``Comparison`` is imported when first asked for: ``xent score`` and ``score``
    never need it (~4 ms of every start, issue 14)."""
    if name == "Comparison":
        from .comparison import Comparison

        return Comparison
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@overload
def score(
    preds: Any,
    labels: Any = ...,
    *,
    options: Options | None = ...,
    per_sample: Literal[False] = ...,
    **kwargs: Any,
) -> Summary: ...


@overload
def score(
    preds: Any,
    labels: Any = ...,
    *,
    options: Options | None = ...,
    per_sample: Literal[True],
    **kwargs: Any,
) -> tuple[Summary, pa.Table]: ...


def score(
    preds: Any,
    labels: Any = None,
    *,
    options: Options | None = None,
    per_sample: bool = False,
    **kwargs: Any,
) -> Summary | tuple[Summary, pa.Table]:
    """Score predictions against labels, as ``xent score`` does.

    Parameters
    ----------
    preds : path, "-", DataFrame, pyarrow Table, NumPy array or dict of columns
        The predictions: a column per class, or one column for binary problems. A
        pandas or polars DataFrame, a pyarrow Table or RecordBatch, anything with an
        Arrow C stream, or an array: 2-D a column per class, 1-D P(positive), read as
        ``xent score`` reads a ``.npy`` file of it.
    labels : same kinds as ``preds``, optional
        The labels: one column (a Series, a one-column DataFrame such as ``df[["y"]]``,
        a 1-D array or list) or a column per class. When omitted, a label column of
        ``preds``. Rows pair by position unless ``id_col`` names a key to join on.
    options : Options, optional
        Settings; keyword arguments (the long option names, ``sum_tol=...``) override it.
    per_sample : bool, default False
        Also return each row's figures, as ``xent score --per-sample`` writes them.

    Returns
    -------
    Summary
        The figures and what was inferred; losses in ``log_base``.
    pyarrow.Table
        With ``per_sample=True`` only: a row per scored sample (ignored and dropped
        rows left out), in the order of ``preds``: the ``id_col`` (else ``row``, the
        0-based position in ``preds``), ``label``, ``loss`` (the row's own loss in
        ``log_base``: label smoothing applied, weights not), ``pred`` (the argmax
        class), ``p_true`` (the true class's probability), and ``weight`` when weights
        are given. ``.to_pandas()`` makes it a DataFrame.

    Raises
    ------
    XentError
        Input or options that cannot be scored, naming the argument (or file), the
        column and the row, and the option that settles it.

    Examples
    --------
    >>> import pandas as pd
    >>> preds = pd.DataFrame({"p_cat": [0.9, 0.2], "p_dog": [0.1, 0.8], "label": ["cat", "dog"]})
    >>> s = score(preds)
    >>> round(s.loss, 6), s.task, s.input, s.classes
    (0.164252, 'multiclass', 'probs', ('cat', 'dog'))
    >>> s, rows = score(preds[["p_cat", "p_dog"]], preds[["label"]], per_sample=True)
    >>> rows.column_names
    ['row', 'label', 'loss', 'pred', 'p_true']
    >>> [round(x, 6) for x in rows.column("loss").to_pylist()]
    [0.105361, 0.223144]
    """
    from .run.pipeline import score as run

    sink = None
    if per_sample:
        from .io.persample import TableSink

        sink = TableSink()
    summary = run(preds, labels, options=options, sink=sink, **kwargs)
    if sink is None:
        return summary
    return summary, sink.table()


def compare(
    base: Any,
    new: Any,
    labels: Any = None,
    *,
    options: Options | None = None,
    max_increase: float | None = None,
    max_rel_increase: float | None = None,
    max_accuracy_drop: float | None = None,
    max_class_increase: float | None = None,
    alpha: float | None = None,
    allow_mismatch: bool = False,
    **kwargs: Any,
) -> Comparison:
    """Compare NEW with BASE, as ``xent compare`` does.

    Parameters
    ----------
    base, new : report or predictions
        Two reports of ``score`` (a ``Summary``, its ``to_dict()``, or a path to its
        JSON): every figure side by side. Or two models' predictions (any kind ``score``
        takes) scored against the same ``labels`` (or each against its own label column,
        which must agree row by row): paired, row by row.
    labels : optional
        The labels of paired mode, as for ``score``.
    options : Options, optional
        Paired mode: the settings of ``score``, applied to both models; keyword arguments
        override it (``ci`` defaults to 0.95 here; ``bootstrap=B`` for a paired
        bootstrap).
    max_increase, max_rel_increase, max_accuracy_drop, max_class_increase : float
        Gates on the change (``Comparison.gates``, ``Comparison.passed``).
    alpha : float, optional
        Paired mode: the loss gates fail only on a rise significant at this level.
    allow_mismatch : bool
        Compare reports whose signatures differ.

    Returns
    -------
    Comparison
        Frozen: ``base``/``new`` (each a ``Summary``), ``figures`` (each a ``Change``
        with ``base``, ``new``, ``delta``, ``rel``), ``per_class``, ``slices``,
        ``paired`` (paired mode: ``delta``, ``interval``, ``p_value_loss``,
        ``p_value_accuracy``, ``wins``, ``losses``, ``ties``), ``gates``, ``passed``;
        ``to_dict()`` is the JSON of ``xent compare --json``.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"label": ["cat", "dog", "dog"]})
    >>> old = pd.DataFrame({"p_cat": [0.6, 0.4, 0.5], "p_dog": [0.4, 0.6, 0.5]})
    >>> new = pd.DataFrame({"p_cat": [0.9, 0.2, 0.3], "p_dog": [0.1, 0.8, 0.7]})
    >>> c = compare(old, new, labels)
    >>> c.mode, round(c.paired.delta, 6), (c.paired.wins, c.paired.losses, c.paired.ties)
    ('paired', -0.343206, (3, 0, 0))
    """
    from .options import CompareOptions
    from .run.compare import compare as run

    gates = CompareOptions(
        max_increase=max_increase,
        max_rel_increase=max_rel_increase,
        max_accuracy_drop=max_accuracy_drop,
        max_class_increase=max_class_increase,
        alpha=alpha,
        allow_mismatch=allow_mismatch,
    )
    return run(base, new, labels, options=options, compare_options=gates, **kwargs)


def inspect_file(data: Any, fmt: str | None = None, **kwargs: Any) -> Any:
    """What ``score`` would read and decide from one file, as ``xent inspect`` shows it.

    Returns an ``Inspection`` (``to_dict()`` gives the JSON of ``xent inspect --json``).
    """
    from .run.inspect import inspect_file as run

    return run(data, fmt, **kwargs)


@overload
def cross_entropy(
    scores: Any,
    labels: Any,
    *,
    classes: Any = ...,
    weights: Any = ...,
    reduction: Literal["mean", "sum"] = ...,
    options: Options | None = ...,
    **kwargs: Any,
) -> Summary: ...


@overload
def cross_entropy(
    scores: Any,
    labels: Any,
    *,
    classes: Any = ...,
    weights: Any = ...,
    reduction: Literal["none"],
    options: Options | None = ...,
    **kwargs: Any,
) -> npt.NDArray[np.float64]: ...


def cross_entropy(
    scores: Any,
    labels: Any,
    *,
    classes: Any = None,
    weights: Any = None,
    reduction: Literal["mean", "sum", "none"] | None = None,
    options: Options | None = None,
    **kwargs: Any,
) -> Summary | npt.NDArray[np.float64]:
    """Cross-entropy of in-memory scores against labels: infer, validate, compute, aggregate.

    Parameters
    ----------
    scores : array-like of shape (n,) or (n, k), DataFrame or pyarrow Table
        Probabilities, logits or log-probabilities (``input="auto"`` decides). One
        dimension, or one column, is a binary problem (the positive class).
    labels : array-like of shape (n,) or (n, k)
        Class indices, class names, or 0/1 for binary (a list, a 1-D array, a Series
        or a one-column DataFrame); or a column per class: soft targets (rows summing
        to 1), one-hot rows, or 0/1 multilabel targets.
    classes : sequence of str, optional
        Class names for the columns of a NumPy ``scores``; default ``"0"``..``"k-1"``.
    weights : array-like of shape (n,), optional
        Per-sample weights (``--weight-col``).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` and ``"sum"`` choose ``Summary.loss``; ``"none"`` returns the loss
        of each row instead, as ``torch.nn.functional.cross_entropy(...,
        reduction="none")`` does.

    Returns
    -------
    Summary
        The figures, losses in ``log_base``.
    numpy.ndarray of shape (n,)
        With ``reduction="none"``: row i's own loss in ``log_base`` (label smoothing
        applied; weights not, where torch multiplies in its class ``weight``), NaN for a
        row left out (an ``ignore_label`` row, or one ``drop_invalid`` dropped), where
        torch gives 0. ``np.nanmean`` of it is the unweighted mean loss.

    Examples
    --------
    >>> import math
    >>> s = cross_entropy([[1000.0, 1000.0]], [0])
    >>> s.input, s.loss == math.log(2)
    ('logits', True)
    >>> round(cross_entropy([0.07, 0.91], [0, 1]).loss, 12)
    0.083440686153
    >>> soft = cross_entropy([[2.0, 2.0]], [[0.3, 0.7]])
    >>> soft.target, math.isclose(soft.loss, math.log(2))
    ('soft', True)
    >>> cross_entropy([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], [0, -100, 1],
    ...               ignore_label=-100, reduction="none").round(6)
    array([0.105361,      nan, 0.693147])
    """
    if reduction is not None and reduction != "none":
        kwargs["reduction"] = reduction
    return _cross_entropy(scores, labels, classes, weights, reduction == "none", options, kwargs)


def _cross_entropy(
    scores: Any,
    labels: Any,
    classes: Any,
    weights: Any,
    per_row: bool,
    options: Options | None,
    kwargs: dict[str, Any],
) -> Any:
    import numpy as np
    import pyarrow as pa

    from .io.arrays import numbers
    from .io.persample import TableSink
    from .io.tableread import Named, frames_in_step
    from .run.pipeline import score as run

    frames_in_step(scores, labels)  # pandas objects with one index in two orders
    table = _scores_table(scores, classes)
    label_values = _label_values(labels)
    n, k = table.num_rows, table.num_columns
    shown_as: dict[str, tuple[str, str | None]] = {}
    if getattr(label_values, "ndim", 1) == 2:
        if label_values.shape != (n, k):
            raise InputError(
                f"has shape {label_values.shape} for scores of shape ({n}, {k}); pass one "
                "label per row, or one column per class",
                file="labels",
            )
        label_table = pa.table(
            {
                name: label_values[:, j].astype(np.float64)
                for j, name in enumerate(table.column_names)
            }
        )
    else:
        if len(label_values) != n:
            raise AlignError(
                f"scores has {n} rows but labels has {len(label_values)}; they pair by position"
            )
        label_array = (
            label_values if isinstance(label_values, pa.Array) else pa.array(label_values.tolist())
        )
        label_table = pa.table({"label": label_array})
        kwargs.setdefault("label_col", "label")
        shown_as["label"] = ("labels", None)
    if weights is not None:
        weight_values = np.asarray(weights, dtype=np.float64)
        if weight_values.shape != (n,):
            raise XentError(f"weights of shape {weight_values.shape} for {n} rows of scores")
        name = "weight"
        while name in label_table.column_names:
            name = "_" + name
        label_table = label_table.append_column(name, pa.array(weight_values))
        kwargs["weight_col"] = name
        shown_as[name] = ("weights", None)
    sink = TableSink() if per_row else None
    summary = run(
        Named(table, "scores"),
        Named(label_table, "labels", shown_as),
        options=options,
        sink=sink,
        **kwargs,
    )
    if sink is None:
        return summary
    rows = sink.table()
    if rows.column_names[0] != "row":
        raise XentError(
            "reduction='none' gives the losses by position, and id_col joins by key",
            hint="use score(..., per_sample=True) for the losses by key",
        )
    losses = np.full(n, np.nan)
    losses[numbers(rows.column("row"), np.int64)] = numbers(rows.column("loss"))
    return losses


def _label_values(labels: Any) -> Any:
    """The labels as a NumPy array (or an Arrow array as it is); a one-column table is
    its column."""
    import numpy as np
    import pyarrow as pa

    if isinstance(labels, pa.Array):
        return labels
    if isinstance(labels, pa.ChunkedArray):
        return labels.combine_chunks()
    columns = getattr(labels, "columns", None)
    if columns is not None and len(columns) == 1:  # df[["y"]], a table of one column
        if isinstance(labels, pa.Table):
            return labels.column(0).combine_chunks()
        labels = (
            labels[list(columns)[0]] if not hasattr(labels, "get_column") else labels.to_series()
        )
    values = np.asarray(labels)
    if values.ndim == 2 and values.shape[1] == 1 and columns is None:
        values = values[:, 0]
    return values


def _scores_table(scores: Any, classes: Any) -> pa.Table:
    """``scores`` as a table: an array's columns named by ``classes`` (default ``0..k-1``,
    or ``positive`` for one column); a table's columns as they are."""
    from .io.tableread import as_table, numbers_only

    table, generated = as_table(scores, "scores")
    if not generated:
        return table
    numbers_only(table, "scores")
    k = table.num_columns
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise XentError(f"{len(names)} class names for {k} columns of scores")
    if k == 1 and classes is None:
        names = ["positive"]
    return table.rename_columns(names)
