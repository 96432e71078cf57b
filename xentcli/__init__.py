"""xent: score a classifier's predictions against labels with cross-entropy.

The public door: ``score`` for files and tables, ``cross_entropy`` for arrays, the
``Options`` they share with the ``xent`` command, and the ``Summary`` they return.

The package is laid out by the stage each module serves, and imports point down the
flow only (``cli -> run -> io / losses / metrics -> summary``; ``report`` reads a
``Summary``)::

    __init__, options, errors, summary, version   the public door and shared types
    cli/      the xent command: options, exit codes
    io/       readers (every format as Arrow batches) and writers (atomic outputs)
    losses/   per-sample cross-entropy in NumPy, and the peers' conventions
    run/      column roles, decisions made once, alignment, checks, the batch loop
    metrics/  the mergeable totals a run accumulates
    report/   the rich table and the JSON, CSV, Markdown and HTML reports
"""

from __future__ import annotations

from typing import Any

from .errors import XentError
from .options import Options
from .summary import ClassSummary, GateResult, Summary
from .version import __version__

__all__ = [
    "ClassSummary",
    "GateResult",
    "Options",
    "Summary",
    "XentError",
    "__version__",
    "cross_entropy",
    "inspect_file",
    "score",
]


def score(
    preds: Any, labels: Any = None, *, options: Options | None = None, **kwargs: Any
) -> Summary:
    """Score predictions against labels, as ``xent score`` does.

    Parameters
    ----------
    preds : path, "-", pandas.DataFrame, pyarrow.Table or dict of columns
        The predictions: a column per class, or one column for binary problems.
    labels : same kinds as ``preds``, optional
        The labels; when omitted, a label column of ``preds``.
    options : Options, optional
        Settings; keyword arguments (the long option names, ``sum_tol=...``) override it.

    Returns
    -------
    Summary
        The figures and what was inferred; losses in ``log_base``.

    Raises
    ------
    XentError
        Input or options that cannot be scored, naming the file, column and row.

    Examples
    --------
    >>> import pandas as pd
    >>> preds = pd.DataFrame({"p_cat": [0.9, 0.2], "p_dog": [0.1, 0.8], "label": ["cat", "dog"]})
    >>> s = score(preds)
    >>> round(s.loss, 6), s.task, s.input, s.classes
    (0.164252, 'multiclass', 'probs', ('cat', 'dog'))
    """
    from .run.pipeline import score as run

    return run(preds, labels, options=options, **kwargs)


def inspect_file(data: Any, fmt: str | None = None, **kwargs: Any) -> Any:
    """What ``score`` would read and decide from one file, as ``xent inspect`` shows it.

    Returns an ``Inspection`` (``to_dict()`` gives the JSON of ``xent inspect --json``).
    """
    from .run.inspect import inspect_file as run

    return run(data, fmt, **kwargs)


def cross_entropy(
    scores: Any,
    labels: Any,
    *,
    classes: Any = None,
    weights: Any = None,
    options: Options | None = None,
    **kwargs: Any,
) -> Summary:
    """Cross-entropy of in-memory scores against labels: infer, validate, compute, aggregate.

    Parameters
    ----------
    scores : array-like of shape (n,) or (n, k), pandas.DataFrame or pyarrow.Table
        Probabilities, logits or log-probabilities (``input="auto"`` decides). One
        dimension, or one column, is a binary problem (the positive class).
    labels : array-like of shape (n,) or (n, k)
        Class indices, class names, or 0/1 for binary; or a column per class: soft
        targets (rows summing to 1), one-hot rows, or 0/1 multilabel targets.
    classes : sequence of str, optional
        Class names for the columns of a NumPy ``scores``; default ``"0"``..``"k-1"``.
    weights : array-like of shape (n,), optional
        Per-sample weights (``--weight-col``).

    Returns
    -------
    Summary

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
    """
    import numpy as np
    import pyarrow as pa

    from .io.tableread import frames_in_step
    from .run.pipeline import score as run

    frames_in_step(scores, labels)  # pandas objects with one index in two orders
    table = _scores_table(scores, classes)
    label_values = labels if isinstance(labels, pa.Array) else np.asarray(labels)
    label_table = None
    if getattr(label_values, "ndim", 1) == 2:
        if label_values.shape != (table.num_rows, table.num_columns):
            raise XentError(
                f"labels of shape {label_values.shape} for scores of shape "
                f"({table.num_rows}, {table.num_columns})"
            )
        label_table = pa.table(
            {
                name: label_values[:, j].astype(np.float64)
                for j, name in enumerate(table.column_names)
            }
        )
    elif "label" in table.column_names:
        raise XentError("scores have a column named 'label'; pass the labels separately")
    else:
        label_array = (
            label_values if isinstance(label_values, pa.Array) else pa.array(label_values.tolist())
        )
        table = table.append_column("label", label_array)
        kwargs.setdefault("label_col", "label")
    if weights is not None:
        name = "weight"
        while name in table.column_names:
            name = "_" + name
        table = table.append_column(name, pa.array(np.asarray(weights, dtype=np.float64)))
        kwargs["weight_col"] = name
    return run(table, label_table, options=options, **kwargs)


def _scores_table(scores: Any, classes: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    if isinstance(scores, pa.Table):
        return scores
    if type(scores).__module__.startswith("pandas"):
        return pa.Table.from_pandas(scores, preserve_index=False)
    array = np.asarray(scores)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise XentError(f"scores must be 1-d or 2-d, got shape {array.shape}")
    names = (
        [str(c) for c in classes]
        if classes is not None
        else [str(i) for i in range(array.shape[1])]
    )
    if len(names) != array.shape[1]:
        raise XentError(f"{len(names)} class names for {array.shape[1]} columns of scores")
    if array.shape[1] == 1 and classes is None:
        names = ["positive"]
    return pa.table({name: array[:, j] for j, name in enumerate(names)})
