"""The ``xent`` command: parse options, call the library, render, set the exit code.

The only module that knows click. ``guarded`` is the one place where errors become
exit codes: ``XentError`` -> 2 with one ``Error:`` line, Ctrl-C -> 130, SIGTERM ->
143, a closed pipe -> 141 quietly, anything unexpected -> 2 with a plea for a bug
report (``--debug`` shows its traceback instead). ``to_stdout`` is the one place where
standard output that cannot be written (closed, a full disk) becomes an ``OutputError``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, cast

import click

from ..errors import OutputError, UsageError, XentError
from ..options import (
    COMPATS,
    FORMATS,
    INPUT_KINDS,
    LABEL_TYPES,
    LOG_BASES,
    REDUCTIONS,
    TASKS,
    Compat,
    InputKind,
    LabelType,
    LogBase,
    Options,
    Reduction,
    Task,
    split_list,
)
from ..run.gates import failure_line
from ..version import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SUMMARY_FORMATS = ("table", "json", "csv", "markdown")


class _Terminated(BaseException):
    """Raised in the main thread by SIGTERM so that cleanup runs as for Ctrl-C."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> NoReturn:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def guarded(command: Callable[..., int]) -> Callable[..., NoReturn]:
    """Run a command body and turn its outcome into exactly one exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> NoReturn:
        try:
            with _sigterm_raises():
                code = command(*args, **kwargs)
        except XentError as exc:
            if isinstance(exc, OutputError) and exc.file == STDOUT:
                _quiet_stdout()  # else exit flushes what is still buffered, and fails again
            click.echo(f"Error: {exc}", err=True)
            code = 2
        except KeyboardInterrupt:
            code = 130
        except _Terminated:
            code = 143
        except BrokenPipeError:
            _quiet_stdout()
            code = 141
        except Exception as exc:
            if debug:
                raise
            click.echo(
                f"Error: unexpected failure ({type(exc).__name__}: {exc}). This is a bug in "
                f"xent {__version__}; please report it with the traceback that --debug shows.",
                err=True,
            )
            code = 2
        sys.exit(code)

    return wrapper


def _quiet_stdout() -> None:
    """After a reader closed our stdout (or it failed), point it at /dev/null so that
    what is still buffered goes nowhere and exit does not complain."""
    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


STDOUT = "standard output"


def check_stdout(hint: str | None = None) -> None:
    """Refuse up front a standard output that was closed (``>&-``): Python then has no
    ``sys.stdout`` at all, and everything written to it would vanish with exit 0."""
    if sys.stdout is None:
        raise OutputError("cannot write: it is closed", file=STDOUT, hint=hint)


@contextlib.contextmanager
def to_stdout() -> Iterator[None]:
    """Write to standard output within this block; what cannot be written (a full disk,
    a device that refuses) is an ``OutputError``. A reader that closed the pipe is not
    an error: ``BrokenPipeError`` passes through for the caller to decide."""
    check_stdout()
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _quiet_stdout()
        raise OutputError(f"cannot write: {exc.strerror or exc}", file=STDOUT) from None


class _Eps(click.ParamType):
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


_COLUMN_OPTIONS = (
    click.option(
        "--pred-cols",
        metavar="LIST",
        help="Prediction columns: a comma list, a glob ('p_*'), or a list column's name. "
        "[default: every numeric column that is not id, label or weight]",
    ),
    click.option(
        "--label-col",
        metavar="NAME",
        help="The label column. "
        "[default: label, target, y or y_true, or the only column of LABELS]",
    ),
    click.option(
        "--id-col",
        metavar="NAME",
        help="Join PREDS and LABELS on this key column (compared as text). "
        "[default: pair rows by position]",
    ),
    click.option(
        "--weight-col",
        metavar="NAME",
        help="Per-sample weights: a column of PREDS, or else of LABELS.",
    ),
    click.option(
        "--no-header",
        is_flag=True,
        help="Text files whose first line is numbers only have no header: that line is "
        "data and the columns are named 0..K-1.",
    ),
)

_DECISION_OPTIONS = (
    click.option(
        "--input",
        "input_kind",
        type=click.Choice(INPUT_KINDS),
        default="auto",
        show_default=True,
        help="What the numbers are: probabilities, logits, log-probabilities, or "
        "percent (probabilities x 100); auto decides from the names and the first rows.",
    ),
    click.option(
        "--task",
        type=click.Choice(TASKS),
        default="auto",
        show_default=True,
        help="The problem: one column is binary, several are multiclass; a 0/1 label column "
        "per class is multilabel.",
    ),
    click.option(
        "--positive",
        metavar="NAME",
        help="The class a single binary column holds the probability of (0/1, true/false, "
        "or a class name). [default: from the column's name, else 1]",
    ),
    click.option(
        "--label-type",
        type=click.Choice(LABEL_TYPES),
        default="auto",
        show_default=True,
        help="Read a label column as class names or as class indices, when both readings fit.",
    ),
    click.option(
        "--classes",
        metavar="LIST",
        help="The class of each label index, in order (scikit-learn's LabelEncoder.classes_); "
        "implies --label-type indices. [default: the prediction columns' order]",
    ),
)

_ROW_OPTIONS = (
    click.option(
        "--sum-tol",
        type=click.FloatRange(0, 1, max_open=True),
        default=1e-3,
        show_default=True,
        help="How far a probability row may sum from 1 (a log-prob row log-sum-exp from 0) "
        "and be renormalised.",
    ),
    click.option(
        "--renormalize",
        is_flag=True,
        help="Rescale probability rows whatever their sum, instead of refusing them.",
    ),
)

_FILTER_OPTIONS = (
    click.option(
        "--ignore-label",
        metavar="V",
        help="Leave rows with this label out of every figure (e.g. -100).",
    ),
    click.option(
        "--drop-invalid",
        is_flag=True,
        help="Drop and count rows with invalid predictions or labels instead of failing.",
    ),
    click.option(
        "--compat",
        type=click.Choice(COMPATS),
        default="xent",
        show_default=True,
        help="Reproduce a peer's numbers: its clipping, renormalising, weighted means, "
        "smoothing and float type.",
    ),
)


def _options(group: tuple[Callable[[Any], Any], ...]) -> Callable[[Any], Any]:
    """Apply a group of options shared by ``score`` and ``inspect``, in their order, so
    that the two commands cannot drift apart."""

    def apply(command: Any) -> Any:
        for option in reversed(group):
            command = option(command)
        return command

    return apply


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="xent", package_name="xentcli")
def cli() -> None:
    """Score a classifier's predictions against labels with cross-entropy.

    \b
      xent score preds.parquet labels.csv
      xent score preds.csv labels.csv --max-loss 0.35 --json > report.json
      cat preds.csv | xent score - labels.parquet --per-sample - | sort -t, -k3 -gr | head
    """


@cli.command(context_settings=CONTEXT)
@click.argument("preds", type=click.Path(allow_dash=True, readable=False))
@click.argument("labels", required=False, type=click.Path(allow_dash=True, readable=False))
@_options(_COLUMN_OPTIONS)
@click.option(
    "--preds-format",
    type=click.Choice(FORMATS),
    help="Read PREDS as this format. [default: from the extension, else the content]",
)
@click.option(
    "--labels-format",
    type=click.Choice(FORMATS),
    help="Read LABELS as this format. [default: from the extension, else the content]",
)
@_options(_DECISION_OPTIONS)
@click.option(
    "--reduction",
    type=click.Choice(REDUCTIONS),
    default="mean",
    show_default=True,
    help="Which aggregate is the headline loss.",
)
@click.option(
    "--log-base",
    type=click.Choice(LOG_BASES),
    default="e",
    show_default=True,
    help="Losses in nats (e), bits (2) or decimal digits (10).",
)
@click.option(
    "--eps",
    type=_Eps(),
    default="auto",
    show_default=True,
    help="Clip probabilities to [eps, 1 - eps]; auto is the machine epsilon of the "
    "input's float type; 0 clips nothing.",
)
@_options(_ROW_OPTIONS)
@click.option(
    "--class-weights",
    metavar="SPEC",
    help="Class weights: 'cat=2,dog=1' or a file of class,weight rows; classes not named weigh 1.",
)
@click.option(
    "--pos-weight",
    type=click.FloatRange(min=0),
    metavar="X",
    help="Weight of the positive term in binary and multilabel losses, as PyTorch's "
    "pos_weight. [default: 1]",
)
@click.option(
    "--label-smoothing",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    metavar="E",
    help="Targets (1 - E) onehot + E / K, as PyTorch; binary (1 - E) y + E / 2. [default: 0]",
)
@_options(_FILTER_OPTIONS)
@click.option("--max-loss", type=float, metavar="X", help="Gate: exit 1 when the loss is above X.")
@click.option(
    "--min-accuracy",
    type=click.FloatRange(0, 1),
    metavar="X",
    help="Gate: exit 1 when the accuracy is below X.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(SUMMARY_FORMATS),
    help="The summary on standard output. [default: table]",
)
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write the report; .json, .md, .csv or .html.",
)
@click.option(
    "--per-sample",
    metavar="FILE",
    help="One row per sample: row or id, label, loss, pred, p_true; .csv, .tsv, "
    ".parquet, or - for CSV on standard output (the summary then goes to "
    "standard error).",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary; gates and errors still speak.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure.")
@guarded
def score(
    preds: str,
    labels: str | None,
    pred_cols: str | None,
    label_col: str | None,
    id_col: str | None,
    weight_col: str | None,
    no_header: bool,
    preds_format: str | None,
    labels_format: str | None,
    input_kind: str,
    task: str,
    positive: str | None,
    label_type: str,
    classes: str | None,
    reduction: str,
    log_base: str,
    eps: float | str,
    sum_tol: float,
    renormalize: bool,
    class_weights: str | None,
    pos_weight: float | None,
    label_smoothing: float,
    ignore_label: str | None,
    drop_invalid: bool,
    compat: str,
    max_loss: float | None,
    min_accuracy: float | None,
    fmt: str | None,
    as_json: bool,
    output: str | None,
    per_sample: str | None,
    quiet: bool,
) -> int:
    """Score PREDS against LABELS (or against a label column of PREDS).

    Prints what it inferred and why, the loss, perplexity, accuracy and a per-class
    breakdown. Exit 0 when every gate passed, 1 when one failed, 2 when the input or
    the options are wrong.
    """
    from ..io import persample
    from ..io.outputs import OutputSet
    from ..report import formats as report
    from ..run.pipeline import score as run_score

    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json contradicts --format {fmt}; give one of them")
    summary_format = "json" if as_json else fmt or "table"
    options = Options(
        pred_cols=split_list(pred_cols) if pred_cols is not None else None,
        label_col=label_col,
        id_col=id_col,
        input=cast(InputKind, input_kind),
        task=cast(Task, task),
        positive=positive,
        label_type=cast(LabelType, label_type),
        classes=split_list(classes, "--classes") if classes is not None else None,
        reduction=cast(Reduction, reduction),
        log_base=cast(LogBase, log_base),
        eps=cast(float, eps),
        sum_tol=sum_tol,
        renormalize=renormalize,
        weight_col=weight_col,
        class_weights=class_weights,
        pos_weight=pos_weight,
        label_smoothing=label_smoothing,
        ignore_label=ignore_label,
        drop_invalid=drop_invalid,
        compat=cast(Compat, compat),
        preds_format=preds_format,
        labels_format=labels_format,
        no_header=no_header,
        max_loss=max_loss,
        min_accuracy=min_accuracy,
    )
    if preds == "-" and labels == "-":
        raise UsageError("PREDS and LABELS cannot both be standard input")
    outputs = OutputSet(inputs=[p for p in (preds, labels) if p is not None])
    report_format = None
    if output is not None:
        report_format = report.format_for(output)
        outputs.claim(output, "--output")
    sample_format = None
    if per_sample is not None:
        sample_format = persample.format_for(per_sample)
        outputs.claim(per_sample, "--per-sample")
        if per_sample == "-" and output == "-":
            raise UsageError("--output - and --per-sample - cannot both use standard output")

    if per_sample == "-":
        check_stdout("give --per-sample FILE")
    elif not quiet:
        check_stdout("give -q for no summary, and -o FILE for the report")

    with outputs:
        sink = None
        if per_sample is not None and sample_format is not None:
            if per_sample == "-":
                sink = persample.PerSampleWriter(sys.stdout.buffer, sample_format, STDOUT)
            else:
                sink = persample.PerSampleWriter(
                    outputs.open(per_sample), sample_format, per_sample
                )
        bar = _progress_bar(quiet)
        try:
            summary = run_score(preds, labels, options=options, sink=sink, progress=bar)
        except BaseException:
            if sink is not None:
                sink.abandon()
            raise
        finally:
            if bar is not None:
                bar.close()
        if sink is not None:
            sink.close()
        if output is not None and report_format is not None:
            outputs.write_bytes(output, report.render_text(summary, report_format).encode())
        for warning in summary.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if not quiet:  # before the files are published: a summary that fails takes them along
            _print_summary(summary, summary_format, to_stderr=per_sample == "-")

    for gate in summary.gates:
        if not gate.passed:
            click.echo(failure_line(gate), err=True)
    return 0 if summary.passed else 1


def _progress_bar(quiet: bool) -> Any:
    """A progress bar on standard error when that is a terminal, not ``--quiet``, and not
    in CI (``CI`` set to anything: CI logs keep every redraw of a bar)."""
    if quiet or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    from rich.console import Console

    from ..report.table import ProgressBar

    return ProgressBar(Console(stderr=True))


def _print_summary(summary: Any, fmt: str, *, to_stderr: bool) -> None:
    """The summary on standard output (standard error when the per-sample rows have
    it). A reader that closed the pipe early (``| head -1``) has all it wanted: the
    run goes on, publishes its files and exits by its gates."""
    from ..report import formats as report

    def write() -> None:
        if fmt == "table":
            from ..report.table import OutputConsole, render_summary

            render_summary(summary, OutputConsole(stderr=to_stderr, highlight=False))
        else:
            click.echo(report.render_text(summary, fmt), nl=False, err=to_stderr)

    if to_stderr:
        write()
        return
    try:
        with to_stdout():
            write()
    except BrokenPipeError:
        _quiet_stdout()


@cli.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(allow_dash=True, readable=False))
@_options(_COLUMN_OPTIONS)
@click.option(
    "--preds-format",
    type=click.Choice(FORMATS),
    help="Read FILE as this format. [default: from the extension, else the content]",
)
@_options(_DECISION_OPTIONS)
@_options(_ROW_OPTIONS)
@_options(_FILTER_OPTIONS)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json")),
    help="The output. [default: table]",
)
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure.")
@guarded
def inspect(
    file: str,
    pred_cols: str | None,
    label_col: str | None,
    id_col: str | None,
    weight_col: str | None,
    no_header: bool,
    preds_format: str | None,
    input_kind: str,
    task: str,
    positive: str | None,
    label_type: str,
    classes: str | None,
    sum_tol: float,
    renormalize: bool,
    compat: str,
    ignore_label: str | None,
    drop_invalid: bool,
    fmt: str | None,
    as_json: bool,
) -> int:
    """Show FILE's columns, types and row count, and what score would infer from it.

    Each column's role (prediction, label, id, weight, ignored index, skipped text),
    then the task, input kind, classes and label encoding that `xent score FILE`
    would decide on the same first rows, each with its reason. A file that score
    would refuse is still described, with the reason. The options mean what they
    mean for score. Exit 0, or 2 when FILE cannot be read.
    """
    import json

    from ..run.inspect import inspect_file

    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json contradicts --format {fmt}; give one of them")
    options = Options(
        pred_cols=split_list(pred_cols) if pred_cols is not None else None,
        label_col=label_col,
        id_col=id_col,
        weight_col=weight_col,
        input=cast(InputKind, input_kind),
        task=cast(Task, task),
        positive=positive,
        label_type=cast(LabelType, label_type),
        classes=split_list(classes, "--classes") if classes is not None else None,
        sum_tol=sum_tol,
        renormalize=renormalize,
        compat=cast(Compat, compat),
        ignore_label=ignore_label,
        drop_invalid=drop_invalid,
        preds_format=preds_format,
        no_header=no_header,
    )
    check_stdout()
    found = inspect_file(file, options=options)
    with to_stdout():
        if as_json or fmt == "json":
            click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
            return 0
        from ..report.table import OutputConsole, render_inspection

        render_inspection(found, OutputConsole(highlight=False))
    return 0


def main() -> None:
    """The console script ``xent``."""
    cli(prog_name="xent")
