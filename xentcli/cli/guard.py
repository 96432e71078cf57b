"""Where a command's outcome becomes one exit code, and standard output is guarded.

``guarded`` is the one place where errors become exit codes: ``XentError`` -> 2 with one
``Error:`` line, Ctrl-C -> 130, SIGTERM -> 143, a closed pipe -> 141 quietly, anything
unexpected -> 2 with a plea for a bug report (``--debug`` shows its traceback instead).
``to_stdout`` is the one place where standard output that cannot be written (closed, a
full disk) becomes an ``OutputError``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import click

from ..errors import OutputError, XentError
from ..version import __version__

STDOUT = "standard output"


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
                quiet_stdout()  # else exit flushes what is still buffered, and fails again
            click.echo(f"Error: {exc}", err=True)
            code = 2
        except KeyboardInterrupt:
            code = 130
        except _Terminated:
            code = 143
        except BrokenPipeError:
            quiet_stdout()
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


def quiet_stdout() -> None:
    """After a reader closed our stdout (or it failed), point it at /dev/null so that
    what is still buffered goes nowhere and exit does not complain."""
    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


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
        quiet_stdout()
        raise OutputError(f"cannot write: {exc.strerror or exc}", file=STDOUT) from None
