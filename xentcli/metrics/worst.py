"""``--worst K``: the K rows of highest loss, ties by the lower row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..summary import WorstRow
from .rows import Ends, Rows


def _pick(values: Sequence[Any] | None, index: npt.NDArray[np.intp]) -> list[Any]:
    """The Python values at ``index`` of a list, NumPy or Arrow column (None: Nones)."""
    if values is None:
        return [None] * index.size
    if hasattr(values, "take") and hasattr(values, "to_pylist"):  # pyarrow
        return values.take(index).to_pylist()
    if isinstance(values, np.ndarray):
        return values[index].tolist()
    return [values[i] for i in index.tolist()]


class Worst:
    """The top K rows by (loss descending, row ascending): a total order, since rows are
    unique, so any cut merged in any order keeps the same rows. Holds at most K rows."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.loss = np.zeros(0)  # nats
        self.row = np.zeros(0, dtype=np.int64)
        self.label = np.zeros(0, dtype=np.int64)
        self.pred = np.zeros(0, dtype=np.int64)
        self.p_true = np.zeros(0)
        self.extra: list[tuple[Any, Any, Any]] = []  # (id, label text, pred text)

    def add(self, rows: Rows) -> None:
        if not len(rows) or self.k <= 0:
            return
        rank = np.where(np.isnan(rows.loss), -np.inf, rows.loss)
        if rank.size > self.k:  # rows below the K-th largest loss cannot be kept
            threshold = np.partition(rank, rank.size - self.k)[rank.size - self.k]
            index = np.flatnonzero(rank >= threshold)
        else:
            index = np.arange(rank.size)
        order = np.lexsort((rows.rows[index], -rank[index]))[: self.k]
        index = index[order]
        batch = Worst(self.k)
        batch.loss = rows.loss[index]
        batch.row = np.asarray(rows.rows[index], dtype=np.int64)
        batch.label = rows.label[index]
        batch.pred = rows.pred[index]
        batch.p_true = rows.p_true[index]
        batch.extra = list(
            zip(
                _pick(rows.ids, index),
                _pick(rows.label_text, index),
                _pick(rows.pred_text, index),
                strict=True,
            )
        )
        merged = self.merge(batch)
        self.__dict__.update(merged.__dict__)

    def merge(self, other: Worst) -> Worst:
        merged = Worst(self.k)
        loss = np.concatenate([self.loss, other.loss])
        row = np.concatenate([self.row, other.row])
        rank = np.where(np.isnan(loss), -np.inf, loss)
        keep = np.lexsort((row, -rank))[: self.k]
        merged.loss, merged.row = loss[keep], row[keep]
        merged.label = np.concatenate([self.label, other.label])[keep]
        merged.pred = np.concatenate([self.pred, other.pred])[keep]
        merged.p_true = np.concatenate([self.p_true, other.p_true])[keep]
        extra = self.extra + other.extra
        merged.extra = [extra[i] for i in keep.tolist()]
        return merged

    def finish(self, ends: Ends) -> dict[str, Any]:
        worst = []
        for i, (ident, label_text, pred_text) in enumerate(self.extra):
            label = label_text if label_text is not None else ends.classes[int(self.label[i])]
            pred = pred_text if pred_text is not None else ends.classes[int(self.pred[i])]
            worst.append(
                WorstRow(
                    row=int(self.row[i]),
                    id=ident,
                    label=str(label),
                    pred=str(pred),
                    loss=float(self.loss[i]) / ends.scale,
                    p_true=float(self.p_true[i]),
                )
            )
        return {"worst": tuple(worst)}
