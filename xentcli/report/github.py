"""GitHub Actions workflow commands: an ``::error`` line per failed gate.

The runner reads ``::error title=T::MESSAGE`` from standard output or standard error
and shows it on the run's page; xent writes them on standard error only (standard
output holds the report). Escaping follows the Actions toolkit (``command.ts``:
``escapeData`` and ``escapeProperty``), ECOSYSTEM 2.2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MAX_ANNOTATIONS = 10
"""GitHub shows only a few per step; xent has a handful of gates anyway."""


def escape_data(text: str) -> str:
    """A message as the toolkit escapes it.

    >>> escape_data("50% off\\r\\nnow")
    '50%25 off%0D%0Anow'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (``title=``): the data rules, and ``:`` and ``,`` too.

    >>> escape_property("a:b,c%")
    'a%3Ab%2Cc%25'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_line(title: str, message: str) -> str:
    """One ``::error`` workflow command."""
    return f"::error title={escape_property(title)}::{escape_data(message)}"


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this runs in a GitHub Actions job (the runner sets ``GITHUB_ACTIONS=true``)."""
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def gate_annotations(failures: list[tuple[str, str]]) -> list[str]:
    """``::error title=xent gate NAME::MESSAGE`` for each failed gate (name, message),
    at most ``MAX_ANNOTATIONS``."""
    return [error_line(f"xent gate {name}", message) for name, message in failures][
        :MAX_ANNOTATIONS
    ]
