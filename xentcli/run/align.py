"""Pair prediction rows with labels and pick the columns: by position or by a key.

``plan`` decides, once and from the schemas, every column's role (``roles``) and how
rows pair: by ``--id-col``, by the index pandas wrote in both files (a column, or a
RangeIndex kept in the metadata), else by position; the ``Layout`` it returns is
frozen plain data. ``Aligner`` streams ``Batch`` objects (a float64 block of scores,
the raw labels, the ids), checks on every batch what the layout says must agree
(PREDS' own label column, a key both files carry), and counts what a join leaves over.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import AlignError, InputError, UsageError
from ..io.arrays import from_numpy, mask, numbers, strings
from ..io.source import Source
from ..options import Options
from .roles import (
    BY_REASON,
    ID,
    INDEX,
    INDEX_NAME,
    LABEL,
    LABEL_DEFAULTS,
    LABEL_READ,
    PREDICTION,
    SLICE,
    TEXT,
    UNNAMED_INDEX,
    UNUSED,
    WEIGHT,
    ColumnRole,
    Roles,
    default_predictions,
    is_numeric,
    is_text,
    key_reason,
    label_default,
    pandas_index_columns,
    pandas_range_indexes,
)

INDEX_COLUMN = INDEX_NAME  # the names pandas gives an unnamed index (inspect reads it)

EXAMPLES = 3


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


@dataclass
class Batch:
    """Aligned rows: ``offset`` is the PREDS row of the first; ``label_rows`` the LABELS rows.

    ``labels`` is the label column, or None when ``targets`` holds label columns as a
    float64 block; ``weights`` the per-sample weights when a weight column is given;
    ``keys`` each ``--by`` column's values for these rows, in the order given.
    """

    offset: int
    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    ids: pa.Array | None
    label_rows: npt.NDArray[np.int64] | None = None
    targets: npt.NDArray[np.float64] | None = None
    weights: npt.NDArray[np.float64] | None = None
    keys: dict[str, pa.Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def plan(preds: Source, labels: Source | None, options: Options) -> Layout:
    """Decide every column's role from the schemas and the options (SPEC "Inputs"):
    the prediction, label, id and weight columns, the join, and why each other column
    is left out."""
    for source in (preds, labels):
        if source is not None:
            _no_duplicate_names(source)
    preds_index = pandas_index_columns(preds.schema)
    labels_index = pandas_index_columns(labels.schema) if labels is not None else {}
    pairing = _pairing(preds, labels, options, preds_index, labels_index)
    id_col, labels_id, join = pairing.preds_col, pairing.labels_col, pairing.reason
    label_source = labels if labels is not None else preds
    weight_col, weight_in_preds = _weight_column(preds, labels, options)
    by = _by_columns(preds, labels, options)
    by_in_labels = {name for name, in_preds in by if not in_preds}
    if weight_col is not None and weight_col in (id_col, labels_id, options.label_col):
        raise UsageError(f"--weight-col {weight_col!r} is also the id or label column")
    source_index = labels_index if labels is not None else preds_index
    label_col = _label_column(
        label_source,
        options,
        {labels_id if labels is not None else id_col, weight_col, *source_index, *by_in_labels},
        sole_column_ok=labels is not None,
    )
    fixed = _fixed_roles(
        preds, labels, options, preds_index, id_col, label_col, weight_col, weight_in_preds, join
    )
    _by_not_labels(by, fixed, label_col if labels is not None else None)
    label_check = next((c for c, r in fixed.items() if r.reason == CHECKED), None)
    pred_roles = _pred_roles(preds, options, fixed)
    pred_cols = tuple(r.column for r in pred_roles if r.role == PREDICTION)
    if options.pred_cols is not None:  # in the order --pred-cols gives
        pred_cols = tuple(_chosen_columns(preds, options.pred_cols))
    label_cols = None
    if labels is not None and label_col == "":
        exclude = {labels_id, weight_col, *labels_index, *by_in_labels}
        label_cols = _label_columns(labels, pred_cols, exclude)
        if label_cols is None:
            raise _no_label_column(labels)
    elif labels is not None and options.label_col is None:
        exclude = {labels_id, weight_col, label_col, *labels_index, *by_in_labels}
        per_class = _label_columns(labels, pred_cols, exclude)
        if per_class is not None:  # hard labels, or the targets a column per class?
            shown = ", ".join(per_class[:4]) + (" .." if len(per_class) > 4 else "")
            raise InputError(
                f"holds both a label column {label_col!r} and a column per class ({shown}): "
                "hard labels or the targets of each class?",
                file=labels.name,
                hint=f"pass --label-col {label_col} for the hard labels, or leave that column "
                "out of the file to read the columns per class",
            )
    roles = Roles(
        preds=tuple(pred_roles),
        labels=_labels_roles(
            labels, labels_index, labels_id, label_col, label_cols, weight_col, by_in_labels
        )
        if labels is not None
        else (),
        by_option=options.pred_cols is not None,
        order=pred_cols,
    )
    shared: tuple[str, ...] = ()
    if join is not None and join.startswith("rows paired by position"):
        assert labels is not None
        _not_partitioned(preds, labels)
        own_labels = [c for c, r in fixed.items() if r.role == LABEL]
        not_keys = {*pred_cols, label_col, *(label_cols or ()), *own_labels, weight_col}
        shared = _shared_keys(preds, labels, preds_index, labels_index, not_keys)
        if shared:
            named = ", ".join(repr(n) for n in shared)
            join += (
                f", checked to agree on the column{'s' if len(shared) > 1 else ''} {named} "
                f"that both files carry"
            )
    return Layout(
        pred_cols=pred_cols,
        label_col=label_col,
        labels_in_preds=labels is None,
        id_col=id_col,
        dtype=_float_type(preds.schema, pred_cols),
        skipped=roles.columns(TEXT),
        label_cols=label_cols,
        weight_col=weight_col,
        weight_in_preds=weight_in_preds,
        roles=roles,
        labels_id_col=labels_id,
        label_check=label_check,
        join=join,
        shared_keys=shared,
        generated_names=preds.generated_names,
        id_range=pairing.preds_range,
        labels_id_range=pairing.labels_range,
        by_cols=tuple(name for name, _ in by),
        by_in_preds=tuple(in_preds for _, in_preds in by),
    )


CHECKED = "checked against LABELS row by row"


@dataclass(frozen=True)
class _Pairing:
    """How rows pair: on a key column of each file, or keys of pandas' RangeIndex
    (``start, step``) where a file keeps its index only in the metadata; by position
    when neither file has a key. ``reason`` says which, and why."""

    preds_col: str | None = None
    labels_col: str | None = None
    preds_range: tuple[int, int] | None = None
    labels_range: tuple[int, int] | None = None
    reason: str | None = None


def _pairing(
    preds: Source,
    labels: Source | None,
    options: Options,
    preds_index: dict[str, str],
    labels_index: dict[str, str],
) -> _Pairing:
    """``--id-col``; else the index pandas wrote in both files under the same name
    (SPEC), as a column or as a RangeIndex in the metadata; else position."""
    name = options.id_col
    if name is not None:
        preds_key = _key_column(preds, name, preds_index)
        if labels is None:
            return _Pairing(preds_col=preds_key)
        return _Pairing(
            preds_key,
            _key_column(labels, name, labels_index),
            reason=f"rows joined on --id-col {name!r} (keys compared as text)",
        )
    if labels is None:
        return _Pairing()
    in_preds = _joinable(preds_index)
    in_labels = _joinable(labels_index)
    preds_ranges = pandas_range_indexes(preds.schema)
    labels_ranges = pandas_range_indexes(labels.schema)
    shared = [n for n in {**in_preds, **preds_ranges} if n in in_labels or n in labels_ranges]
    if len(shared) > 1:
        raise AlignError(
            "both files carry a pandas index of several levels "
            f"({', '.join(repr(n) for n in shared)}); xent joins on one key column",
            hint="pass --id-col",
        )
    if not shared:
        alone = [s.name for s, index in ((preds, preds_index), (labels, labels_index)) if index]
        only = f" (only {alone[0]} carries a pandas index)" if len(alone) == 1 else ""
        return _Pairing(reason=f"rows paired by position{only}")
    index = shared[0]
    what = "pandas' unnamed index" if index == "" else f"the pandas index {index!r}"
    preds_range, labels_range = preds_ranges.get(index), labels_ranges.get(index)
    if preds_range is not None and preds_range == labels_range:
        return _Pairing(
            reason=f"rows paired by position: both files carry {what} as the same RangeIndex"
        )
    spelled = [
        f"{_range_text(r)} in {s.name}" if r is not None else f"{c!r} in {s.name}"
        for s, c, r in (
            (preds, in_preds.get(index), preds_range),
            (labels, in_labels.get(index), labels_range),
        )
    ]
    return _Pairing(
        in_preds.get(index) if preds_range is None else None,
        in_labels.get(index) if labels_range is None else None,
        preds_range,
        labels_range,
        f"rows joined on {what}, which both files carry ({', '.join(spelled)}), "
        "as pandas aligns them (keys compared as text)",
    )


def _range_text(start_step: tuple[int, int]) -> str:
    start, step = start_step
    return f"a RangeIndex from {start}" + (f" by {step}" if step != 1 else "")


def _joinable(index: dict[str, str]) -> dict[str, str]:
    """Index name -> its column, for the indexes a join may use (the first column
    of each name: a CSV may hold ``""`` and an older ``Unnamed: 0``)."""
    found: dict[str, str] = {}
    for column, name in index.items():
        if not re.match(r"^Unnamed: [1-9]", name):
            found.setdefault(name, column)
    return found


def _key_column(source: Source, name: str, index: dict[str, str]) -> str:
    """The column ``--id-col name`` means in ``source``; ``''``, ``Unnamed: 0`` and
    ``__index_level_0__`` all name pandas' unnamed index, however the file spells it."""
    if name in source.columns:
        return name
    if name in UNNAMED_INDEX or name == "__index_level_0__":
        for column, index_name in index.items():
            if index_name == "":
                return column
    raise InputError(f"no id column {name!r}{_listing(source)}", file=source.name)


