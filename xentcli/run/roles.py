"""Column roles: the part each column of PREDS and LABELS plays in a score, and why.

``align.plan`` decides every column's role once, from the schemas and the options;
the ``Roles`` it returns is plain data (names, roles and reasons as strings), so that
``score``, ``inspect`` and the report say the same thing from the same object. This
module holds the rules that names and types alone decide (SPEC "Inputs"): what pandas
wrote as an index, which names say key or counter, and which numeric columns are
predictions by default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..errors import InputError

LABEL_DEFAULTS = ("label", "target", "y", "y_true")

# The parts a column can play; every column of PREDS and LABELS gets exactly one.
PREDICTION = "prediction"
LABEL = "label"
ID = "id"
WEIGHT = "weight"
INDEX = "index"  # an index pandas wrote
KEY = "key"  # a name that says key or counter
INTEGER = "integer"  # integer type among float predictions
UNPREFIXED = "unprefixed"  # outside the prediction columns' shared prefix
TEXT = "text"  # not numeric
DERIVED = "derived"  # a figure computed from the predictions (a loss, a predicted class)
SLICE = "slice"  # a --by column: its values cut the rows into slices
UNUSED = "unused"
ROLES = (
    *(PREDICTION, LABEL, ID, WEIGHT, INDEX, KEY, INTEGER, UNPREFIXED, TEXT, DERIVED, SLICE),
    UNUSED,
)
BY_REASON = "--by"  # the reason of a --by column, as the columns reason shows it

# Names written for pandas' unnamed index: by to_csv (an empty header cell, read back as
# "Unnamed: 0"), by pyarrow (__index_level_N__), by fastparquet and reset_index ("index"),
# by dask.dataframe's to_parquet (__null_dask_index__).
INDEX_NAME = re.compile(r"^(|Unnamed: \d+|__index_level_\d+__|__null_dask_index__)$")
UNNAMED_INDEX = ("", "Unnamed: 0")  # --id-col '' and --id-col 'Unnamed: 0' are one index
_UNNAMED_LEVEL_0 = {"", "Unnamed: 0", "__index_level_0__", "index", "__null_dask_index__"}

# Names that say key or counter (compared case-insensitively): never a class's scores.
KEY_NAMES = frozenset(
    ("id", "idx", "index", "key", "uuid", "row", "fold", "split", "epoch", "step", "seed")
)
COUNTER_NAMES = frozenset(("fold", "split", "epoch", "step", "seed"))
# Names that say a figure derived from the predictions (case-insensitively): a per-row
# loss or confidence is never a class's scores, whatever else the file holds.
DERIVED_NAMES = frozenset(
    (
        *("loss", "nll", "nll_loss", "log_loss", "xent", "ce", "cross_entropy", "entropy"),
        *("confidence", "margin", "correct", "is_correct"),
    )
)
# Names that say a per-row weight: never a class's scores; --weight-col uses them.
WEIGHT_NAMES = frozenset(("weight", "weights", "sample_weight", "sample_weights", "sw"))
DERIVED_REASON = "a figure derived from the predictions, by its name"
# Names that say a predicted class (case-insensitively): not a class's scores when other
# prediction columns remain; alone, ``pred`` is the binary prediction.
PREDICTED_CLASS_NAMES = frozenset(
    (
        "pred",
        "preds",
        "prediction",
        "predicted",
        "y_pred",
        "pred_label",
        "predicted_label",
        "predicted_class",
        "argmax",
        "y_hat",
        "yhat",
    )
)
PREDICTED_CLASS_REASON = "a predicted class by its name, beside the prediction columns"
# Prefixes that name prediction columns (compared case-insensitively).
PRED_PREFIXES = (
    "proba_",
    "probs_",
    "prob_",
    "p_",
    "logits_",
    "logit_",
    "logprob_",
    "score_",
    "class_",
)


@dataclass(frozen=True)
class ColumnRole:
    """One column's part in the score, and the reason for it in a few words."""

    column: str
    role: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "role": self.role, "reason": self.reason}


