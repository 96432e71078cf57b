"""``plan``: every column's part from the schemas and the options (SPEC "Inputs"), as
one frozen ``Layout``. The columns the options name are found by ``columns``, how rows
pair by ``pairing``; the rule for default predictions is ``roles``'."""

from __future__ import annotations

from ...errors import InputError, UsageError
from ...io.source import Source
from ...options import Options
from ..roles import (
    BY_REASON,
    ID,
    INDEX,
    LABEL,
    LABEL_READ,
    PREDICTION,
    SLICE,
    TEXT,
    UNUSED,
    WEIGHT,
    ColumnRole,
    Roles,
    default_predictions,
    label_default,
    pandas_index_columns,
)
from .columns import (
    by_columns,
    by_not_labels,
    chosen_columns,
    float_type,
    label_column,
    listing,
    no_duplicate_names,
    no_label_column,
    per_class_columns,
    weight_column,
)
from .layout import Layout
from .pairing import not_partitioned, pair_rows, shared_keys

CHECKED = "checked against LABELS row by row"  # PREDS' own label column, with LABELS given


def plan(preds: Source, labels: Source | None, options: Options) -> Layout:
    """Decide every column's role from the schemas and the options (SPEC "Inputs"):
    the prediction, label, id, weight and ``--by`` columns, the join, and why each
    other column is left out."""
    for source in (preds, labels):
        if source is not None:
            no_duplicate_names(source)
    preds_index = pandas_index_columns(preds.schema)
    labels_index = pandas_index_columns(labels.schema) if labels is not None else {}
    pairing = pair_rows(preds, labels, options, preds_index, labels_index)
    id_col, labels_id, join = pairing.preds_col, pairing.labels_col, pairing.reason
    label_source = labels if labels is not None else preds
    weight_col, weight_in_preds = weight_column(preds, labels, options)
    by = by_columns(preds, labels, options)
    by_in_labels = {name for name, in_preds in by if not in_preds}
    if weight_col is not None and weight_col in (id_col, labels_id, options.label_col):
        raise UsageError(f"--weight-col {weight_col!r} is also the id or label column")
    source_index = labels_index if labels is not None else preds_index
    label_col = label_column(
        label_source,
        options,
        {labels_id if labels is not None else id_col, weight_col, *source_index, *by_in_labels},
        sole_column_ok=labels is not None,
    )
    fixed = _fixed_roles(
        preds, labels, options, preds_index, id_col, label_col, weight_col, weight_in_preds, join
    )
    by_not_labels(by, fixed, label_col if labels is not None else None)
    label_check = next((c for c, r in fixed.items() if r.reason == CHECKED), None)
    pred_roles = _pred_roles(preds, options, fixed)
    pred_cols = tuple(r.column for r in pred_roles if r.role == PREDICTION)
    if options.pred_cols is not None:  # in the order --pred-cols gives
        pred_cols = tuple(chosen_columns(preds, options.pred_cols))
    label_cols = None
    if labels is not None and label_col == "":
        exclude = {labels_id, weight_col, *labels_index, *by_in_labels}
        label_cols = per_class_columns(labels, pred_cols, exclude)
        if label_cols is None:
            raise no_label_column(labels)
    elif labels is not None and options.label_col is None:
        exclude = {labels_id, weight_col, label_col, *labels_index, *by_in_labels}
        per_class = per_class_columns(labels, pred_cols, exclude)
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
        not_partitioned(preds, labels)
        own_labels = [c for c, r in fixed.items() if r.role == LABEL]
        not_keys = {*pred_cols, label_col, *(label_cols or ()), *own_labels, weight_col}
        shared = shared_keys(preds, labels, preds_index, labels_index, not_keys)
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
        dtype=float_type(preds.schema, pred_cols),
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
        chosen = chosen_columns(preds, options.pred_cols)
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
            f"no numeric prediction columns{listing(preds)}",
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
