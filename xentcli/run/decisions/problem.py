"""``decide``: the task, target and input kind (``decide_problem``), then how the labels
map to classes (``decide_labels``, by ``multiclass`` or ``binary``); and what follows
from the decisions (``with_labels_seen``, ``class_aliases``, the columns reason)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import UsageError
from ...io.arrays import compute as pc
from ...io.arrays import mask, strings
from ...losses.conventions import check_options
from ...options import Options
from ..align import Layout
from ..infer import (
    class_names,
    decide_input,
    decide_targets,
    decide_task,
    label_text,
    resolve_eps,
)
from .binary import decide_binary, names_keys
from .multiclass import decide_multiclass
from .record import Decisions, FirstRows


def decide(
    first: FirstRows, layout: Layout, options: Options, preds_file: str, label_file: str
) -> Decisions:
    """Every decision, made on the first rows that remain: the task and target, the input
    kind, and how the labels map to classes (see ``Decisions``)."""
    return decide_labels(
        first, decide_problem(first, layout, options, preds_file, label_file), options
    )


def decide_problem(
    first: FirstRows, layout: Layout, options: Options, preds_file: str, label_file: str
) -> Decisions:
    """The first half of ``decide``: task, target and input kind (labels not yet read;
    ``xent inspect`` shows these when the labels then fail)."""
    reasons: dict[str, str] = {"columns": columns_reason(layout, options)}
    if layout.join is not None:
        reasons["join"] = layout.join
    names = class_names(layout.pred_cols)
    if layout.label_cols is None:
        task, reasons["task"] = decide_task(len(layout.pred_cols), options, layout.pred_cols)
        target = "hard"
        if options.positive is not None and task != "binary":
            raise UsageError("--positive is for binary problems (one prediction column)")
    else:
        assert first.targets is not None
        if options.classes is not None:
            raise UsageError(
                "--classes gives the class of each label index; these labels are a column "
                "per class, named like the prediction columns"
            )
        task, target, reasons["task"] = decide_targets(first.targets, options)
        shown = ", ".join(layout.label_columns[:4])
        more = " .." if len(layout.label_columns) > 4 else ""
        reasons["labels"] = f"a column per class: {shown}{more}"
    input_kind, reasons["input"] = decide_input(
        first.scores, task, options, preds_file, first.rows, layout.pred_cols
    )
    check_options(options, task, input_kind, target, layout.label_cols is not None)
    return Decisions(
        layout=layout,
        task=task,
        target=target,
        input=input_kind,
        eps=resolve_eps(options, layout.dtype),
        classes=names if task != "binary" else ("0", "1"),
        preds_file=preds_file,
        label_file=label_file,
        reasons=tuple(reasons.items()),
    )


def decide_labels(first: FirstRows, problem: Decisions, options: Options) -> Decisions:
    """The second half of ``decide``: how the label column's values map to classes."""
    if problem.layout.label_cols is not None:
        return problem
    raw = first.labels
    assert raw is not None
    present = raw.filter(raw.is_valid()) if raw.null_count else raw
    if present.null_count or not len(present):
        return problem  # nothing to decide on: missing labels are an error (or dropped)
    if problem.task == "binary":
        found = decide_binary(present, _present_rows(raw, first.label_rows), problem, options)
    else:
        found = decide_multiclass(present, _present_rows(raw, first.label_rows), problem, options)
    reasons = dict(problem.reasons)
    reasons["labels"] = found.pop("reason")
    warnings = (*problem.warnings, *found.pop("warnings", ()))
    return replace(problem, reasons=tuple(reasons.items()), warnings=warnings, **found)


def _present_rows(raw: pa.Array, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return rows[mask(raw.is_valid())] if raw.null_count else rows


def labels_settled(decisions: Decisions) -> bool:
    """Whether no later label can change ``decisions``: the labels' kind is known (some
    label was present) and, for a binary problem of class names, both names are
    (``with_labels_seen`` learns the second from the first row that shows it)."""
    if decisions.label_mode is None:
        return False
    return not (
        decisions.label_mode == "names"
        and decisions.task == "binary"
        and decisions.negative is None
        and decisions.positive is not None
    )


def with_labels_seen(decisions: Decisions, raw: pa.Array) -> Decisions:
    """``decisions`` completed by a batch's labels: a binary problem of class names whose
    first rows showed only the positive class learns the other name from the first row
    that shows it (a third name is then an error naming its row)."""
    if (
        decisions.label_mode != "names"
        or decisions.task != "binary"
        or decisions.negative is not None
        or decisions.positive is None
    ):
        return decisions
    text = label_text(raw.filter(raw.is_valid()) if raw.null_count else raw)
    other = pc.invert(pc.is_in(text, value_set=strings(decisions.label_keys)))
    if not bool(pc.any(other).as_py()):
        return decisions
    negative = str(text.filter(other)[0].as_py())
    return replace(
        decisions,
        negative=negative,
        classes=(negative, decisions.positive),
        **names_keys(decisions.positive, negative),
    )


def class_aliases(decisions: Decisions) -> list[list[str]]:
    """The names ``--class-weights`` may use for each class, in class order."""
    if decisions.task == "binary":
        if decisions.label_mode == "binary":
            aliases: list[list[str]] = [[], []]
            for label, texts in ((0, ["0", "false"]), (1, ["1", "true"])):
                aliases[decisions.label_classes[label]].extend(texts)
            return aliases
        return [["0", "false"], ["1", "true"]]
    return [[c] for c in decisions.layout.pred_cols]


def columns_reason(layout: Layout, options: Options) -> str:
    """Which columns were taken as predictions, and every column of PREDS left out, with why."""
    return layout.roles.columns_reason()