@dataclass(frozen=True)
class Roles:
    """Every column of PREDS (and of LABELS, when given) with its role, in file order."""

    preds: tuple[ColumnRole, ...]
    labels: tuple[ColumnRole, ...] = ()
    by_option: bool = False  # --pred-cols chose the predictions
    order: tuple[str, ...] = ()  # the prediction columns in the order scored, when not file order

    def of(self, column: str, file: str = "preds") -> ColumnRole | None:
        """The role of ``column`` in ``file`` ("preds" or "labels"), None if absent."""
        for entry in self.preds if file == "preds" else self.labels:
            if entry.column == column:
                return entry
        return None

    def columns(self, role: str, file: str = "preds") -> tuple[str, ...]:
        """The columns of ``file`` that play ``role``, in file order."""
        entries = self.preds if file == "preds" else self.labels
        return tuple(e.column for e in entries if e.role == role)

    def left_out(self) -> tuple[ColumnRole, ...]:
        """The columns of PREDS that are neither predictions nor read for the score
        (indexes, keys, counters, integers, text, unused), and PREDS' own label column
        when it is only checked against LABELS."""
        used = (PREDICTION, ID, WEIGHT)
        return tuple(
            e
            for e in self.preds
            if e.role not in used and not (e.role == LABEL and e.reason == LABEL_READ)
        )

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """Plain data for JSON: each file's columns with their role and reason."""
        out: dict[str, list[dict[str, str]]] = {"preds": [e.to_dict() for e in self.preds]}
        if self.labels:
            out["labels"] = [e.to_dict() for e in self.labels]
        if self.by_option:
            out["by_option"] = True  # type: ignore[assignment]
        if self.order:
            out["order"] = list(self.order)  # type: ignore[assignment]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Roles:
        """``to_dict``'s data read back (``by_option`` and ``order`` included)."""

        def entries(key: str) -> tuple[ColumnRole, ...]:
            return tuple(ColumnRole(**e) for e in data.get(key, ()))  # type: ignore[union-attr]

        order = tuple(data.get("order", ()))  # type: ignore[arg-type]
        return cls(entries("preds"), entries("labels"), bool(data.get("by_option")), order)

    def columns_reason(self) -> str:
        """One line: the prediction columns, how they were chosen, and every column of
        PREDS left out with why (``numeric columns p_0 .. p_9; not 'fold' (a counter)``)."""
        cols = self.order or self.columns(PREDICTION)
        shown = ", ".join(cols) if len(cols) <= 4 else f"{cols[0]} .. {cols[-1]}"
        text = f"{'--pred-cols' if self.by_option else 'numeric columns'} {shown}"
        left = sorted(self.left_out(), key=lambda e: e.role != SLICE)  # --by first
        left += [
            ColumnRole(e.column, e.role, f"{e.reason}, of LABELS")
            for e in self.labels
            if e.role == SLICE
        ]
        if left:
            parts = [f"{e.column!r} ({e.reason})" for e in left[:6]]
            if len(left) > 6:
                parts.append(f"{len(left) - 6} more")
            text += "; not " + ", ".join(parts)
        return text


LABEL_READ = "the label"  # the reason of a label column that is read as the labels


def pandas_index_columns(schema: pa.Schema) -> dict[str, str]:
    """The columns that hold an index pandas wrote, each with the index's name as pandas
    aligns on it: ``""`` for the unnamed index (level 0), else its name. From the
    file's pandas metadata (pyarrow, fastparquet) and from the names pandas gives an
    unnamed index (``""``/``Unnamed: 0`` in CSV, ``__index_level_N__``)."""
    found: dict[str, str] = {}
    for column, name in _metadata_index(schema).items():
        if column in schema.names:
            found[column] = name
    for column in schema.names:
        if column in found or not INDEX_NAME.match(column):
            continue
        level = re.match(r"^__index_level_(\d+)__$", column)
        if column in _UNNAMED_LEVEL_0:
            found[column] = ""
        elif level is not None:
            found[column] = f"__index_level_{level.group(1)}__"
        else:
            found[column] = column  # "Unnamed: 3": an index, but not one to join on
    return found