def _fixed_roles(
    preds: Source,
    labels: Source | None,
    options: Options,
    preds_index: dict[str, str],
    id_col: str | None,
    label_col: str,
    weight_col: str | None,
    weight_in_preds: bool,
    join: str | None,
) -> dict[str, ColumnRole]:
    """The columns of PREDS whose part the options and the file decide, before the
    rule for predictions looks at the rest."""
    fixed: dict[str, ColumnRole] = {}
    if id_col is not None:
        if options.id_col is not None:
            fixed[id_col] = ColumnRole(id_col, ID, f"--id-col {options.id_col!r}")
        else:
            fixed[id_col] = ColumnRole(id_col, ID, "pandas' index: rows joined on it")
    if labels is None:
        fixed.setdefault(label_col, ColumnRole(label_col, LABEL, LABEL_READ))
    else:
        own = options.label_col if options.label_col in preds.columns else None
        own = own or label_default(preds.columns)
        if own is not None and own not in fixed and own != weight_col:
            fixed[own] = ColumnRole(
                own,
                LABEL,
                CHECKED if label_col != "" else "a label column (LABELS has one per class)",
            )
    if weight_col is not None and weight_in_preds:
        fixed.setdefault(weight_col, ColumnRole(weight_col, WEIGHT, "--weight-col"))
    for name in options.by:
        if name in preds.columns:
            taken = fixed.get(name)
            if taken is None or taken.role == INDEX:
                fixed[name] = ColumnRole(name, SLICE, BY_REASON)
            elif taken.role in (ID, WEIGHT):  # read already; its values cut slices too
                fixed[name] = ColumnRole(name, taken.role, f"{taken.reason}; {BY_REASON}")
    for column in preds_index:
        fixed.setdefault(column, ColumnRole(column, INDEX, "pandas index"))
    return fixed


