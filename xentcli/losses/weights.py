"""``--class-weights``: ``cat=2,dog=1`` or a file of ``class,weight`` rows, as a vector
in the order of the classes."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..errors import InputError, UsageError, quoted


def parse_class_weights(spec: str | Mapping[str, float]) -> dict[str, float]:
    """Class name -> weight from ``cat=2,dog=1``, a ``class,weight`` file, or a mapping.

    >>> parse_class_weights("cat=2, dog=0.5")
    {'cat': 2.0, 'dog': 0.5}
    """
    pairs: list[tuple[str, object]]
    where = "--class-weights"
    if isinstance(spec, Mapping):
        pairs = [(str(k), v) for k, v in spec.items()]
    elif os.path.isfile(spec):
        pairs = list(_read_file(spec))
        where = str(spec)
    elif "=" in spec:
        pairs = []
        for item in spec.split(","):
            if not item.strip():
                continue
            name, sep, value = item.rpartition("=")
            if not sep or not name.strip():
                raise UsageError(f"--class-weights: {item.strip()!r} is not CLASS=WEIGHT")
            pairs.append((name.strip(), value.strip()))
    else:
        raise UsageError(
            f"--class-weights {spec!r} is neither CLASS=WEIGHT,... nor an existing file"
        )
    weights: dict[str, float] = {}
    for key, given in pairs:
        number = _weight(given, key, where)
        if key in weights:
            raise UsageError(f"{where}: class {quoted(key)} is given twice")
        weights[key] = number
    if not weights:
        raise UsageError(f"{where}: no class weights")
    return weights


def class_weight_vector(
    weights: Mapping[str, float], classes: Sequence[str], aliases: Sequence[Sequence[str]] = ()
) -> npt.NDArray[np.float64]:
    """The weights in the order of ``classes``; a class not named weighs 1. A name may
    also be one of the class's ``aliases`` (its column name, ``0``/``1`` for binary)."""
    index: dict[str, int] = {}
    for i, name in enumerate(classes):
        index.setdefault(name, i)
    for i, names in enumerate(aliases):
        for alias in names:
            index.setdefault(alias, i)
    vector = np.ones(len(classes))
    named: dict[int, str] = {}
    for name, weight in weights.items():
        if name not in index:
            shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
            raise UsageError(f"--class-weights: {quoted(name)} is not a class (classes: {shown})")
        i = index[name]
        if i in named:
            raise UsageError(
                f"--class-weights: class {quoted(classes[i])} is given twice "
                f"(as {quoted(named[i])} and {quoted(name)})"
            )
        named[i] = name
        vector[i] = weight
    return vector


HEADER_NAMES = {"class", "label", "name", "weight", "weights", "w"}


def _read_file(path: str) -> list[tuple[str, str]]:
    """``class,weight`` rows; a first row of column names (``class,weight``) is skipped.
    Errors name the line, counted from 1 as an editor does."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            lines = list(enumerate(csv.reader(handle), start=1))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read class weights: {exc}", file=path) from None
    pairs = []
    rows = [(number, row) for number, row in lines if any(cell.strip() for cell in row)]
    for i, (number, row) in enumerate(rows):
        if len(row) != 2:
            raise InputError(
                f"line {number}: a class weights row needs 2 fields (class,weight), got {len(row)}",
                file=path,
            )
        name, value = row[0].strip(), row[1].strip()
        if i == 0 and not _is_number(value) and {name.lower(), value.lower()} & HEADER_NAMES:
            continue  # a header such as class,weight
        if not _is_number(value):
            raise InputError(
                f"line {number}: weight {quoted(value)} of {quoted(name)} is not a number",
                file=path,
            )
        pairs.append((name, value))
    return pairs


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _weight(value: object, name: str, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(
            f"{where}: weight {quoted(value)} of {quoted(name)} is not a number"
        ) from None
    if not math.isfinite(number) or number < 0:
        raise UsageError(f"{where}: weight of {quoted(name)} must be finite and >= 0, got {value}")
    return number
