"""What a run leaves besides its exit code: the summary on standard output (``--format``,
``--json``), the reports of ``-o`` (repeatable, ``FORMAT:PATH``), the failed gates'
lines and, inside GitHub Actions, their ``::error`` annotations. Shared by ``score`` and
``compare``."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError
from ..report.github import gate_annotations, in_github_actions

if TYPE_CHECKING:
    from ..io.outputs import OutputSet

GATE_PREFIX = "Gate failed: "
SUMMARY_FORMATS = ("table", "json", "csv", "markdown")


def summary_options(what: str) -> Callable[[Any], Any]:
    """``--format`` and its short form ``--json``: ``what`` on standard output."""

    def apply(command: Any) -> Any:
        command = click.option("--json", "as_json", is_flag=True, help="Short for --format json.")(
            command
        )
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(SUMMARY_FORMATS),
            help=f"{what} on standard output. [default: table]",
        )(command)

    return apply


def chosen_format(fmt: str | None, as_json: bool) -> str:
    """The format of the summary on standard output; ``--json`` with another
    ``--format`` is a usage error."""
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json contradicts --format {fmt}; give one of them")
    return "json" if as_json else fmt or "table"


class ReportTarget(click.ParamType):
    """``[FORMAT:]FILE``: a directory is refused as click refuses it (the usage block);
    an unknown format or extension is one ``Error:`` line, later, as before."""

    name = "[FORMAT:]FILE"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from ..report.formats import parse_output

        try:
            _fmt, path = parse_output(value)
        except UsageError:
            return str(value)  # claim_reports says what is wrong
        if os.path.isdir(path):
            self.fail(f"{path!r} is a directory", param, ctx)
        return str(value)


def output_option(what: str, formats: str) -> Callable[[Any], Any]:
    """``-o/--output``, repeatable: click keeps only the last of a non-multiple option,
    which silently dropped every report but one."""
    return click.option(
        "-o",
        "--output",
        "output",
        multiple=True,
        metavar="[FORMAT:]FILE",
        type=ReportTarget(),
        help=f"Also write {what} to FILE (repeatable); the format from the extension "
        f"({formats}) or named first, as in md:$GITHUB_STEP_SUMMARY.",
    )


def annotations_option() -> Callable[[Any], Any]:
    """``--no-annotations``: no ``::error`` lines even inside GitHub Actions."""
    return click.option(
        "--no-annotations",
        is_flag=True,
        help="No ::error line per failed gate when GITHUB_ACTIONS=true (they go to "
        "standard error, beside the plain line).",
    )


def claim_reports(
    outputs: OutputSet, specs: Sequence[str], allowed: Collection[str]
) -> list[tuple[str, str]]:
    """Each ``-o`` value as (path, format), claimed in ``outputs`` up front: a format the
    command does not write, standard output, or two outputs to one path are usage errors."""
    if not specs:
        return []  # no -o: report.formats (and html) stay unloaded, start-up (issue 14)
    from ..report.formats import parse_output

    reports = []
    for spec in specs:
        fmt, path = parse_output(spec)
        if fmt not in allowed:
            raise UsageError(f"--output {spec}: this command writes {', '.join(allowed)}")
        if path == "-":
            raise UsageError(
                f"--output {spec}: for standard output give --format, or FORMAT:/dev/stdout"
            )
        outputs.claim(path, "--output")
        reports.append((path, fmt))
    return reports


def report_gates(failed: Sequence[tuple[str, str]], no_annotations: bool) -> None:
    """The failed gates on standard error: one ``Gate failed:`` line each, then, in
    GitHub Actions and unless ``--no-annotations``, one ``::error`` each (never on
    standard output, which may hold the report)."""
    for _name, line in failed:
        click.echo(line, err=True)
    if no_annotations or not in_github_actions():
        return
    said = [(name, line.removeprefix(GATE_PREFIX)) for name, line in failed]
    for annotation in gate_annotations(said):
        click.echo(annotation, err=True)
