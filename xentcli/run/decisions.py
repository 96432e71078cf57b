"""Every decision of a run, made once on the first rows and held as data.

``decide`` looks at the first rows that remain (after ``--ignore-label`` and invalid
predictions are set aside) and returns a frozen ``Decisions``: the columns and their
roles, the task, target, input kind, how labels map to classes, the positive class,
and the reason for each. Every later batch is checked and encoded against it by pure
functions (``encode_labels``), so that rows which contradict a decision are an error
naming the row, never a silent switch. The object holds plain values only (strings,
numbers, tuples, and the ``Layout``), so ``to_dict``/``from_dict`` ship it to
``xent inspect``, ``compare`` or a worker process unchanged.

``decide`` is two steps, ``decide_problem`` (task, target, input kind) then
``decide_labels`` (names, indices or 0/1, and the positive class); the batch loop runs
them apart only so that ``xent inspect`` can show the first when the labels then fail,
and ``with_labels_seen`` fills in the one thing the first rows may not show (the
other name of a binary problem whose first rows are all of one class).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InferenceError, UsageError, ValidationError, quoted
from ..io.arrays import from_numpy, mask, numbers, strings
from ..losses.conventions import check_options
from ..options import Options
from .align import Layout
from .infer import (
    VECTOR_ITEM,
    class_names,
    decide_input,
    decide_targets,
    decide_task,
    label_text,
    resolve_eps,
)

TRUE_TEXT = ("1", "1.0", "true")
FALSE_TEXT = ("0", "0.0", "false")
ZERO_ONE = strings(["0", "1"])
INTEGER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # numbers; integrality checked apart


class FirstRows(Protocol):
    """The rows a decision is made on: finite scores and their labels, with row numbers."""

    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    targets: npt.NDArray[np.float64] | None
    rows: npt.NDArray[np.int64]
    label_rows: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Decisions:
    """What a run decided, once, and why.

    ``classes`` are the class names in the order of the class indices the kernels use
    (binary: ``(other, the column's class)``). A label column is read by ``label_mode``:
    ``names`` (``label_keys[i]`` is the class ``label_classes[i]``), ``indices`` (label
    ``i`` is the class ``label_classes[i]``), ``binary`` (0/1 or true/false; label 0 is
    the class ``label_classes[0]``, label 1 the class ``label_classes[1]``), or None for
    labels given as a column per class. ``positive`` is the class the single binary
    column holds the probability of, ``negative`` the other (None until a row shows it).
    ``evidence_row`` is the row whose label showed the mode (for an error naming a row of
    each kind); ``label_type`` is ``auto`` when the data decided the mode, else the
    option that did (``names``, ``indices``, ``classes``). ``reasons`` are ``(key, text)``
    pairs, in the order the report shows them.
    """

    layout: Layout
    task: str
    target: str
    input: str
    eps: float
    classes: tuple[str, ...]
    label_mode: str | None = None
    label_keys: tuple[str, ...] = ()
    label_classes: tuple[int, ...] = ()
    positive: str | None = None
    negative: str | None = None
    evidence_row: int | None = None
    label_type: str = "auto"
    preds_file: str = ""
    label_file: str = ""
    reasons: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def join_key(self) -> str | None:
        """The column rows are joined on; None: by position."""
        return self.layout.id_col

    @property
    def label_column(self) -> str:
        return self.layout.label_col

    @property
    def reasons_dict(self) -> dict[str, str]:
        return dict(self.reasons)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; ``from_dict`` gives back an equal object."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "layout":
                value = value.to_dict()
            elif f.name == "reasons":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["join_key"] = self.join_key
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decisions:
        """The object ``to_dict`` describes."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name == "layout":
                value = Layout.from_dict(value)
            elif name == "reasons":
                value = tuple((str(k), str(v)) for k, v in value.items())
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)


# -- deciding ----------------------------------------------------------------------------


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
        found = _decide_binary(present, _present_rows(raw, first.label_rows), problem, options)
    else:
        found = _decide_multiclass(present, _present_rows(raw, first.label_rows), problem, options)
    reasons = dict(problem.reasons)
    reasons["labels"] = found.pop("reason")
    warnings = (*problem.warnings, *found.pop("warnings", ()))
    return replace(problem, reasons=tuple(reasons.items()), warnings=warnings, **found)


def _present_rows(raw: pa.Array, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return rows[mask(raw.is_valid())] if raw.null_count else rows


def _class_keys(layout: Layout) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Label texts that name a class (its name, its column's name, and the number of a
    numbered name: ``1`` for ``class_1``), normalised as labels are (``2.0`` is ``2``),
    with the class of each."""
    names = class_names(layout.pred_cols)
    numbers = class_numbers(names)
    numbered = [str(n) for n in numbers] if numbers is not None else []
    keys = list(dict.fromkeys([*names, *layout.pred_cols, *numbered]))
    by_name = {name: i for i, name in enumerate(names)}
    by_name.update({number: i for i, number in enumerate(numbered) if number not in by_name})
    by_column = {column: i for i, column in enumerate(layout.pred_cols)}
    index = tuple(by_name[k] if k in by_name else by_column[k] for k in keys)
    return tuple(label_text(strings(keys)).to_pylist()), index


def _decide_multiclass(
    raw: pa.Array, rows: npt.NDArray[np.int64], problem: Decisions, options: Options
) -> dict[str, Any]:
    """Names or indices, by SPEC: ``--classes`` and ``--label-type`` settle it; else the
    labels that are class names and those that are integers (mixed is an error naming a
    row of each), and integer labels meeting integer class names (``1``, or numbered:
    ``class_1``, ``p1``) is an error unless the names' numbers are ``0..K-1`` in order."""
    names = problem.classes
    k = len(names)
    keys, index = _class_keys(problem.layout)
    if options.classes is not None:
        lookup = _classes_order(options.classes, keys, index, names)
        shown = _shown([names[i] for i in lookup])
        return {
            **_mapping("indices", keys, lookup, f"class indices 0..{k - 1}: {shown} (--classes)"),
            "label_type": "classes",
        }
    order = tuple(range(k))
    warnings = () if _sorted_names(names) else (_order_warning(names),)
    if options.label_type == "names":
        return {
            **_mapping("names", keys, index, "class names (--label-type names)"),
            "label_type": "names",
        }
    if options.label_type == "indices":
        reason = f"class indices 0..{k - 1}, the columns in file order (--label-type indices)"
        return {
            **_mapping("indices", keys, order, reason),
            "label_type": "indices",
            "warnings": warnings,
        }
    text = label_text(raw)
    is_name = mask(pc.is_in(text, value_set=strings(keys)))
    is_integer = _integers(raw, text)
    numbers = class_numbers(names)
    if numbers is not None and is_integer.any():
        if numbers != order and _vector_items(problem.layout.pred_cols):
            # a list column's elements, chosen out of order: their names are the
            # indices into the vector, which the labels are
            reason = "class names (the list column's element indices)"
            return {**_mapping("names", keys, index, reason), "label_type": "names"}
        if numbers != order:
            raise _integer_conflict(problem, raw, rows, int(np.flatnonzero(is_integer)[0]))
        # names 0..K-1 in order: indices and names are the same mapping
        reason = f"class indices 0..{k - 1} (also the class names)"
        return {
            **_mapping("indices", keys, order, reason),
            "evidence_row": int(rows[np.flatnonzero(is_integer)[0]]),
        }
    flags = tuple(_flag_class(name) for name in names)
    if k == 2 and set(flags) == {0, 1} and not is_name.any() and _all_flags(text):
        # two columns named for the classes of 0/1 labels (true/false, pos/neg, yes/no):
        # label 0 (or false) is the column that names 0, whatever the file's column order
        lookup = (flags.index(0), flags.index(1))
        reason = f"0/1 labels: 0 is {names[lookup[0]]!r}, 1 is {names[lookup[1]]!r}, by their names"
        spellings = ("0", "false", "False", "FALSE", "1", "true", "True", "TRUE")
        classes = tuple(lookup[0] if i < 4 else lookup[1] for i in range(len(spellings)))
        return {
            **_mapping("names", spellings, classes, reason),
            "evidence_row": int(rows[0]) if len(rows) else None,
        }
    is_index = is_integer & ~is_name & _in_range(text, is_integer, k)
    if is_name.any() and is_index.any():
        first_name, first_index = int(np.flatnonzero(is_name)[0]), int(np.flatnonzero(is_index)[0])
        raise _mixed(
            problem,
            raw[first_name].as_py(),
            int(rows[first_name]),
            raw[first_index].as_py(),
            int(rows[first_index]),
        )
    if is_index.any():
        reason = f"class indices 0..{k - 1}"
        return {
            **_mapping("indices", keys, order, reason),
            "warnings": warnings,
            "evidence_row": int(rows[np.flatnonzero(is_index)[0]]),
        }
    evidence = int(rows[np.flatnonzero(is_name)[0]]) if is_name.any() else None
    return {**_mapping("names", keys, index, "class names"), "evidence_row": evidence}


def _all_flags(text: pa.Array) -> bool:
    """Every label is 0/1 or true/false (as text, any case)."""
    distinct = [v for v in pc.unique(text).to_pylist() if v is not None]
    return bool(distinct) and all(_lower(v) in FLAG_TEXT for v in distinct)


FLAG_TEXT = ("0", "1", "false", "true")


def _mapping(
    mode: str, keys: tuple[str, ...], index: tuple[int, ...], reason: str
) -> dict[str, Any]:
    """A label mode: ``names`` map ``keys`` to the classes ``index``; ``indices`` map
    label ``i`` to the class ``index[i]``."""
    if mode == "names":
        return {"label_mode": mode, "label_keys": keys, "label_classes": index, "reason": reason}
    return {
        "label_mode": mode,
        "label_keys": _index_names(len(index)),
        "label_classes": index,
        "reason": reason,
    }


def _classes_order(
    classes: Sequence[str], keys: tuple[str, ...], index: tuple[int, ...], names: Sequence[str]
) -> tuple[int, ...]:
    """``--classes``: the class (column) of each label index; each class once."""
    by_key = dict(zip(keys, index, strict=True))
    given = label_text(strings(list(classes))).to_pylist()
    unknown = [c for c, g in zip(classes, given, strict=True) if g not in by_key]
    if unknown:
        raise UsageError(
            f"--classes: {quoted(unknown[0])} is not a class (classes: {_shown(names)})"
        )
    lookup = tuple(by_key[g] for g in given)
    if len(set(lookup)) != len(lookup) or len(lookup) != len(names):
        raise UsageError(
            f"--classes must name each of the {len(names)} classes once, in the order of "
            f"the label indices; got {len(classes)}: {_shown(list(classes))} "
            f"(classes: {_shown(names)})"
        )
    return lookup


def _names_of(d: Decisions) -> tuple[str, ...]:
    """The label texts that name a class, whatever the mode."""
    return _class_keys(d.layout)[0]


def _integers(raw: pa.Array, text: pa.Array) -> npt.NDArray[np.bool_]:
    """Which labels are integers (``2``, ``"2"``, ``2.0``)."""
    if pa.types.is_integer(raw.type):
        return np.ones(len(raw), dtype=bool)
    if pa.types.is_floating(raw.type):
        values = numbers(raw, np.float64)
        return np.isfinite(values) & (values == np.floor(values))
    return mask(pc.match_substring_regex(pc.utf8_trim_whitespace(text), r"^[+-]?\d+$"))


def _in_range(text: pa.Array, integers: npt.NDArray[np.bool_], k: int) -> npt.NDArray[np.bool_]:
    """Which of the ``integers`` (as label text) are class indices ``0..k-1``; others
    are invalid labels, not evidence of indices."""
    values = np.full(len(text), -1, dtype=np.int64)
    if integers.any():
        chosen = text.filter(from_numpy(integers))
        values[integers] = [int(v) if len(v) < 19 else -1 for v in chosen.to_pylist()]
    return (values >= 0) & (values < k)


NUMBERED = re.compile(r"^(.*?)(\d+)$")  # a stem and a trailing integer: p1, class_1, Class 1


def class_numbers(names: Sequence[str]) -> tuple[int, ...] | None:
    """The integers that class names stand for: names that are integers as written
    (``1``, ``-2``; ``00`` is a name), or a stem with a letter that every name shares
    followed by an integer (``p1``, ``c1``, ``class1``, ``Class 1``, ``Class_1``);
    else None. Integer labels could be these numbers or indices 0..K-1.

    >>> class_numbers(["1", "2"]), class_numbers(["Class 1", "Class 2"])
    ((1, 2), (1, 2))
    >>> class_numbers(["p1", "q2"]), class_numbers(["01", "02"])
    (None, None)
    """
    if all(re.fullmatch(r"-?\d+", n) and str(int(n)) == n for n in names):
        return tuple(int(n) for n in names)
    found = [NUMBERED.match(n) for n in names]
    stems = {m.group(1) for m in found if m is not None}
    if not all(found) or len(stems) != 1 or not any(c.isalpha() for c in next(iter(stems))):
        return None
    numbers = tuple(int(m.group(2)) for m in found if m is not None)
    return numbers if len(set(numbers)) == len(numbers) else None


def _vector_items(columns: Sequence[str]) -> bool:
    return class_names(columns) != tuple(columns) and all(VECTOR_ITEM.match(c) for c in columns)


def _sorted_names(names: Sequence[str]) -> bool:
    """The names in the order scikit-learn's ``LabelEncoder`` would give them."""
    return list(names) == sorted(names)


def _order_warning(names: Sequence[str]) -> str:
    return (
        f"integer labels index the prediction columns in file order ({_shown(names)}), "
        "which is not sorted order (scikit-learn's LabelEncoder sorts); pass --classes to "
        "state the class of each index"
    )


def _integer_conflict(
    d: Decisions, raw: pa.Array, rows: npt.NDArray[np.int64], at: int
) -> InferenceError:
    value = raw[at].as_py()
    k = len(d.classes)
    text = str(label_text(raw.slice(at, 1))[0].as_py())
    numbers = class_numbers(d.classes) or ()
    number = int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else None
    as_name = f"class {d.classes[numbers.index(number)]!r}" if number in numbers else "no class"
    named = "integer" if numbers and str(numbers[0]) == d.classes[0] else "numbered"
    as_index = (
        f"class {d.classes[int(text)]!r}"
        if text.lstrip("+").isdigit() and int(text) < k
        else "no class"
    )
    return InferenceError(
        f"integer labels and {named} class names ({_shown(d.classes)}): label {quoted(value)} "
        f"is {as_name} as a name but {as_index} as an index 0..{k - 1}",
        file=d.label_file,
        column=d.label_column,
        row=int(rows[at]),
        hint="pass --label-type names, or --label-type indices or --classes for the class "
        "of each index",
    )


def _mixed(
    d: Decisions, name: object, name_row: int | None, index: object, index_row: int | None
) -> InferenceError:
    """Names and indices in one label column; a value not at hand (a row of an earlier
    batch) is left out."""
    name_text = f" {quoted(name)}" if name is not None else ""
    index_text = f" {quoted(index)}" if index is not None else ""
    return InferenceError(
        f"the labels mix class names and class indices: row {name_row} is the class name"
        f"{name_text}, row {index_row} the index{index_text}",
        file=d.label_file,
        column=d.label_column,
        hint="a label column is all names or all indices; pass --label-type names or "
        "--label-type indices, and the others are invalid labels",
    )


FLAG_NAMES = (("0", "false", "neg", "negative", "no"), ("1", "true", "pos", "positive", "yes"))
"""The names of the classes 0 and 1 of 0/1 and true/false labels."""
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


def _decide_binary(
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
    text = pc.utf8_lower(pc.utf8_trim_whitespace(label_text(raw)))
    kind = "true/false" if _any_bool_text(text) else "0/1"
    is_flag = pc.is_in(text, value_set=strings(TRUE_TEXT + FALSE_TEXT))
    if options.label_type != "names" and bool(pc.all(is_flag).as_py()):
        return _flags(kind, column, options, problem)
    multiline = np.flatnonzero(mask(pc.match_substring(label_text(raw), "\n")))
    if multiline.size:
        value = raw[int(multiline[0])].as_py()
        raise _bad(problem, "", value, rows, multiline)
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
        positive = _flag_class(options.positive, names)
        if positive is None:
            raise UsageError(
                f"--positive {options.positive!r} is not a class of {kind} labels "
                f"(0 or 1; false or true; neg or pos{_also(options.classes)})"
            )
        why = f"--positive {options.positive}"
    else:
        named = class_names([column])[0]
        positive = _flag_class(named, names) if named != column else None
        if positive is None:
            positive = _flag_class(column, names)
        if positive is None and named != column:  # p_class_1: the class '1'
            positive = _flag_class(class_names([named])[0], names)
        if positive is None and options.classes is None:  # p0, P(0), y_prob_0, neg_prob
            positive = _flag_in_name(column, problem)
        why = f"its name names class {positive}" if positive is not None else ""
        if positive is None and named != column and _lower(named) not in GENERIC_NAMES:
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
        value = _flag_class(word)
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
            f"got {len(classes)}: {_shown(list(classes))}"
        )
    return tuple((*FLAG_NAMES[i], _lower(classes[i])) for i in (0, 1))


def _also(classes: Sequence[str] | None) -> str:
    return f"; {', '.join(classes)}" if classes is not None else ""


def _lower(name: str) -> str:
    return str(label_text(strings([name.strip()]))[0].as_py()).lower()


def _flag_class(name: str, names: tuple[tuple[str, ...], ...] = FLAG_NAMES) -> int | None:
    """0 or 1 when ``name`` names a class of 0/1 labels (``0``, ``false``, ``neg``, ...)."""
    text = _lower(name)
    for value, aliases in enumerate(names):
        if text in aliases:
            return value
    return None


def _binary_names(positive: str, reason: str, negative: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "label_mode": "names",
        "positive": positive,
        "negative": negative,
        "reason": reason,
        "classes": (negative or f"not {positive}", positive),
    }
    found.update(_names_keys(positive, negative))
    return found


def _names_keys(positive: str, negative: str | None) -> dict[str, Any]:
    keys = [positive] if negative is None else [positive, negative]
    return {
        "label_keys": tuple(label_text(strings(keys)).to_pylist()),
        "label_classes": (1,) if negative is None else (1, 0),
    }


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
        **_names_keys(decisions.positive, negative),
    )


# -- encoding ----------------------------------------------------------------------------


def encode_labels(
    raw: pa.Array, rows: npt.NDArray[np.int64], decisions: Decisions
) -> npt.NDArray[np.int64]:
    """Class indices of one batch's labels by ``decisions``; ``rows`` are their rows in
    the label file. Bad labels are a ``ValidationError`` that names the first and keeps
    the batch positions of all (for ``--drop-invalid``)."""
    if raw.null_count:
        bad = np.flatnonzero(mask(raw.is_null()))
        error = ValidationError(
            "missing label",
            file=decisions.label_file,
            column=decisions.label_column,
            rows=rows[bad[:3]].tolist(),
            count=int(bad.size),
        )
        error.positions = bad
        raise error
    mode = decisions.label_mode
    if mode == "names" and decisions.task == "binary":
        return _encode_binary_names(raw, rows, decisions)
    if mode == "names":
        return _encode_names(raw, rows, decisions)
    if mode == "binary":
        return _encode_flags(raw, rows, decisions)
    return _encode_indices(raw, rows, decisions)


def _encode_names(
    raw: pa.Array, rows: npt.NDArray[np.int64], d: Decisions
) -> npt.NDArray[np.int64]:
    text = label_text(raw)
    position = pc.index_in(text, value_set=strings(d.label_keys))
    if d.label_type == "auto" and class_numbers(d.classes) is not None:
        integers = np.flatnonzero(_integers(raw, text))
        if integers.size:  # integer labels meet integer names past the first rows
            raise _integer_conflict(d, raw, rows, int(integers[0]))
    if position.null_count:
        bad = np.flatnonzero(mask(position.is_null()))
        if d.label_type == "auto":
            bad_text = text.take(bad)
            bad_integers = _integers(raw.take(bad), bad_text)
            integers = bad[bad_integers & _in_range(bad_text, bad_integers, len(d.classes))]
            if integers.size:
                at = int(integers[0])
                raise _mixed(d, None, d.evidence_row, raw[at].as_py(), int(rows[at]))
        value = raw[int(bad[0])].as_py()
        message = f"label {quoted(value)} is not a class (classes: {_shown(d.classes)})"
        raise _bad(d, message, value, rows, bad, hint=_label_hint(d, value))
    return np.asarray(d.label_classes, dtype=np.int64)[numbers(position)]


def _encode_indices(
    raw: pa.Array, rows: npt.NDArray[np.int64], d: Decisions
) -> npt.NDArray[np.int64]:
    values = _numbers(raw, rows, d)
    k = len(d.label_classes)
    bad = np.flatnonzero((values != np.floor(values)) | (values < 0) | (values >= k))
    if bad.size:
        value = raw[int(bad[0])].as_py()
        message = (
            f"label {quoted(value)} is neither a class name nor a class index 0..{k - 1} "
            f"(classes: {_shown(d.classes)})"
        )
        raise _bad(d, message, value, rows, bad, hint=_label_hint(d, value))
    lookup = np.asarray(d.label_classes, dtype=np.int64)
    return lookup[values.astype(np.int64)]


def _encode_flags(
    raw: pa.Array, rows: npt.NDArray[np.int64], d: Decisions
) -> npt.NDArray[np.int64]:
    lookup = np.asarray(d.label_classes, dtype=np.int64)  # the class of label 0 and of 1
    if pa.types.is_boolean(raw.type):
        return lookup[numbers(raw).astype(np.int64)]
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = numbers(raw, np.float64)
        one = values == 1.0
        bad = np.flatnonzero(~(one | (values == 0.0)))
    else:
        exact = pc.index_in(raw, value_set=ZERO_ONE)  # "0"/"1" as written: one lookup
        if not exact.null_count:
            return lookup[numbers(exact).astype(np.int64)]
        text = pc.utf8_lower(pc.utf8_trim_whitespace(label_text(raw)))
        one = mask(pc.is_in(text, value_set=strings(TRUE_TEXT)))
        bad = np.flatnonzero(~(one | mask(pc.is_in(text, value_set=strings(FALSE_TEXT)))))
    if bad.size:
        value = raw[int(bad[0])].as_py()
        message = f"binary label {quoted(value)} is not 0/1 or true/false"
        hint = "pass --positive NAME for labels that are class names"
        raise _bad(d, message, value, rows, bad, hint=hint)
    return lookup[one.astype(np.int64)]


def _encode_binary_names(
    raw: pa.Array, rows: npt.NDArray[np.int64], d: Decisions
) -> npt.NDArray[np.int64]:
    assert d.positive is not None
    text = label_text(raw)
    position = pc.index_in(text, value_set=strings(d.label_keys))
    if position.null_count:
        bad = np.flatnonzero(mask(position.is_null()))
        value = text[int(bad[0])].as_py()
        message = (
            f"a third label {quoted(value)} in a binary problem (the others are "
            f"{d.negative!r} and {d.positive!r})"
        )
        raise _bad(d, message, value, rows, bad)
    return np.asarray(d.label_classes, dtype=np.int64)[numbers(position)]


def _numbers(raw: pa.Array, rows: npt.NDArray[np.int64], d: Decisions) -> npt.NDArray[np.float64]:
    kind = raw.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return numbers(raw, np.float64)
    text = pc.utf8_trim_whitespace(label_text(raw))
    numeric = mask(pc.match_substring_regex(text, INTEGER_TEXT))
    if not numeric.all():
        bad = np.flatnonzero(~numeric)
        if d.label_type == "auto":
            named = bad[mask(pc.is_in(label_text(raw.take(bad)), value_set=strings(_names_of(d))))]
            if named.size:
                at = int(named[0])
                raise _mixed(d, raw[at].as_py(), int(rows[at]), None, d.evidence_row)
        value = raw[int(bad[0])].as_py()
        message = f"label {quoted(value)} is not a class (classes: {_shown(d.classes)})"
        raise _bad(d, message, value, rows, bad, hint=_label_hint(d, value))
    return numbers(text.cast(pa.float64()))


def _label_hint(d: Decisions, value: object) -> str | None:
    """What settles a label that is no class: a negative integer (``-100``, ``-1``) is
    most likely a marker of rows to leave out; else ``_numbered_hint``."""
    text = str(value).strip()
    if re.fullmatch(r"-\d+(\.0*)?", text):
        marker = text.split(".")[0]
        return (
            f"pass --ignore-label {marker} to leave rows labelled {marker} out of every "
            "figure, or --drop-invalid"
        )
    return _numbered_hint(d)


def _numbered_hint(d: Decisions) -> str | None:
    """For a label that is no class when the class names are numbered (``Class_1``):
    the labels may count from 1, or index the classes in another order."""
    numbers = class_numbers(d.classes)
    if numbers is None or d.label_type == "classes":
        return None
    k = len(d.classes)
    return (
        f"the class names are numbered {', '.join(map(str, numbers[:10]))}: pass "
        f"--label-type names if the labels are these numbers, or --classes for the class "
        f"of each label index 0..{k - 1}"
    )


def _bad(
    d: Decisions,
    message: str,
    value: object,
    rows: npt.NDArray[np.int64],
    positions: npt.NDArray[np.int64],
    hint: str | None = None,
) -> ValidationError:
    """The error for bad labels at ``positions`` of the batch (``rows`` are the batch's
    rows in the file); a value spanning lines is most likely an unclosed quote that
    swallowed the rest of a CSV file, and is called that. The error keeps the
    positions, for ``--drop-invalid``."""
    if isinstance(value, str) and "\n" in value:
        message = f"label {value.splitlines()[0]!r}... runs over several lines"
        hint = "an unclosed quote in the file?"
    where = rows[positions]
    error = ValidationError(
        message,
        file=d.label_file,
        column=d.label_column,
        row=int(where[0]),
        count=int(where.size) if where.size > 1 else None,
        hint=hint,
    )
    error.positions = positions
    return error


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


def _index_names(k: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(k))


def _mostly_numbers(raw: pa.Array, names: pa.Array) -> bool:
    """More labels are numbers than class names: indices, with a stray value or two that
    ``_encode_indices`` then names (or ``--drop-invalid`` drops)."""
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        return True
    text = pc.utf8_trim_whitespace(label_text(raw))
    n_numbers = int(np.count_nonzero(mask(pc.match_substring_regex(text, INTEGER_TEXT))))
    n_names = int(np.count_nonzero(mask(pc.is_in(label_text(raw), value_set=names))))
    return n_numbers > n_names


def _any_bool_text(text: pa.Array) -> bool:
    return bool(pc.any(pc.is_in(text, value_set=strings(["true", "false"]))).as_py())


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