def _pred_roles(preds: Source, options: Options, fixed: dict[str, ColumnRole]) -> list[ColumnRole]:
    """Every column of PREDS with its part: ``fixed`` ones as they are; the rest by
    ``--pred-cols``, else by SPEC's default rule."""
    schema = preds.schema
    if options.pred_cols is not None:
        chosen = _chosen_columns(preds, options.pred_cols)
        for name in chosen:
            taken = fixed.get(name)
            if taken is not None and taken.role == SLICE:
                raise UsageError(
                    f"--pred-cols and --by both name {name!r}; it can't be both a "
                    "prediction column and the slices"
                )
            if taken is not None and taken.role in (LABEL, ID, WEIGHT):
                what = {LABEL: "label", ID: "id", WEIGHT: "weight"}[taken.role]
                raise UsageError(
                    f"--pred-cols names {name!r}, which is also the {what} column "
                    f"({taken.reason}); a column plays one part"
                )
        return [
            ColumnRole(n, PREDICTION, "--pred-cols")
            if n in chosen
            else fixed.get(n, ColumnRole(n, UNUSED, "not in --pred-cols"))
            for n in schema.names
        ]
    rest = [n for n in schema.names if n not in fixed]
    typed = preds.format not in ("csv", "tsv", "jsonl")  # text: types are guessed
    decided = {r.column: r for r in default_predictions(schema, rest, preds.name, typed)}
    roles = [fixed[n] if n in fixed else decided[n] for n in schema.names]
    if not any(r.role == PREDICTION for r in roles):
        raise InputError(
            f"no numeric prediction columns{_listing(preds)}",
            file=preds.name,
            hint="pass --pred-cols",
        )
    return roles


