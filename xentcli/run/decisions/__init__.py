"""Every decision of a run, made once on the first rows and held as data.

``decide`` looks at the first rows that remain (after ``--ignore-label`` and invalid
predictions are set aside) and returns a frozen ``Decisions``: the columns and their
roles, the task, target, input kind, how labels map to classes, the positive class,
and the reason for each. Every later batch is checked and encoded against it by pure
functions (``encode_labels``), so that rows which contradict a decision are an error
naming the row, never a silent switch. The object holds plain values only (strings,
numbers, tuples, and the ``Layout``), so ``to_dict``/``from_dict`` ship it to
``xent inspect``, ``compare`` or a worker process unchanged.

``decide`` is two steps (``problem``): ``decide_problem`` (task, target, input kind)
then ``decide_labels`` (names, indices or 0/1, and the positive class: ``multiclass``
and ``binary``); the batch loop runs them apart only so that ``xent inspect`` can show
the first when the labels then fail, and ``with_labels_seen`` fills in the one thing
the first rows may not show (the other name of a binary problem whose first rows are
all of one class). ``encode`` turns each batch's labels into class indices; ``record``
holds the ``Decisions`` object, ``common`` the label texts the others share. May
import ``io``, ``losses``, the root modules and the run's ``align`` and ``infer``.
"""

from __future__ import annotations

from .encode import encode_labels
from .multiclass import class_numbers
from .problem import (
    class_aliases,
    columns_reason,
    decide,
    decide_labels,
    decide_problem,
    labels_settled,
    with_labels_seen,
)
from .record import Decisions, FirstRows

__all__ = [
    "Decisions",
    "FirstRows",
    "class_aliases",
    "class_numbers",
    "columns_reason",
    "decide",
    "decide_labels",
    "decide_problem",
    "encode_labels",
    "labels_settled",
    "with_labels_seen",
]
