"""The columns the options or the defaults name, found in the files: ``--weight-col``,
``--by``, the label column (or a column per class), ``--pred-cols``; each missing or
doubtful one is an error naming the file and its columns."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ...errors import InputError, UsageError
from ...io.source import Source
from ...options import Options
from ..roles import (
    INDEX_NAME,
    LABEL,
    LABEL_DEFAULTS,
    ColumnRole,
    is_numeric,
    key_reason,
    label_default,
)


def weight_column(
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
        raise InputError(f"no weight column {name!r} in {where}{listing(preds)}")
    if not is_numeric(source.schema.field(name).type) and source.format not in ("csv", "tsv"):
        raise InputError(
            f"weight column is not numeric ({source.schema.field(name).type})",
            file=source.name,
            column=name,
        )
    return name, in_preds


def by_columns(
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
                f"--by {name!r} is not a column of {where}{_shown(list(dict.fromkeys(names)))}"
            )
    return tuple(found.items())


def by_not_labels(
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


def per_class_columns(
    labels: Source, pred_cols: Sequence[str], exclude: set[str | None]
) -> tuple[str, ...] | None:
    """A numeric or boolean column of LABELS per class, named like the prediction
    columns (the same names, or the same class names under a prefix such as ``y_``), in
    the order of ``pred_cols``; None when LABELS has no such columns. Booleans are 0/1:
    ``pd.get_dummies`` writes bool columns (pandas >= 2)."""
    from ..infer import class_names

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


def no_duplicate_names(source: Source) -> None:
    seen: set[str] = set()
    for name in source.columns:
        if name in seen:
            raise InputError(
                "duplicate column name; each column needs its own name",
                file=source.name,
                column=name,
            )
        seen.add(name)


def label_column(
    source: Source, options: Options, exclude: set[str | None], sole_column_ok: bool
) -> str:
    """The label column's name; ``""`` when LABELS may instead hold a column per class."""
    names = source.columns
    if options.label_col is not None:
        if options.label_col not in names:
            raise InputError(
                f"no label column {options.label_col!r}{listing(source)}", file=source.name
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
    raise no_label_column(source)


def no_label_column(source: Source) -> InputError:
    return InputError(
        "no label column: name it 'label', 'target', 'y' or 'y_true', or pass --label-col "
        "(or give LABELS a numeric column per class, named like the prediction columns)"
        f"{listing(source)}",
        file=source.name,
    )


def chosen_columns(preds: Source, items: Sequence[str]) -> dict[str, None]:
    """The columns ``--pred-cols`` names (names or globs), in the order given."""
    schema = preds.schema
    chosen: dict[str, None] = {}  # ordered, and a set for 100,000 names
    names = set(schema.names)
    for item in items:
        if item not in names and any(ch in item for ch in "*?["):
            matches = [n for n in schema.names if fnmatch.fnmatchcase(n, item)]
            if not matches:
                raise UsageError(
                    f"--pred-cols {item!r} matches no column{listing(preds)}", file=preds.name
                )
        elif item in names:  # a name wins over a pattern: probs[0], [cat]
            matches = [item]
        elif f"{item}[0]" in names:  # a list column by its own name
            matches = [n for n in schema.names if n.startswith(f"{item}[")]
        else:
            raise UsageError(f"--pred-cols: no column {item!r}{listing(preds)}", file=preds.name)
        chosen.update(dict.fromkeys(matches))
    for name in chosen:
        if not is_numeric(schema.field(name).type):
            raise InputError(
                f"prediction column is not numeric ({schema.field(name).type})",
                file=preds.name,
                column=name,
            )
    return chosen


def float_type(schema: pa.Schema, columns: Sequence[str]) -> np.dtype:
    kinds = {schema.field(c).type for c in columns}
    if kinds == {pa.float32()}:
        return np.dtype(np.float32)
    if kinds == {pa.float16()}:
        return np.dtype(np.float16)
    return np.dtype(np.float64)


def listing(source: Source) -> str:
    return _shown(source.columns)


def _shown(names: Sequence[str]) -> str:
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f" (columns: {shown})" if names else " (no columns)"
