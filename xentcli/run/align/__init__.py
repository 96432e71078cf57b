"""Pair prediction rows with labels and pick the columns: by position or by a key.

Read in this order: ``plan`` decides, once and from the schemas, every column's part
(``columns`` finds the named ones, ``pairing`` how rows pair: by ``--id-col``, by the
index pandas wrote in both files, else by position) and returns a frozen ``Layout``
(``layout``); ``Aligner`` (``aligner``) then streams ``Batch`` objects (``batch``: a
float64 block of scores, the raw labels, the ids, the ``--by`` keys), pairing rows by
position (``position``) or joining them on a key (``join``), and checks on every batch
what the layout says must agree. May import ``io`` and the run's ``roles``; lazily,
``infer`` and ``decisions`` for label text.
"""

from __future__ import annotations

from ..roles import INDEX_NAME, LABEL_DEFAULTS
from .aligner import Aligner
from .batch import Batch, scores_block
from .layout import Layout, read_types
from .plan import plan

INDEX_COLUMN = INDEX_NAME  # the names pandas gives an unnamed index (inspect reads it)

__all__ = [
    "INDEX_COLUMN",
    "LABEL_DEFAULTS",
    "Aligner",
    "Batch",
    "Layout",
    "plan",
    "read_types",
    "scores_block",
]
