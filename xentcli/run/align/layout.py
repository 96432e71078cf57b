"""The ``Layout``: which column plays which part and how rows pair, decided once by
``plan`` as frozen plain data (shipped as a dict to another process), and the types a
reader is asked for given it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ...io.source import Source
from ..roles import Roles


@dataclass(frozen=True)
class Layout:
    """Which columns play which part, and the input's float type (for ``--eps auto``).

    Labels are one column (``label_col``), or ``label_cols``: a numeric column per
    class, in the order of ``pred_cols`` (soft targets, one-hot or multilabel).
    ``roles`` gives every column of both files its part and the reason; rows are
    joined on ``id_col`` of PREDS and ``labels_id_col`` of LABELS when both are set
    (``join`` says why), else paired by position, where ``shared_keys`` names the
    columns both files carry (a key, a filename, a patient), checked to agree row by
    row. ``label_check`` is PREDS' own label column when LABELS is given: checked to
    agree with LABELS row by row. ``by_cols`` are the ``--by`` columns in the order
    given, each read from PREDS (``by_in_preds``) or else from LABELS.
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
    roles: Roles = field(default_factory=lambda: Roles(()))
    labels_id_col: str | None = None
    label_check: str | None = None
    join: str | None = None
    shared_keys: tuple[str, ...] = ()
    id_range: tuple[int, int] | None = None
    labels_id_range: tuple[int, int] | None = None
    generated_names: bool = False  # PREDS' column names are positions xent gave
    by_cols: tuple[str, ...] = ()
    by_in_preds: tuple[bool, ...] = ()

    @property
    def joined(self) -> bool:
        """Rows are joined on a key (a column, or pandas' RangeIndex), not by position."""
        has_preds_key = self.id_col is not None or self.id_range is not None
        has_labels_key = self.labels_id_col is not None or self.labels_id_range is not None
        return has_preds_key and has_labels_key

    def by_read_from(self, preds: bool) -> tuple[str, ...]:
        """The ``--by`` columns read from PREDS (``preds=True``), or from LABELS."""
        return tuple(
            c for c, own in zip(self.by_cols, self.by_in_preds, strict=True) if own == preds
        )

    @property
    def label_columns(self) -> tuple[str, ...]:
        """The columns read as labels."""
        return self.label_cols if self.label_cols is not None else (self.label_col,)

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON and for shipping the decisions to another process."""
        return {
            "pred_cols": list(self.pred_cols),
            "label_col": self.label_col,
            "label_cols": list(self.label_cols) if self.label_cols is not None else None,
            "labels_in_preds": self.labels_in_preds,
            "id_col": self.id_col,
            "labels_id_col": self.labels_id_col,
            "weight_col": self.weight_col,
            "weight_in_preds": self.weight_in_preds,
            "label_check": self.label_check,
            "shared_keys": list(self.shared_keys),
            "join": self.join,
            "id_range": list(self.id_range) if self.id_range is not None else None,
            "labels_id_range": (
                list(self.labels_id_range) if self.labels_id_range is not None else None
            ),
            "dtype": self.dtype.name,
            "roles": self.roles.to_dict(),
            "generated_names": self.generated_names,
            "skipped": list(self.skipped),
            "by_cols": list(self.by_cols),
            "by_in_preds": list(self.by_in_preds),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        """``to_dict``'s data read back: the same layout, for another process."""
        values = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in data.items()
            if k not in ("roles", "dtype")
        }
        return cls(**values, dtype=np.dtype(data["dtype"]), roles=Roles.from_dict(data["roles"]))


def read_types(source: Source, layout: Layout, *, as_labels: bool) -> dict[str, pa.DataType]:
    """Types to ask of a reader: ids as text; for CSV, labels as text (``00`` may be a
    class name, not the number 0), scores as float64, and a column per class as float64,
    or as booleans where the head holds ``True``/``False`` (``pd.get_dummies``)."""
    types: dict[str, pa.DataType] = {}
    key = layout.labels_id_col if as_labels and not layout.labels_in_preds else layout.id_col
    for column in (key, *layout.shared_keys):
        if column is not None:
            types[column] = pa.string()
    if source.format in ("csv", "tsv"):
        if not as_labels and layout.label_check is not None:
            types[layout.label_check] = pa.string()
        if as_labels or layout.labels_in_preds:
            if layout.label_cols is not None:
                for column in layout.label_cols:
                    boolean = pa.types.is_boolean(source.schema.field(column).type)
                    types[column] = pa.bool_() if boolean else pa.float64()
            else:
                types[layout.label_col] = pa.string()
        if not as_labels:
            types.update(dict.fromkeys(layout.pred_cols, pa.float64()))
        if layout.weight_col is not None and as_labels != layout.weight_in_preds:
            types[layout.weight_col] = pa.float64()
    return types
