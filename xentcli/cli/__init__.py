"""The ``xent`` command: parse options, call the library, render, set the exit code.

The only package that knows click. Read in this order:

    params.py   every Options field as a command-line option, declared once; the
                panels of --help
    guard.py    exit codes (errors, signals, closed pipes) and guarded standard output
    surfaces.py -o (repeatable, FORMAT:PATH) and the failed gates' lines and annotations
    score.py    ``xent score``
    inspect.py  ``xent inspect``
    compare.py  ``xent compare``

This module is the group and the console script's ``main``.
"""

from __future__ import annotations

import click

from ..version import __version__
from .compare import compare
from .guard import STDOUT, check_stdout, guarded, to_stdout
from .inspect import inspect
from .params import CONTEXT
from .score import score

__all__ = ["STDOUT", "check_stdout", "cli", "guarded", "main", "to_stdout"]


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="xent", package_name="xentcli")
def cli() -> None:
    """Score a classifier's predictions against labels with cross-entropy.

    \b
      xent score preds.parquet labels.csv
      xent score preds.csv labels.csv --max-loss 0.35 --json > report.json
      cat preds.csv | xent score - labels.parquet --per-sample - | sort -t, -k3 -gr | head
      xent compare base.json new.json --max-increase 0.01
    """


cli.add_command(score)
cli.add_command(inspect)
cli.add_command(compare)


def main() -> None:
    """The console script ``xent``."""
    keep_freed_memory()
    cli(prog_name="xent")


def keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory for the batches' temporary arrays instead of
    mapping fresh pages for each (every array above 128 KiB by default): the process
    owns its heap for one run, so this saves the page faults (~20% of a 10M-row run)
    at no cost in peak memory. Other C libraries: nothing to do."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's soname; elsewhere: OSError
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's mallopt parameters
        libc.mallopt(m_mmap_threshold, 256 << 20)
        libc.mallopt(m_trim_threshold, 512 << 20)
    except (OSError, AttributeError):
        return
