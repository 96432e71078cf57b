"""``--log`` and ``--log-timeout``, shared by ``score`` and ``compare``: the options,
the up-front check that each tracker's extra is installed (a usage error otherwise),
and the lines a tracker has to say, on standard error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:  # the module itself only on the path that logs
    from ..report.trackers import Record, Target

DEFAULT_TIMEOUT = 30.0


def tracker_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command with ``--log`` (repeatable) and ``--log-timeout``."""
    command = click.option(
        "--log-timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Give up on a tracker after this long (a warning; the exit code stays the gates').",
    )(command)
    return click.option(
        "--log",
        "log",
        multiple=True,
        metavar="TRACKER",
        help="Log the figures to wandb[:PROJECT] (extra xentcli[wandb]; offline without "
        "an API key) or mlflow[:EXPERIMENT] (extra xentcli[mlflow]; MLFLOW_TRACKING_URI, "
        "else sqlite:///mlruns.db). Repeatable.",
    )(command)


def targets(values: Sequence[str]) -> list[Target]:
    """The ``--log`` values as targets, each tracker once, its library installed."""
    if not values:
        return []  # no --log: report.trackers (and what it imports) stays unloaded
    from ..report.trackers import check_installed, parse_target

    found: dict[str, Target] = {}
    for value in values:
        target = parse_target(value)
        if target.tracker in found and found[target.tracker] != target:
            raise UsageError(f"--log {target.tracker} is given twice with different names")
        check_installed(target)
        found[target.tracker] = target
    return list(found.values())


def log(
    targets: Sequence[Target], make_record: Callable[[], Record], timeout: float, *, quiet: bool
) -> None:
    """Send the run to the trackers and print what each says on standard error (a
    warning even with ``--quiet``)."""
    if not targets:
        return
    from ..report.trackers import send

    for line in send(targets, make_record(), timeout):
        if line.warning or not quiet:
            click.echo(line.text, err=True)


def _files(paths: Sequence[str]) -> list[str]:
    """The reports this run wrote as regular files (not ``-`` nor a stream)."""
    import os

    return [p for p in paths if p != "-" and os.path.isfile(p)]


def summary_record(summary: Any, files: Sequence[str]) -> Record:
    """What a tracker sends for ``score``, figures included when they can be drawn."""
    from ..report import trackers

    return trackers.summary_record(summary, _files(files), trackers.figures_for(summary))


def comparison_record(comparison: Any, files: Sequence[str]) -> Record:
    """What a tracker sends for ``compare``, figures included when they can be drawn."""
    from ..report import trackers

    return trackers.comparison_record(comparison, _files(files), trackers.figures_for(comparison))
