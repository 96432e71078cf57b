"""Every ``Options`` field as the command line shows it, declared once.

``PARAMS`` holds, per field of ``xentcli.options.Options`` and in the order ``--help``
lists them, what click needs besides the field itself: help text, metavar and click
type. The option's name is the field's (``sum_tol`` is ``--sum-tol``) and its default
is the field's default, so neither is written twice. ``settings`` builds the click
options of a command from a list of field names; ``options_from`` turns what click
collected back into ``Options`` without naming the fields again.

Validation lives in ``Options`` (shared with the Python API), so a bad value is one
``Error:`` line. Fields that already used click's own types keep them: their errors
are click's usage block and ``Error:`` line, as the tests of those options expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

import click

from ..options import (
    COMPATS,
    ENGINES,
    FORMATS,
    INPUT_KINDS,
    LABEL_TYPES,
    LOG_BASES,
    REDUCTIONS,
    TASKS,
    Options,
)

Decorator = Callable[[Any], Any]
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
"""The click settings of every command: -h too, help up to 100 columns wide."""

PANELS = (
    "Inputs",
    "Conventions",
    "Evaluation",
    "Gates",
    "Outputs",
    "Trackers",
    "Engine",
    "General",
)
"""The sections of a command's ``--help``, in order; a command shows those it has."""
PANEL_OF: dict[str, str] = {
    # which rows and columns, and how the files are read
    "pred_cols": "Inputs",
    "label_col": "Inputs",
    "id_col": "Inputs",
    "weight_col": "Inputs",
    "no_header": "Inputs",
    "preds_format": "Inputs",
    "labels_format": "Inputs",
    "input": "Inputs",
    "task": "Inputs",
    "positive": "Inputs",
    "label_type": "Inputs",
    "classes": "Inputs",
    "allow_mismatch": "Inputs",
    # how the loss is computed, and which rows count
    "reduction": "Conventions",
    "log_base": "Conventions",
    "eps": "Conventions",
    "sum_tol": "Conventions",
    "renormalize": "Conventions",
    "class_weights": "Conventions",
    "pos_weight": "Conventions",
    "label_smoothing": "Conventions",
    "ignore_label": "Conventions",
    "drop_invalid": "Conventions",
    "compat": "Conventions",
    # the figures beside the loss
    "bins": "Evaluation",
    "ci": "Evaluation",
    "bootstrap": "Evaluation",
    "seed": "Evaluation",
    "by": "Evaluation",
    "max_slices": "Evaluation",
    "worst": "Evaluation",
    "histograms": "Evaluation",
    # score's gates, then compare's
    "max_loss": "Gates",
    "min_accuracy": "Gates",
    "max_ece": "Gates",
    "min_d2": "Gates",
    "max_brier": "Gates",
    "max_slice_loss": "Gates",
    "min_slice_n": "Gates",
    "max_increase": "Gates",
    "max_rel_increase": "Gates",
    "max_accuracy_drop": "Gates",
    "max_class_increase": "Gates",
    "alpha": "Gates",
    # what is written where
    "fmt": "Outputs",
    "as_json": "Outputs",
    "output": "Outputs",
    "per_sample": "Outputs",
    "no_annotations": "Outputs",
    "plots": "Outputs",
    "plot_format": "Outputs",
    "quiet": "Outputs",
    # where the run is logged
    "log": "Trackers",
    "log_timeout": "Trackers",
    # where the work runs
    "jobs": "Engine",
    "engine": "Engine",
    "scheduler": "Engine",
    # the rest
    "debug": "General",
}
"""The panel of each option, by its parameter name (``--format`` is ``fmt``): adding an
option to ``--help`` is one line here. An option missing here is listed under
"Options" at the end (tests/test_help.py fails on it)."""
UNPANELLED = "Options"


class PanelCommand(click.Command):
    """A command whose ``--help`` lists its options in the panels of ``PANEL_OF``, in
    the order of ``PANELS``; inside a panel, in the order they were declared."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, records in panels(self, ctx):
            with formatter.section(title):
                formatter.write_dl(records)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The epilog is the command's examples, a section like the panels."""
        if self.epilog:
            with formatter.section("Examples"):
                formatter.write_text(self.epilog)


def panels(command: click.Command, ctx: click.Context) -> list[tuple[str, list[tuple[str, str]]]]:
    """The command's options as (panel, help records), panels in ``PANELS`` order; the
    help option is in "General", an option ``PANEL_OF`` lacks in "Options", last."""
    help_option = command.get_help_option(ctx)
    found: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if not isinstance(param, click.Option) or record is None:
            continue  # arguments are in the usage line
        panel = "General" if param is help_option else PANEL_OF.get(param.name or "", UNPANELLED)
        found.setdefault(panel, []).append(record)
    return [(title, found[title]) for title in (*PANELS, UNPANELLED) if title in found]


