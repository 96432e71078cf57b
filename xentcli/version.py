"""The one version source: the installed package's metadata."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("xentcli")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def short_version() -> str:
    """``major.minor``, as the report's ``signature`` pins it."""
    return ".".join(__version__.split(".")[:2])