def _metadata_index(schema: pa.Schema) -> dict[str, str]:
    """``index_columns`` of the ``pandas`` schema metadata: field name -> index name."""
    metadata = schema.metadata or {}
    raw = metadata.get(b"pandas")
    if raw is None:
        return {}
    try:
        meta = json.loads(raw)
        fields = meta.get("index_columns") or []
        names = {c.get("field_name"): c.get("name") for c in meta.get("columns") or []}
    except (ValueError, AttributeError, TypeError):
        return {}
    found: dict[str, str] = {}
    for level, field in enumerate(fields):
        if not isinstance(field, str):
            continue  # a RangeIndex: stored as start/stop/step, no column
        name = names.get(field)
        if name is None or name in _UNNAMED_LEVEL_0 or name == f"__index_level_{level}__":
            name = "" if level == 0 else f"__index_level_{level}__"
        found[field] = str(name)
    return found


def pandas_range_indexes(schema: pa.Schema) -> dict[str, tuple[int, int]]:
    """The indexes pandas stored as a range (no column: ``RangeIndex`` in the metadata),
    each by its name as ``pandas_index_columns`` gives it: ``(start, step)``, so that
    row ``i`` holds the key ``start + i * step``."""
    metadata = schema.metadata or {}
    raw = metadata.get(b"pandas")
    if raw is None:
        return {}
    try:
        fields = json.loads(raw).get("index_columns") or []
    except (ValueError, AttributeError, TypeError):
        return {}
    found: dict[str, tuple[int, int]] = {}
    for level, entry in enumerate(fields):
        if not isinstance(entry, dict) or entry.get("kind") != "range":
            continue
        name = entry.get("name")
        if name is None or name in _UNNAMED_LEVEL_0 or name == f"__index_level_{level}__":
            name = "" if level == 0 else f"__index_level_{level}__"
        try:
            found[str(name)] = (int(entry.get("start", 0)), int(entry.get("step", 1)))
        except (TypeError, ValueError):
            continue
    return found


def key_reason(name: str) -> str | None:
    """Why a name says key or counter (case-insensitively), or None when it does not."""
    lowered = name.lower()
    if lowered in COUNTER_NAMES:
        return "a counter by its name"
    if lowered in KEY_NAMES or lowered.endswith("_id"):
        return "a key by its name"
    return None


def pred_prefix(name: str) -> str | None:
    """The prediction prefix a column name starts with (lower case), if any; the
    elements of a list column (``probs[0]``) share the list's name."""
    lowered = name.lower()
    for prefix in PRED_PREFIXES:
        if lowered.startswith(prefix) and len(lowered) > len(prefix):
            return prefix
    bracket = re.match(r"^(.*)\[\d+\]$", name)
    if bracket is not None:
        return f"{bracket.group(1)}["
    return None


def default_predictions(
    schema: pa.Schema, candidates: Sequence[str], file: str, typed: bool = True
) -> list[ColumnRole]:
    """SPEC's default prediction columns among ``candidates`` (the columns no other role
    took): numeric, not named as a key or counter, not integer among floats, and when
    some share a prediction prefix with others that do not, only those.

    ``typed`` says the file stores its types (Parquet, Arrow, NumPy, a table). In text
    the types are guesses from the first rows: a float column whose first values are
    whole numbers (pyarrow's CSV writer drops the ``.0``) reads as integers, so there an
    integer column among float ones that no name or prefix rules out is ambiguous.
    A name that says a derived figure (``loss``, ``entropy``) is never a prediction; one
    that says a predicted class (``pred``, ``y_pred``) is not, unless it is the only
    prediction column left."""
    roles: dict[str, ColumnRole] = {}
    numeric: list[str] = []
    predicted: list[str] = []
    for name in candidates:
        kind = schema.field(name).type
        if not is_numeric(kind):
            roles[name] = ColumnRole(
                name, TEXT, "text" if is_text(kind) else f"not numeric: {kind}"
            )
            continue
        reason = key_reason(name)
        if reason is not None:
            roles[name] = ColumnRole(name, KEY, reason)
            continue
        if name.lower() in DERIVED_NAMES:
            roles[name] = ColumnRole(name, DERIVED, DERIVED_REASON)
            continue
        if name.lower() in WEIGHT_NAMES:
            reason = f"a weight by its name; pass --weight-col {name} to weigh rows by it"
            roles[name] = ColumnRole(name, DERIVED, reason)
            continue
        (predicted if name.lower() in PREDICTED_CLASS_NAMES else numeric).append(name)
    decided = _numeric_roles(schema, numeric, file, typed)
    if predicted and any(r.role == PREDICTION for r in decided.values()):
        decided.update({n: ColumnRole(n, DERIVED, PREDICTED_CLASS_REASON) for n in predicted})
    elif predicted:  # a lone ``pred``: the binary prediction
        decided = _numeric_roles(schema, [*numeric, *predicted], file, typed)
    roles.update(decided)
    return [roles[name] for name in candidates]