def _labels_roles(
    labels: Source,
    index: dict[str, str],
    id_col: str | None,
    label_col: str,
    label_cols: tuple[str, ...] | None,
    weight_col: str | None,
    by: set[str],
) -> tuple[ColumnRole, ...]:
    """Every column of LABELS with its part; a ``--by`` column read from LABELS is a
    slice (or, if also the join key or weight, that role naming ``--by`` too)."""
    read = set(label_cols) if label_cols is not None else {label_col}
    roles = []
    for name in labels.columns:
        if name == id_col:
            role = ColumnRole(name, ID, "the join key")
        elif name in read:
            role = ColumnRole(name, LABEL, LABEL_READ)
        elif name == weight_col:
            role = ColumnRole(name, WEIGHT, "--weight-col")
        elif name in by:
            role = ColumnRole(name, SLICE, BY_REASON)
        elif name in index:
            role = ColumnRole(name, INDEX, "pandas index")
        else:
            role = ColumnRole(name, UNUSED, "not read")
        if name in by and role.role in (ID, WEIGHT):
            role = ColumnRole(name, role.role, f"{role.reason}; {BY_REASON}")
        roles.append(role)
    return tuple(roles)


def _shared_keys(
    preds: Source,
    labels: Source,
    preds_index: dict[str, str],
    labels_index: dict[str, str],
    not_keys: set[str | None],
) -> tuple[str, ...]:
    """The columns both files carry under one name that rows paired by position must
    agree on: a key by its name, an index both wrote, or any other column that is text
    or integer in both (a filename, ``ImageId``, a patient, a named CSV index) and is
    not a prediction, label or weight column. Float columns are left alone: they are
    scores or measurements, and need not be keys."""
    shared = []
    for name in preds.columns:
        if name not in labels.columns or name in not_keys:
            continue
        reason = key_reason(name)
        kinds = (preds.schema.field(name).type, labels.schema.field(name).type)
        if (
            (reason is not None and "key" in reason)
            or (name in preds_index and name in labels_index)
            or all(_key_type(k) for k in kinds)
        ):
            shared.append(name)
    return tuple(shared)


def _not_partitioned(preds: Source, labels: Source) -> None:
    """A hive-partitioned dataset is read directory by directory (all of ``fold=0``,
    then ``fold=1``), not in the order its rows were written: paired by position with
    another file, its rows would meet the wrong labels."""
    for source, other in ((preds, labels), (labels, preds)):
        if source.partition_columns:
            keys = ", ".join(repr(k) for k in source.partition_columns)
            both = [
                n
                for n in preds.columns
                if n in labels.columns
                and n not in source.partition_columns
                and all(_key_type(s.schema.field(n).type) for s in (preds, labels))
            ]
            name = repr(both[0]) if both else "NAME"
            raise AlignError(
                f"is a hive-partitioned dataset (directories by {keys}), read directory "
                "by directory and not in the order its rows were written, so its rows "
                f"cannot be paired by position with {other.name}",
                file=source.name,
                hint=f"pass --id-col {name} to join on a key both files carry",
            )


def _key_type(kind: pa.DataType) -> bool:
    """Text or integer: a type a key can have (a float is a score or a measurement)."""
    return bool(pa.types.is_integer(kind) or is_text(kind))


