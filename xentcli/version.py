"""The one version source: pyproject.toml reads it from here (``[tool.setuptools.dynamic]``).

A constant rather than ``importlib.metadata.version("xentcli")``: that import costs
~20 ms of every run's start (issue 14), and the constant is what gets installed.
"""

from __future__ import annotations

__version__ = "0.1.0"


def short_version() -> str:
    """``major.minor``, as the report's ``signature`` pins it."""
    return ".".join(__version__.split(".")[:2])