class Eps(click.ParamType):
    """``auto`` or a number in [0, 0.5)."""

    name = "auto|X"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | str:
        if isinstance(value, float) or value == "auto":
            return value
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither 'auto' nor a number", param, ctx)
        if not 0 <= number < 0.5:
            self.fail(f"{value!r} is outside [0, 0.5)", param, ctx)
        return number


@dataclass(frozen=True)
class Param:
    """How one ``Options`` field reads on the command line."""

    help: str
    type: click.ParamType | None = None
    metavar: str | None = None
    show_default: bool = False
    flag: bool = False
    multiple: bool = False


PARAMS: dict[str, Param] = {
    # which columns
    "pred_cols": Param(
        "Prediction columns: a comma list, a glob ('p_*'), or a list column's name. "
        "[default: every numeric column that is not id, label or weight]",
        metavar="LIST",
    ),
    "label_col": Param(
        "The label column. [default: label, target, y or y_true, or the only column of LABELS]",
        metavar="NAME",
    ),
    "id_col": Param(
        "Join PREDS and LABELS on this key column (compared as text). "
        "[default: pair rows by position]",
        metavar="NAME",
    ),
    "weight_col": Param(
        "Per-sample weights: a column of PREDS, or else of LABELS.", metavar="NAME"
    ),
    "no_header": Param(
        "Text files whose first line is numbers only have no header: that line is "
        "data and the columns are named 0..K-1.",
        flag=True,
    ),
    # how the files are read
    "preds_format": Param(
        "Read PREDS as this format. [default: from the extension, else the content]",
        type=click.Choice(FORMATS),
    ),
    "labels_format": Param(
        "Read LABELS as this format. [default: from the extension, else the content]",
        type=click.Choice(FORMATS),
    ),
    # what the numbers mean
    "input": Param(
        "What the numbers are: probabilities, logits, log-probabilities, or "
        "percent (probabilities x 100); auto decides from the names and the first rows.",
        type=click.Choice(INPUT_KINDS),
        show_default=True,
    ),
    "task": Param(
        "The problem: one column is binary, several are multiclass; a 0/1 label column "
        "per class is multilabel.",
        type=click.Choice(TASKS),
        show_default=True,
    ),
    "positive": Param(
        "The class a single binary column holds the probability of (0/1, true/false, "
        "or a class name). [default: from the column's name, else 1]",
        metavar="NAME",
    ),
    "label_type": Param(
        "Read a label column as class names or as class indices, when both readings fit.",
        type=click.Choice(LABEL_TYPES),
        show_default=True,
    ),
    "classes": Param(
        "The class of each label index, in order (scikit-learn's LabelEncoder.classes_); "
        "implies --label-type indices. [default: the prediction columns' order]",
        metavar="LIST",
    ),
    # how the loss is computed
    "reduction": Param(
        "Which aggregate is the headline loss.",
        type=click.Choice(REDUCTIONS),
        show_default=True,
    ),
    "log_base": Param(
        "Losses in nats (e), bits (2) or decimal digits (10).",
        type=click.Choice(LOG_BASES),
        show_default=True,
    ),
    "eps": Param(
        "Clip probabilities to [eps, 1 - eps]; auto is the machine epsilon of the "
        "input's float type; 0 clips nothing.",
        type=Eps(),
        show_default=True,
    ),
    "sum_tol": Param(
        "How far a probability row may sum from 1 (a log-prob row log-sum-exp from 0) "
        "and be renormalised.",
        type=click.FloatRange(0, 1, max_open=True),
        show_default=True,
    ),
    "renormalize": Param(
        "Rescale probability rows whatever their sum, instead of refusing them.", flag=True
    ),
    "class_weights": Param(
        "Class weights: 'cat=2,dog=1' or a file of class,weight rows; classes not named weigh 1.",
        metavar="SPEC",
    ),
    "pos_weight": Param(
        "Weight of the positive term in binary and multilabel losses, as PyTorch's "
        "pos_weight. [default: 1]",
        type=click.FloatRange(min=0),
        metavar="X",
    ),
    "label_smoothing": Param(
        "Targets (1 - E) onehot + E / K, as PyTorch; binary (1 - E) y + E / 2. [default: 0]",
        type=click.FloatRange(0, 1, max_open=True),
        metavar="E",
    ),
    # which rows count
    "ignore_label": Param(
        "Leave rows with this label out of every figure (e.g. -100).", metavar="V"
    ),
    "drop_invalid": Param(
        "Drop and count rows with invalid predictions or labels instead of failing.", flag=True
    ),
    "compat": Param(
        "Reproduce a peer's numbers: its clipping, renormalising, weighted means, "
        "smoothing and float type.",
        type=click.Choice(COMPATS),
        show_default=True,
    ),
    # evaluation figures (SPEC "Evaluation figures")
    "bins": Param(
        "Equal-width confidence bins of [0, 1] for ECE, MCE and the reliability table.",
        type=click.INT,
        metavar="B",
        show_default=True,
    ),
    "ci": Param(
        "Give intervals at this level (e.g. 0.95) for the mean loss (normal) and the "
        "accuracy (Wilson).",
        type=click.FLOAT,
        metavar="LEVEL",
    ),
    "bootstrap": Param(
        "Make --ci a percentile bootstrap of B Poisson(1) replicates, the same however "
        "the input is read or batched; alone it means --ci 0.95.",
        type=click.INT,
        metavar="B",
    ),
    "seed": Param(
        "The bootstrap's seed; with each row's position it fixes every replicate.",
        type=click.INT,
        metavar="S",
        show_default=True,
    ),
    "by": Param(
        "Figures per distinct value of this column of PREDS, else of LABELS (repeatable).",
        metavar="COL",
        multiple=True,
    ),
    "max_slices": Param(
        "Refuse a --by column with more distinct values than N (null counts as one).",
        type=click.INT,
        metavar="N",
        show_default=True,
    ),
    "worst": Param(
        "List the K rows of highest loss, ties by lower row.", type=click.INT, metavar="K"
    ),
    "histograms": Param(
        "Count the rows' p_true and losses on fixed bins (the report's histograms); "
        "implied by -o x.html, --plots and --log, which draw them.",
        flag=True,
    ),
    # gates, in the order of the report's gates
    "max_loss": Param("Gate: exit 1 when the loss is above X.", type=click.FLOAT, metavar="X"),
    "min_accuracy": Param(
        "Gate: exit 1 when the accuracy is below X.",
        type=click.FloatRange(0, 1),
        metavar="X",
    ),
    "max_ece": Param(
        "Gate: exit 1 when the expected calibration error is above X.",
        type=click.FLOAT,
        metavar="X",
    ),
    "min_d2": Param(
        "Gate: exit 1 when D² (1 - loss / baseline loss) is below X.",
        type=click.FLOAT,
        metavar="X",
    ),
    "max_brier": Param(
        "Gate: exit 1 when the Brier score is above X.", type=click.FLOAT, metavar="X"
    ),
    "max_slice_loss": Param(
        "Gate: exit 1 when a --by slice of at least --min-slice-n rows has a mean loss above X.",
        type=click.FLOAT,
        metavar="X",
    ),
    "min_slice_n": Param(
        "The rows a slice needs for --max-slice-loss to judge it.",
        type=click.INT,
        metavar="N",
        show_default=True,
    ),
    # where the work runs
    "jobs": Param(
        "Score the batches on N threads; every figure is the same as with 1. "
        "[default: the machine's cores, at most 8]",
        type=click.IntRange(min=1),
        metavar="N",
    ),
    "engine": Param(
        "Where to run: local threads, or a Dask cluster (pip install 'xentcli[dask]').",
        type=click.Choice(ENGINES),
        show_default=True,
    ),
    "scheduler": Param(
        "The Dask scheduler's address (tcp://host:8786) or scheduler file, for "
        "--engine dask. [default: DASK_SCHEDULER_ADDRESS, else a local cluster]",
        metavar="ADDRESS",
    ),
}