def _weight_column(
    preds: Source, labels: Source | None, options: Options
) -> tuple[str | None, bool]:
    """``--weight-col``: a column of PREDS, or else of LABELS (SPEC)."""
    name = options.weight_col
    if name is None:
        return None, True
    if name in preds.columns:
        source, in_preds = preds, True
    elif labels is not None and name in labels.columns:
        source, in_preds = labels, False
    else:
        where = f"{preds.name} or {labels.name}" if labels is not None else preds.name
        raise InputError(f"no weight column {name!r} in {where}{_listing(preds)}")
    if not is_numeric(source.schema.field(name).type) and source.format not in ("csv", "tsv"):
        raise InputError(
            f"weight column is not numeric ({source.schema.field(name).type})",
            file=source.name,
            column=name,
        )
    return name, in_preds


def _by_columns(
    preds: Source, labels: Source | None, options: Options
) -> tuple[tuple[str, bool], ...]:
    """``--by``: each column with whether it is read from PREDS (SPEC: a column of
    PREDS, else of LABELS), in the order given."""
    found: dict[str, bool] = {}
    for name in options.by:
        if name in found:
            raise UsageError(f"--by names {name!r} twice; name each column once")
        if name in preds.columns:
            found[name] = True
        elif labels is not None and name in labels.columns:
            found[name] = False
        else:
            where = preds.name if labels is None else f"{preds.name} or {labels.name}"
            names = [*preds.columns, *(labels.columns if labels is not None else ())]
            raise InputError(
                f"--by {name!r} is not a column of {where}{_names(list(dict.fromkeys(names)))}"
            )
    return tuple(found.items())


def _by_not_labels(
    by: Sequence[tuple[str, bool]], fixed: dict[str, ColumnRole], labels_col: str | None
) -> None:
    """A ``--by`` column cannot also be the label column (of LABELS, or PREDS' own)."""
    for name, in_preds in by:
        if (in_preds and fixed.get(name, ColumnRole(name, "", "")).role == LABEL) or (
            not in_preds and name == labels_col
        ):
            raise UsageError(
                f"--by {name!r} names the label column; it can't be both the labels and "
                "the slices (the per-class figures are the loss by label)"
            )


LABEL_PREFIXES = ("y_", "t_", "true_", "target_", "targets_", "label_", "labels_", "soft_")


def _label_columns(
    labels: Source, pred_cols: Sequence[str], exclude: set[str | None]
) -> tuple[str, ...] | None:
    """A numeric or boolean column of LABELS per class, named like the prediction
    columns (the same names, or the same class names under a prefix such as ``y_``), in
    the order of ``pred_cols``; None when LABELS has no such columns. Booleans are 0/1:
    ``pd.get_dummies`` writes bool columns (pandas >= 2)."""
    from .infer import class_names

    wanted = class_names(pred_cols)
    candidates = [
        c.name
        for c in labels.schema
        if c.name not in exclude
        and not INDEX_NAME.match(c.name)
        and key_reason(c.name) is None
        and (is_numeric(c.type) or pa.types.is_boolean(c.type))
    ]
    if len(candidates) != len(pred_cols) or len(pred_cols) < 2:
        return None
    if set(candidates) == set(pred_cols):
        return tuple(pred_cols)
    names = class_names(candidates)
    for prefix in LABEL_PREFIXES:
        if all(c.startswith(prefix) for c in candidates):
            names = tuple(c[len(prefix) :] for c in candidates)
            names = class_names(names) if set(names) != set(wanted) else names
            break
    by_name = dict(zip(names, candidates, strict=True))
    if set(by_name) != set(wanted):
        return None
    return tuple(by_name[name] for name in wanted)


def _no_duplicate_names(source: Source) -> None:
    seen: set[str] = set()
    for name in source.columns:
        if name in seen:
            raise InputError(
                "duplicate column name; each column needs its own name",
                file=source.name,
                column=name,
            )
        seen.add(name)


