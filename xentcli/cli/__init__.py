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

import importlib
from collections.abc import Iterator, MutableMapping

import click

from ..version import __version__
from .guard import STDOUT, check_stdout, guarded, to_stdout
from .params import CONTEXT

__all__ = ["STDOUT", "check_stdout", "cli", "guarded", "main", "to_stdout"]

SUBCOMMANDS = {"score": ".score", "inspect": ".inspect", "compare": ".compare"}
"""Each command and its module, named by the command; imported when the command runs or
its help is shown."""


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands, each module imported on first use (click's "lazily loading
    subcommands"): ``xent score`` never imports compare's or inspect's modules, and
    ``inspect`` alone pulls ``run.inspect``. A mapping rather than a ``Group`` subclass,
    so ``cli.commands`` still names and gives every command."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module = importlib.import_module(self._modules[name], __package__)  # KeyError: none
            command = getattr(module, name)
            assert isinstance(command, click.Command), name
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._modules.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._modules and name not in self._loaded:
            raise KeyError(name)
        self._modules.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._modules, *self._loaded]))

    def __len__(self) -> int:
        return len(self._modules.keys() | self._loaded.keys())


@click.group(context_settings=CONTEXT, commands=LazyCommands(SUBCOMMANDS))
@click.version_option(__version__, "--version", prog_name="xent", package_name="xentcli")
def cli() -> None:
    """Score a classifier's predictions against labels with cross-entropy.

    \b
      xent score preds.parquet labels.csv
      xent score preds.csv labels.csv --max-loss 0.35 --json > report.json
      cat preds.csv | xent score - labels.parquet --per-sample - | sort -t, -k3 -gr | head
      xent compare base.json new.json --max-increase 0.01
    """


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
