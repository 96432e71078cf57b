"""``encode_labels``: one batch's labels as class indices by the ``Decisions``; every
label the decisions do not cover is a ``ValidationError`` naming its row and keeping
the batch positions of all of them (for ``--drop-invalid``)."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import ValidationError, quoted
from ...io.arrays import compute as pc
from ...io.arrays import mask, numbers, strings
from ..infer import label_text
from .common import FALSE_TEXT, INTEGER_TEXT, TRUE_TEXT, ZERO_ONE, bad_labels, listed
from .multiclass import (
    class_numbers,
    in_range,
    integer_conflict,
    integer_labels,
    mixed_labels,
    names_of,
)
from .record import Decisions


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
        integers = np.flatnonzero(integer_labels(raw, text))
        if integers.size:  # integer labels meet integer names past the first rows
            raise integer_conflict(d, raw, rows, int(integers[0]))
    if position.null_count:
        bad = np.flatnonzero(mask(position.is_null()))
        if d.label_type == "auto":
            bad_text = text.take(bad)
            bad_integers = integer_labels(raw.take(bad), bad_text)
            integers = bad[bad_integers & in_range(bad_text, bad_integers, len(d.classes))]
            if integers.size:
                at = int(integers[0])
                raise mixed_labels(d, None, d.evidence_row, raw[at].as_py(), int(rows[at]))
        value = raw[int(bad[0])].as_py()
        message = f"label {quoted(value)} is not a class (classes: {listed(d.classes)})"
        raise bad_labels(d, message, value, rows, bad, hint=_label_hint(d, value))
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
            f"(classes: {listed(d.classes)})"
        )
        raise bad_labels(d, message, value, rows, bad, hint=_label_hint(d, value))
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
        raise bad_labels(d, message, value, rows, bad, hint=hint)
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
        raise bad_labels(d, message, value, rows, bad)
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
            named = bad[mask(pc.is_in(label_text(raw.take(bad)), value_set=strings(names_of(d))))]
            if named.size:
                at = int(named[0])
                raise mixed_labels(d, raw[at].as_py(), int(rows[at]), None, d.evidence_row)
        value = raw[int(bad[0])].as_py()
        message = f"label {quoted(value)} is not a class (classes: {listed(d.classes)})"
        raise bad_labels(d, message, value, rows, bad, hint=_label_hint(d, value))
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
