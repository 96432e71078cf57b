"""How a multiclass label column maps to classes (SPEC): class names or indices,
settled by ``--classes`` and ``--label-type``, else by the labels themselves; integer
labels meeting integer or numbered class names, and names mixed with indices, are
errors naming a row of each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import InferenceError, UsageError, quoted
from ...io.arrays import compute as pc
from ...io.arrays import from_numpy, mask, numbers, strings
from ...options import Options
from ..align import Layout
from ..infer import (
    VECTOR_ITEM,
    class_names,
    label_text,
)
from .common import flag_class, index_names, listed, lowered
from .record import Decisions


def class_keys(layout: Layout) -> tuple[tuple[str, ...], tuple[int, ...]]:
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
    if not any("." in k or "e" in k.lower() for k in keys):
        return tuple(keys), index  # as label_text leaves them, without pyarrow.compute
    return tuple(label_text(strings(keys)).to_pylist()), index


def decide_multiclass(
    raw: pa.Array, rows: npt.NDArray[np.int64], problem: Decisions, options: Options
) -> dict[str, Any]:
    """Names or indices, by SPEC: ``--classes`` and ``--label-type`` settle it; else the
    labels that are class names and those that are integers (mixed is an error naming a
    row of each), and integer labels meeting integer class names (``1``, or numbered:
    ``class_1``, ``p1``) is an error unless the names' numbers are ``0..K-1`` in order."""
    names = problem.classes
    k = len(names)
    keys, index = class_keys(problem.layout)
    if options.classes is not None:
        lookup = _classes_order(options.classes, keys, index, names)
        shown = listed([names[i] for i in lookup])
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
    if pa.types.is_integer(raw.type):  # the common case, in NumPy: no pyarrow.compute
        text = None
        values = numbers(raw)
        is_name = np.isin(values, integer_keys(keys, values.dtype))
        is_integer = np.ones(len(raw), dtype=bool)
    else:
        text = label_text(raw)
        is_name = mask(pc.is_in(text, value_set=strings(keys)))
        is_integer = integer_labels(raw, text)
    name_numbers = class_numbers(names)
    if name_numbers is not None and is_integer.any():
        if name_numbers != order and _vector_items(problem.layout.pred_cols):
            # a list column's elements, chosen out of order: their names are the
            # indices into the vector, which the labels are
            reason = "class names (the list column's element indices)"
            return {**_mapping("names", keys, index, reason), "label_type": "names"}
        if name_numbers != order:
            raise integer_conflict(problem, raw, rows, int(np.flatnonzero(is_integer)[0]))
        # names 0..K-1 in order: indices and names are the same mapping
        reason = f"class indices 0..{k - 1} (also the class names)"
        return {
            **_mapping("indices", keys, order, reason),
            "evidence_row": int(rows[np.flatnonzero(is_integer)[0]]),
        }
    flags = tuple(flag_class(name) for name in names)
    if k == 2 and set(flags) == {0, 1} and not is_name.any() and _all_flags(raw, text):
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
    if text is None:
        is_index = ~is_name & (values >= 0) & (values < k)
    else:
        is_index = is_integer & ~is_name & in_range(text, is_integer, k)
    if is_name.any() and is_index.any():
        first_name, first_index = int(np.flatnonzero(is_name)[0]), int(np.flatnonzero(is_index)[0])
        raise mixed_labels(
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


def _all_flags(raw: pa.Array, text: pa.Array | None) -> bool:
    """Every label is 0/1 or true/false (as text, any case)."""
    text = label_text(raw) if text is None else text
    distinct = [v for v in pc.unique(text).to_pylist() if v is not None]
    return bool(distinct) and all(lowered(v) in FLAG_TEXT for v in distinct)


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
        "label_keys": index_names(len(index)),
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
            f"--classes: {quoted(unknown[0])} is not a class (classes: {listed(names)})"
        )
    lookup = tuple(by_key[g] for g in given)
    if len(set(lookup)) != len(lookup) or len(lookup) != len(names):
        raise UsageError(
            f"--classes must name each of the {len(names)} classes once, in the order of "
            f"the label indices; got {len(classes)}: {listed(list(classes))} "
            f"(classes: {listed(names)})"
        )
    return lookup


def names_of(d: Decisions) -> tuple[str, ...]:
    """The label texts that name a class, whatever the mode."""
    return class_keys(d.layout)[0]


def integer_labels(raw: pa.Array, text: pa.Array) -> npt.NDArray[np.bool_]:
    """Which labels are integers (``2``, ``"2"``, ``2.0``)."""
    if pa.types.is_integer(raw.type):
        return np.ones(len(raw), dtype=bool)
    if pa.types.is_floating(raw.type):
        values = numbers(raw, np.float64)
        return np.isfinite(values) & (values == np.floor(values))
    return mask(pc.match_substring_regex(pc.utf8_trim_whitespace(text), r"^[+-]?\d+$"))


def integer_keys(keys: Sequence[str], dtype: np.dtype) -> npt.NDArray[Any]:
    """The keys an integer label's text can equal (``label_text`` writes ``-2`` as
    ``-2``: no sign, space or leading zero more), as integers of the labels' type."""
    limits = np.iinfo(dtype)
    found = []
    for key in keys:
        try:
            value = int(key)
        except ValueError:
            continue
        if str(value) == key and limits.min <= value <= limits.max:
            found.append(value)
    return np.array(found, dtype=dtype)


def in_range(text: pa.Array, integers: npt.NDArray[np.bool_], k: int) -> npt.NDArray[np.bool_]:
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
        f"integer labels index the prediction columns in file order ({listed(names)}), "
        "which is not sorted order (scikit-learn's LabelEncoder sorts); pass --classes to "
        "state the class of each index"
    )


def integer_conflict(
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
        f"integer labels and {named} class names ({listed(d.classes)}): label {quoted(value)} "
        f"is {as_name} as a name but {as_index} as an index 0..{k - 1}",
        file=d.label_file,
        column=d.label_column,
        row=int(rows[at]),
        hint="pass --label-type names, or --label-type indices or --classes for the class "
        "of each index",
    )


def mixed_labels(
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