def _label_column(
    source: Source, options: Options, exclude: set[str | None], sole_column_ok: bool
) -> str:
    """The label column's name; ``""`` when LABELS may instead hold a column per class."""
    names = source.columns
    if options.label_col is not None:
        if options.label_col not in names:
            raise InputError(
                f"no label column {options.label_col!r}{_listing(source)}", file=source.name
            )
        return options.label_col
    defaults = [n for n in names if n.lower() in LABEL_DEFAULTS and n not in exclude]
    if len(defaults) > 1:  # label and target (or y): two readings, two numbers
        raise InputError(
            f"several default label columns ({', '.join(repr(n) for n in defaults)}); "
            "which holds the labels?",
            file=source.name,
            hint="pass " + " or ".join(f"--label-col {n!r}" for n in defaults),
        )
    default = label_default(names)
    if default is not None:
        return default
    others = [n for n in names if n not in exclude and not INDEX_NAME.match(n)]
    if sole_column_ok and len(others) > 1:  # a key beside one column: that is the label
        unkeyed = [n for n in others if key_reason(n) is None]
        others = unkeyed if len(unkeyed) == 1 else others
    if sole_column_ok and len(others) == 1:
        return others[0]
    if sole_column_ok and len(others) > 1:
        return ""  # perhaps a column per class; plan() looks
    raise _no_label_column(source)


def _no_label_column(source: Source) -> InputError:
    return InputError(
        "no label column: name it 'label', 'target', 'y' or 'y_true', or pass --label-col "
        "(or give LABELS a numeric column per class, named like the prediction columns)"
        f"{_listing(source)}",
        file=source.name,
    )


def _chosen_columns(preds: Source, items: Sequence[str]) -> dict[str, None]:
    """The columns ``--pred-cols`` names (names or globs), in the order given."""
    schema = preds.schema
    chosen: dict[str, None] = {}  # ordered, and a set for 100,000 names
    names = set(schema.names)
    for item in items:
        if item not in names and any(ch in item for ch in "*?["):
            matches = [n for n in schema.names if fnmatch.fnmatchcase(n, item)]
            if not matches:
                raise UsageError(
                    f"--pred-cols {item!r} matches no column{_listing(preds)}", file=preds.name
                )
        elif item in names:  # a name wins over a pattern: probs[0], [cat]
            matches = [item]
        elif f"{item}[0]" in names:  # a list column by its own name
            matches = [n for n in schema.names if n.startswith(f"{item}[")]
        else:
            raise UsageError(f"--pred-cols: no column {item!r}{_listing(preds)}", file=preds.name)
        chosen.update(dict.fromkeys(matches))
    for name in chosen:
        if not is_numeric(schema.field(name).type):
            raise InputError(
                f"prediction column is not numeric ({schema.field(name).type})",
                file=preds.name,
                column=name,
            )
    return chosen


def _float_type(schema: pa.Schema, columns: Sequence[str]) -> np.dtype:
    kinds = {schema.field(c).type for c in columns}
    if kinds == {pa.float32()}:
        return np.dtype(np.float32)
    if kinds == {pa.float16()}:
        return np.dtype(np.float16)
    return np.dtype(np.float64)


def _listing(source: Source) -> str:
    return _names(source.columns)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f" (columns: {shown})" if names else " (no columns)"


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


def scores_block(
    batch: pa.RecordBatch | pa.Table, columns: Sequence[str]
) -> npt.NDArray[np.float64]:
    """The prediction columns as one float64 (rows, classes) block; nulls become NaN."""
    block = np.empty((batch.num_rows, len(columns)), dtype=np.float64, order="F")
    for j, name in enumerate(columns):
        block[:, j] = numbers(batch.column(name))
    return block