def _numeric_roles(
    schema: pa.Schema, numeric: Sequence[str], file: str, typed: bool
) -> dict[str, ColumnRole]:
    """The roles of ``numeric`` columns (not keys by name): predictions, integers among
    floats, or outside the prediction columns' shared prefix."""
    roles: dict[str, ColumnRole] = {}
    groups: dict[str, list[str]] = {}
    for name in numeric:
        prefix = pred_prefix(name)
        if prefix is not None:
            groups.setdefault(prefix, []).append(name)
    if len(groups) > 1:
        shown = "; ".join(f"{p}: {', '.join(g[:3])}" for p, g in groups.items())
        raise InputError(
            f"columns under several prediction prefixes ({shown}); which are the predictions?",
            file=file,
            hint="pass --pred-cols",
        )
    prefixed = {name for members in groups.values() for name in members}
    for prefix, members in groups.items():  # cat beside p_cat: the same class twice?
        bare = {m[len(prefix) :].lower(): m for m in members}
        twin = next((n for n in numeric if n not in prefixed and n.lower() in bare), None)
        if twin is not None:
            raise InputError(
                f"columns {twin!r} and {bare[twin.lower()]!r} name the same class; which "
                "are the predictions?",
                file=file,
                hint="pass --pred-cols",
            )
    any_float = any(not pa.types.is_integer(schema.field(n).type) for n in numeric)
    for name in numeric:
        if name in prefixed:  # named like the predictions: integer 0/1 cells are scores too
            roles[name] = ColumnRole(name, PREDICTION, "numeric")
        elif any_float and pa.types.is_integer(schema.field(name).type):
            if not typed and not groups:
                raise InputError(
                    "holds whole numbers only in the first rows while the other numeric "
                    "columns hold fractions: a count or an id, or predictions written "
                    "without a decimal point?",
                    file=file,
                    column=name,
                    hint="pass --pred-cols to name the prediction columns",
                )
            roles[name] = ColumnRole(name, INTEGER, "integer, among float predictions")
        elif groups:
            (prefix,) = groups
            roles[name] = ColumnRole(
                name, UNPREFIXED, f"unprefixed: the predictions are the {prefix}* columns"
            )
        else:
            roles[name] = ColumnRole(name, PREDICTION, "numeric")
    return roles


def is_numeric(kind: pa.DataType) -> bool:
    """Integer or float: values a prediction or weight can hold (as ``arrays.numbers``
    reads them)."""
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def is_text(kind: pa.DataType) -> bool:
    """A string or dictionary type of any width or layout."""
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or getattr(pa.types, "is_string_view", lambda _: False)(kind)
        or pa.types.is_dictionary(kind)
    )


def label_default(names: Iterable[str]) -> str | None:
    """The first default label name among ``names``: exact, else ignoring case."""
    names = list(names)
    for default in LABEL_DEFAULTS:
        if default in names:
            return default
    lowered = {name.lower(): name for name in reversed(names)}
    for default in LABEL_DEFAULTS:
        if default in lowered:
            return lowered[default]
    return None