_FIELDS = {f.name: f for f in fields(Options)}


def flag_of(name: str) -> str:
    """The long option of an ``Options`` field: ``sum_tol`` -> ``--sum-tol``."""
    return "--" + name.replace("_", "-")


def _default(name: str) -> Any:
    field = _FIELDS[name]
    if field.default is not MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def option(name: str, help: str | None = None) -> Decorator:
    """The click option of one ``Options`` field, its default the field's."""
    param = PARAMS[name]
    default = _default(name)
    extra: dict[str, Any] = {}
    if param.flag:
        extra["is_flag"] = True
    else:
        extra["type"] = param.type
        extra["metavar"] = param.metavar
    if param.multiple:
        extra["multiple"] = True
    return click.option(
        flag_of(name),
        name,
        default=default,
        show_default=param.show_default,
        help=help if help is not None else param.help,
        **extra,
    )


def settings(names: Iterable[str], help: Mapping[str, str] | None = None) -> Decorator:
    """Decorate a command with the options of these ``Options`` fields, listed in the
    order of ``PARAMS``; ``help`` replaces the text of some of them."""
    wanted = set(names)
    unknown = wanted - PARAMS.keys()
    if unknown:
        raise ValueError(f"no command-line text for Options fields {sorted(unknown)}")
    ordered = [name for name in PARAMS if name in wanted]
    texts = dict(help or {})

    def apply(command: Any) -> Any:
        for name in reversed(ordered):
            command = option(name, texts.get(name))(command)
        return command

    return apply


def options_from(collected: dict[str, Any]) -> Options:
    """``Options`` from what click collected, taking out (``pop``) every field's value
    and leaving the command's own parameters in ``collected``."""
    return Options(**{name: collected.pop(name) for name in list(collected) if name in PARAMS})