@dataclass
class Aligner:
    """Stream aligned batches; afterwards ``unmatched_labels`` counts labels no row used."""

    preds: Source
    labels: Source | None
    layout: Layout
    batch_rows: int
    classes: Sequence[str] | None = None  # --classes: the class of each label index
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
            *(c for c, own in zip(layout.by_cols, layout.by_in_preds, strict=True) if own),
        )
        for extra in extras:
            if extra is not None and extra not in columns:
                columns.append(extra)
        types = read_types(self.preds, layout, as_labels=False)
        return self.preds.batches(columns, types, self.batch_rows)

    def _ids(self, batch: pa.RecordBatch, offset: int = 0) -> pa.Array | None:
        """The batch's keys: its id column, or the keys of pandas' RangeIndex as text."""
        if self.layout.id_col is not None:
            return batch.column(self.layout.id_col)
        if self.layout.id_range is not None and self.labels is not None:
            return _range_keys_of(self.layout.id_range, offset, batch.num_rows)
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
        from .infer import label_text

        mine = label_text(_whole(preds.column(preds_column)))
        theirs = label_text(_whole(labels.column(labels_column)))
        shown_mine, shown_theirs = mine, theirs
        if preds_column == self.layout.label_check:
            mine, theirs = self._as_names(mine, theirs)
        same = pc.fill_null(pc.equal(mine, theirs), False)
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
        from .decisions import class_numbers
        from .infer import class_names

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
        offset = 0
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
        by = (c for c, own in zip(layout.by_cols, layout.by_in_preds, strict=True) if not own)
        columns.extend(c for c in by if c not in columns)
        types = read_types(labels, layout, as_labels=True)
        return labels.batches(columns, types, self.batch_rows)

    def _by_position(self, labels: Source) -> Iterator[Batch]:
        if (
            self.preds.num_rows is not None
            and labels.num_rows is not None
            and self.preds.num_rows != labels.num_rows
        ):
            raise self._length_error(self.preds.num_rows, labels.num_rows, labels)
        taker = _RowTaker(self._label_batches(labels))
        offset = 0
        preds_iter = self._pred_batches()
        for batch in preds_iter:
            label_part = taker.take(batch.num_rows)
            if label_part.num_rows < batch.num_rows:
                n_preds = offset + batch.num_rows + sum(b.num_rows for b in preds_iter)
                raise self._length_error(n_preds, offset + label_part.num_rows, labels)
            yield self._batch(offset, batch, label_part)
            offset += batch.num_rows
        rest = taker.count_rest()
        if rest:
            raise self._length_error(offset, offset + rest, labels)
        self.unmatched_labels = 0

    def _length_error(self, n_preds: int, n_labels: int, labels: Source) -> AlignError:
        """Different lengths; when the longer file is one row longer and its first line
        was read as data (``--no-header``), that line may be a header: pandas writes
        ``0`` above an unnamed Series (``pd.Series(y).to_csv(index=False)``)."""
        longer = labels if n_labels > n_preds else self.preds
        header = ""
        if abs(n_labels - n_preds) == 1 and _first_line_was_data(longer):
            header = (
                f"; {longer.name}'s first line was read as data (--no-header reads every "
                "text file so): if it is a header, such as the '0' pandas writes above an "
                "unnamed Series, write the file without it (pandas: header=False) or with "
                "a named header (pandas: to_csv(index=False, header=['label']))"
            )
        return AlignError(
            f"{self.preds.name} has {n_preds} rows but {labels.name} has {n_labels}"
            f"{header}; rows are paired by position unless --id-col names a key column to "
            "join on"
        )

    def _by_key(self, labels: Source) -> Iterator[Batch]:
        layout = self.layout
        id_col = layout.id_col
        labels_id = layout.labels_id_col
        hint = None
        if layout.join is not None and "pandas" in layout.join:
            hint = (
                "rows are joined on the pandas index both files carry; "
                "write them with to_csv/to_parquet(index=False) to pair rows by position"
            )
        batches = list(self._label_batches(labels))
        if not sum(b.num_rows for b in batches):
            raise InputError("no rows (the file has a header but no data rows)", file=labels.name)
        table = pa.Table.from_batches(batches).combine_chunks()
        if labels_id is not None:
            label_ids = table.column(labels_id).combine_chunks()
        else:
            assert layout.labels_id_range is not None
            labels_id = "(pandas' RangeIndex)"
            label_ids = _range_keys_of(layout.labels_id_range, 0, table.num_rows)
        _no_missing_ids(label_ids, labels.name, labels_id)
        _no_duplicate_ids(label_ids, labels.name, labels_id)
        label_values = table
        seen = np.zeros(table.num_rows, dtype=bool)
        missing: list[str] = []
        n_missing = 0
        duplicates: list[str] = []
        n_duplicates = 0
        offset = 0
        for batch in self._pred_batches():
            ids = self._ids(batch, offset)
            assert ids is not None
            _no_missing_ids(ids, self.preds.name, id_col or "(RangeIndex)", offset)
            index = pc.index_in(ids, value_set=label_ids)
            absent = mask(index.is_null())
            if absent.any():
                n_missing += int(absent.sum())
                keys = ids.filter(from_numpy(absent)).to_pylist()
                missing.extend(keys[: EXAMPLES - len(missing)])
            rows = np.nan_to_num(numbers(index, np.float64)).astype(np.int64)
            present = rows[~absent]
            again = seen[present] | _repeated_within(present)
            if again.any():
                n_duplicates += int(again.sum())
                repeated = ids.filter(from_numpy(~absent)).filter(from_numpy(again))
                for key in repeated.to_pylist():
                    if len(duplicates) < EXAMPLES and key not in duplicates:
                        duplicates.append(key)
            seen[present] = True
            if not n_missing and not n_duplicates:
                yield self._batch(offset, batch, label_values.take(from_numpy(rows)), rows)
            offset += batch.num_rows
        if n_missing:
            raise AlignError(
                f"{n_missing} id{'s' if n_missing > 1 else ''} of {self.preds.name} "
                f"{'are' if n_missing > 1 else 'is'} not in {labels.name} "
                f"(e.g. {_examples(missing)})",
                column=id_col,
                hint=hint,
            )
        if n_duplicates:
            raise AlignError(
                f"{self.preds.name} repeats ids: {n_duplicates} duplicate row"
                f"{'s' if n_duplicates > 1 else ''} (e.g. {_examples(duplicates)})",
                column=id_col,
                hint=hint,
            )
        self.unmatched_labels = int((~seen).sum())


