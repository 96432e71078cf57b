"""xent: score a classifier's predictions against labels with cross-entropy.

The public door: ``score`` for files and tables, ``cross_entropy`` for arrays, the
``Options`` they share with the ``xent`` command, and the ``Summary`` they return.
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
    from .pipeline import score as run

    return run(preds, labels, options=options, **kwargs)


def cross_entropy(
    scores: Any, labels: Any, *, classes: Any = None, options: Options | None = None, **kwargs: Any
) -> Summary:
    """Cross-entropy of in-memory scores against labels: infer, validate, compute, aggregate.

    Parameters
    ----------
    scores : array-like of shape (n,) or (n, k), pandas.DataFrame or pyarrow.Table
        Probabilities, logits or log-probabilities (``input="auto"`` decides). One
        dimension, or one column, is a binary problem (the positive class).
    labels : array-like of shape (n,)
        Class indices, class names, or 0/1 for binary.
    classes : sequence of str, optional
        Class names for the columns of a NumPy ``scores``; default ``"0"``..``"k-1"``.

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
    """
    import numpy as np
    import pyarrow as pa

    from .pipeline import score as run

    table = _scores_table(scores, classes)
    if "label" in table.column_names:
        raise XentError("scores have a column named 'label'; pass the labels separately")
    label_array = pa.array(
        np.asarray(labels).tolist() if not isinstance(labels, pa.Array) else labels
    )
    table = table.append_column("label", label_array)
    return run(table, None, options=options, label_col="label", **kwargs)


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
