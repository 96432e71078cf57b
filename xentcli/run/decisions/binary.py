"""How a binary label column maps to classes (SPEC): 0/1 and true/false labels are the
classes 0 and 1, other labels two class names; which class the one prediction column
holds the probability of (``--positive``, else its name, else class 1), refused where
two readings give two numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import InferenceError, UsageError
from ...io.arrays import compute as pc
from ...io.arrays import mask, numbers, strings
from ...options import Options
from ..infer import (
    class_names,
    label_text,
)
from .common import (
    FALSE_TEXT,
    FLAG_NAMES,
    TRUE_TEXT,
    any_bool_text,
    bad_labels,
    flag_class,
    listed,
    lowered,
)
from .record import Decisions

GENERIC_NAMES = frozenset(
    (
        *("score", "scores", "prob", "probs", "proba", "probas", "probability"),
        *("probabilities", "pred", "preds", "prediction", "predictions", "predicted"),
        *("output", "outputs", "logit", "logits", "logprob", "logprobs", "y_pred"),
        *("y_score", "y_prob", "y_proba", "y_hat", "yhat", "hat", "confidence"),
    )
)
"""Names of a single binary column, after its prefix (``pred_proba``), that name no class:
the column holds P(label = 1)."""


def decide_binary(
    raw: pa.Array, rows: npt.NDArray[np.int64], problem: Decisions, options: Options
) -> dict[str, Any]:
    """0/1 and true/false labels are the classes 0 and 1, other labels (text or
    numbers) two class names; the single column holds the probability of the class
    ``--positive`` names, else of the class its name names (``p_0``, ``prob_dog``), else
    of class 1."""
    column = problem.layout.pred_cols[0]
    if pa.types.is_boolean(raw.type):
        return _flags("true/false", column, options, problem)
    if options.label_type == "indices" or options.classes is not None:
        return _flags("0/1", column, options, problem)  # held to {0, 1} by _encode_flags
    # Numbers are read as their text, as a CSV's are: Parquet labels {1, 2} or {-1, 1}
    # are two class names, as the same labels in a CSV are (SPEC: --positive is honoured
    # in every format); 0/1 numbers are still 0/1 flags.
    if options.label_type != "names" and _integer_flags(raw):
        return _flags("0/1", column, options, problem)  # what the text below decides
    text = pc.utf8_lower(pc.utf8_trim_whitespace(label_text(raw)))
    kind = "true/false" if any_bool_text(text) else "0/1"
    is_flag = pc.is_in(text, value_set=strings(TRUE_TEXT + FALSE_TEXT))
    if options.label_type != "names" and bool(pc.all(is_flag).as_py()):
        return _flags(kind, column, options, problem)
    multiline = np.flatnonzero(mask(pc.match_substring(label_text(raw), "\n")))
    if multiline.size:
        value = raw[int(multiline[0])].as_py()
        raise bad_labels(problem, "", value, rows, multiline)
    distinct = [v for v in pc.unique(label_text(raw)).to_pylist() if v is not None]
    if options.positive is not None:
        return _binary_names(
            options.positive,
            f"class names, positive class {options.positive!r} (--positive)",
            negative=next((v for v in distinct if v != options.positive), None),
        )
    named = class_names([column])[0]
    if options.label_type == "auto":
        _no_index_reading(named, column, distinct, problem)
    for candidate in (named, column):
        if candidate in distinct and len(distinct) <= 2:
            return _binary_names(
                candidate,
                f"class names, positive class {candidate!r} (the prediction column is {column!r})",
                negative=next((v for v in distinct if v != candidate), None),
            )
    if named != column and len(distinct) == 1:  # p_cat, and the first rows are all dogs
        return _binary_names(
            named,
            f"class names, positive class {named!r} (the prediction column is {column!r})",
            negative=distinct[0],
        )
    if options.label_type != "names" and bool(pc.any(is_flag).as_py()):
        return _flags(kind, column, options, problem)  # a stray value: _encode_flags names its row
    shown = ", ".join(repr(v) for v in distinct[:4])
    if _fractions(distinct):
        raise InferenceError(
            f"binary labels must be 0/1 or true/false; these are fractions ({shown}): "
            "soft targets or a regression target, not classes",
            file=problem.label_file,
            column=problem.label_column,
            hint="xent reads soft targets as a numeric LABELS column per class, named like "
            "the prediction columns; pass --label-col if another column holds the classes",
        )
    raise InferenceError(
        f"binary labels must be 0/1 or true/false; these are names ({shown}) and the "
        f"prediction column {column!r} names none of them",
        file=problem.label_file,
        column=problem.label_column,
        hint="pass --positive NAME to say which class the column is for",
    )


def _integer_flags(raw: pa.Array) -> bool:
    """Integer labels, none missing, all 0 or 1: the common case, decided in NumPy (the
    text path imports ``pyarrow.compute``, ~30 ms of the run)."""
    if not pa.types.is_integer(raw.type) or raw.null_count:
        return False
    values = numbers(raw)
    return bool(((values == 0) | (values == 1)).all())


def _fractions(values: list[str]) -> bool:
    """Some label texts are numbers between 0 and 1 that are not 0 or 1."""
    found = False
    for value in values:
        try:
            number = float(value)
        except ValueError:
            return False
        if 0.0 < number < 1.0:
            found = True
    return found


def _no_index_reading(named: str, column: str, distinct: list[str], problem: Decisions) -> None:
    """``p_1`` with integer labels {1, 2}: the column is named for class 1, or it is
    scikit-learn's ``predict_proba[:, 1]``, the class of index 1 in sorted order (2).
    Two readings, two numbers: refused naming ``--positive``. Where both name the same
    class ({-1, 1}, {0, 1}) the name is read."""
    if named not in ("0", "1") or named not in distinct or len(distinct) != 2:
        return
    if not all(re.fullmatch(r"[+-]?\d{1,18}", v) for v in distinct):
        return
    by_index = sorted(distinct, key=int)[int(named)]
    if by_index == named:
        return
    raise InferenceError(
        f"the one prediction column is named for class {named}, and the labels are the "
        f"integers {', '.join(sorted(distinct, key=int))}: it may hold P(label = {named}) "
        f"(its name) or P(label = {by_index}) (predict_proba[:, {named}], the class of "
        f"index {named} in sorted order)",
        file=problem.preds_file,
        column=column,
        hint=f"pass --positive {named} or --positive {by_index}",
    )


def _flags(kind: str, column: str, options: Options, problem: Decisions) -> dict[str, Any]:
    """0/1 or true/false labels; the class the column is for: ``--positive``, else the
    class its name names (``p_1``, ``p_neg``, or a class ``--classes`` names), else 1
    for a name that names no class (``score``, ``pred_proba``, ``malignant``). A column
    named for another class (``p_malignant``) is refused: which label is it? A column
    named ``0`` by xent (a NumPy array, ``--no-header``) names a position, not a class;
    one a file names ``0`` could be either (pandas names an unnamed column 0), so it is
    refused unless ``--positive`` says."""
    names = _flag_names(options.classes)
    if options.positive is None and column == "0" and options.classes is None:
        if problem.layout.generated_names:
            shown = ("0", "1")
            why = "a column xent named by its position"
            return _flag_decision(kind, column, 1, why, shown, options.label_type)
        raise InferenceError(
            "the one prediction column is named '0': pandas names an unnamed column 0, "
            "so it may hold P(label = 1), or it may be named for class 0",
            file=problem.preds_file,
            column=column,
            hint="pass --positive 1 or --positive 0 to say which class it is for",
        )
    if options.positive is not None:
        positive = flag_class(options.positive, names)
        if positive is None:
            raise UsageError(
                f"--positive {options.positive!r} is not a class of {kind} labels "
                f"(0 or 1; false or true; neg or pos{_also(options.classes)})"
            )
        why = f"--positive {options.positive}"
    else:
        named = class_names([column])[0]
        positive = flag_class(named, names) if named != column else None
        if positive is None:
            positive = flag_class(column, names)
        if positive is None and named != column:  # p_class_1: the class '1'
            positive = flag_class(class_names([named])[0], names)
        if positive is None and options.classes is None:  # p0, P(0), y_prob_0, neg_prob
            positive = _flag_in_name(column, problem)
        why = f"its name names class {positive}" if positive is not None else ""
        if positive is None and named != column and lowered(named) not in GENERIC_NAMES:
            raise _named_for_a_class(column, named, kind, problem)
        if positive is None:
            positive, why = 1, "its name names no class"
    shown = tuple(options.classes) if options.classes is not None else ("0", "1")
    reason = f"{kind}; {column!r} holds P(label = {positive}): {why}"
    if options.classes is not None:
        reason += f" (--classes {', '.join(shown)})"
    label_type = "classes" if options.classes is not None else options.label_type
    return _flag_decision(kind, column, positive, why, shown, label_type, reason)


def _flag_in_name(column: str, problem: Decisions) -> int | None:
    """The class of 0/1 labels a column's name names in passing: a ``0`` or ``1`` among
    its parts (``p0``, ``P(0)``, ``y_prob_0``, ``class0_prob``), or a flag word as its
    first or last part (``neg_prob``, ``prob_yes``). Parts naming both classes
    (``p_0_vs_1``) are refused: which is it?"""
    parts = [p.lower() for p in re.findall(r"[A-Za-z]+|\d+", column)]
    found = {int(p) for p in parts if p in ("0", "1")}
    for word in {parts[0], parts[-1]} if parts else set():
        value = flag_class(word)
        if value is not None and not word.isdigit():
            found.add(value)
    if len(found) > 1:
        raise InferenceError(
            "the one prediction column's name names both classes of 0/1 labels: "
            "which does it hold?",
            file=problem.preds_file,
            column=column,
            hint="pass --positive 1 or --positive 0",
        )
    return found.pop() if found else None


def _named_for_a_class(column: str, named: str, kind: str, problem: Decisions) -> InferenceError:
    """``p_malignant`` with 0/1 labels: P(label = 1) or P(label = 0) give two numbers."""
    return InferenceError(
        f"the one prediction column is named for the class {named!r}, but the labels are "
        f"{kind} and name no class: it may hold P(label = 1) or P(label = 0)",
        file=problem.preds_file,
        column=column,
        hint=f"pass --positive 1 or --positive 0 for the label whose probability it holds, "
        f"or --classes to name the classes of labels 0 and 1, e.g. --classes {named},OTHER "
        f"if label 0 is {named!r}",
    )


def _flag_decision(
    kind: str,
    column: str,
    positive: int,
    why: str,
    shown: tuple[str, ...],
    label_type: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The decisions of 0/1 labels whose column holds P(label = ``positive``)."""
    if reason is None:
        reason = f"{kind}; {column!r} holds P(label = {positive}): {why}"
    return {
        "label_mode": "binary",
        "label_keys": ("0", "1"),
        "label_classes": (0, 1) if positive == 1 else (1, 0),
        "classes": shown if positive == 1 else shown[::-1],
        "positive": shown[positive],
        "negative": shown[1 - positive],
        "reason": reason,
        "label_type": label_type,
    }


def _flag_names(classes: Sequence[str] | None) -> tuple[tuple[str, ...], ...]:
    """The names of the classes 0 and 1: ``FLAG_NAMES`` and those ``--classes`` gives."""
    if classes is None:
        return FLAG_NAMES
    if len(classes) != 2:
        raise UsageError(
            f"--classes must name the 2 classes of a binary problem (label 0, then label 1); "
            f"got {len(classes)}: {listed(list(classes))}"
        )
    return tuple((*FLAG_NAMES[i], lowered(classes[i])) for i in (0, 1))


def _also(classes: Sequence[str] | None) -> str:
    return f"; {', '.join(classes)}" if classes is not None else ""


def _binary_names(positive: str, reason: str, negative: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "label_mode": "names",
        "positive": positive,
        "negative": negative,
        "reason": reason,
        "classes": (negative or f"not {positive}", positive),
    }
    found.update(names_keys(positive, negative))
    return found


def names_keys(positive: str, negative: str | None) -> dict[str, Any]:
    keys = [positive] if negative is None else [positive, negative]
    return {
        "label_keys": tuple(label_text(strings(keys)).to_pylist()),
        "label_classes": (1,) if negative is None else (1, 0),
    }