def _first_line_was_data(source: Source) -> bool:
    """A text file whose first line ``--no-header`` read as data (columns named 0..K-1)."""
    return source.format in ("csv", "tsv") and source.generated_names


def _all_indices(text: pa.Array) -> bool:
    """Every label present is a class index as text (``0``, ``12``)."""
    return bool(pc.all(pc.match_substring_regex(text, r"^[0-9]{1,9}$")).as_py())


def _names_at(text: pa.Array, names: Sequence[str]) -> pa.Array:
    """Class indices as text, as the class names they index; out of range is null."""
    index = pc.cast(text, pa.int64())
    inside = pc.and_(pc.greater_equal(index, 0), pc.less(index, len(names)))
    return strings(names).take(pc.if_else(inside, index, pa.scalar(None, pa.int64())))


def _range_keys_of(start_step: tuple[int, int], offset: int, n: int) -> pa.Array:
    """Keys ``start + i * step`` for rows ``offset .. offset + n - 1``, as text."""
    start, step = start_step
    keys = start + (offset + np.arange(n, dtype=np.int64)) * step
    return from_numpy(keys).cast(pa.string())


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _examples(keys: list[str]) -> str:
    return ", ".join(repr(k) for k in keys)


def _repeated_within(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True for each entry whose value already occurred earlier in ``rows``."""
    flags = np.zeros(rows.shape[0], dtype=bool)
    if rows.size:
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        flags[order[1:]] = ordered[1:] == ordered[:-1]
    return flags


def _no_missing_ids(
    ids: pa.Array | pa.ChunkedArray, name: str, column: str, offset: int = 0
) -> None:
    if ids.null_count:
        where = np.flatnonzero(mask(ids.is_null())) + offset
        raise AlignError(
            "missing id",
            file=name,
            column=column,
            rows=where[:EXAMPLES].tolist(),
            count=int(where.size),
        )


def _no_duplicate_ids(ids: pa.Array, name: str, column: str) -> None:
    counts = ids.value_counts()
    repeated = counts.filter(from_numpy(numbers(counts.field("counts")) > 1))
    if len(repeated):
        keys = repeated.field("values").to_pylist()
        raise AlignError(
            f"{len(keys)} id{'s' if len(keys) > 1 else ''} appear more than once "
            f"(e.g. {', '.join(repr(k) for k in keys[:EXAMPLES])})",
            file=name,
            column=column,
        )


class _RowTaker:
    """Take exactly ``n`` rows at a time from a stream of record batches."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self._pending: pa.RecordBatch | None = None

    def take(self, n: int) -> pa.RecordBatch:
        parts: list[pa.RecordBatch] = []
        need = n
        while need > 0:
            if self._pending is None or self._pending.num_rows == 0:
                self._pending = next(self._batches, None)
                if self._pending is None:
                    break
            part = self._pending.slice(0, need)
            self._pending = self._pending.slice(part.num_rows)
            parts.append(part)
            need -= part.num_rows
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return pa.RecordBatch.from_pylist([])
        return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]

    def count_rest(self) -> int:
        rest = self._pending.num_rows if self._pending is not None else 0
        return rest + sum(b.num_rows for b in self._batches)
