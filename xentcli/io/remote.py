"""Inputs named by a URL (``s3://``, ``gs://``, ``hdfs://``, ``abfs://``): one file, a
folder (a prefix on object storage) read as one Parquet dataset, or a glob of files.

pyarrow's own filesystems open them (``FileSystem.from_uri``); a scheme pyarrow has no
filesystem for goes through fsspec when it is installed (it is no dependency). A URL
is opened from its text and the environment alone: credentials come from the
provider's standard chain (for S3 ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``), the
endpoint from ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` or from the URL's query
(``?endpoint_override=host:port&scheme=http``), so that any process (a worker of a
cluster) opens the same URL again by itself. Messages and reports name a URL without
the secrets its user part or query may hold (``shown_name``).

pyarrow's filesystems have no glob: a pattern's folder (its part before the first
wildcard) is listed and the names matched part by part as ``glob`` matches local paths
(``*`` within one name, ``**`` any folders, a name starting with ``.`` only by a
pattern part starting with one). A ``?`` that starts ``key=value`` pairs after the
last ``/`` is the URL's query, not a wildcard.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..errors import InputError
from .dataset import Place
from .sourcebase import arrow_message

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PAIR = r"[A-Za-z_][A-Za-z0-9_]*=[^&/?]*"
_QUERY = re.compile(rf"\?({_PAIR}(?:&{_PAIR})*)$")
_USER = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/@]*@)")
SECRETS = frozenset(("access_key", "secret_key", "session_token"))
WILDCARDS = "*?["
BUCKETED = frozenset(("s3", "gcs"))  # filesystems whose paths start with a bucket


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL (``scheme://...``) rather than a local path."""
    return bool(_SCHEME.match(text))


def shown_name(url: str) -> str:
    """``url`` as messages and reports show it: without a password in its user part
    (``s3://KEY:SECRET@bucket``) and without the keys its query may hold."""
    base, query = _split(url)
    kept = [p for p in query.split("&") if p and p.partition("=")[0] not in SECRETS]
    return _without_password(base) + ("?" + "&".join(kept) if kept else "")


@dataclass(frozen=True)
class Remote:
    """What a URL names: a ``file`` (of ``size`` bytes), a ``folder``, a ``glob`` (its
    folder listed, the rest of its parts in ``pattern``) or nothing (``missing``).
    ``place`` reads the files: its ``url`` is the query-less URL of the filesystem
    path ``place.root``; ``name`` is the input's name in messages."""

    name: str
    place: Place
    kind: str
    size: int | None = None
    pattern: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The filesystem path the URL names (a glob's: its folder's)."""
        return self.place.root

    def matches(self) -> list[str]:
        """The names (URLs) of the files a glob matches."""
        deep = len(self.pattern) > 1 or "**" in self.pattern
        start = len(self.place.url) + 1
        return [
            name
            for name in self.place.files(self.place.url, recursive=deep)
            if _matches(name[start:].split("/"), self.pattern)
        ]


def locate(url: str) -> Remote:
    """The filesystem of ``url`` and what it names there (one request: the path's
    information); a missing bucket is named as such."""
    name = shown_name(url)
    base, query = _split(url)
    head = _SCHEME.match(base)
    assert head is not None
    parts = base[head.end() :].split("/")
    cut = next((i for i, p in enumerate(parts) if i and any(c in p for c in WILDCARDS)), len(parts))
    fixed = (base[: head.end()] + "/".join(parts[:cut])).rstrip("/")
    fs, path = _filesystem(fixed + ("?" + query if query else ""), name, head.group(1))
    place = Place(fs, path.rstrip("/") or path, _without_password(fixed))
    if cut < len(parts):
        return Remote(name, place, "glob", pattern=tuple(parts[cut:]))
    info = _info(fs, place.root, name)
    if info.is_file:
        return Remote(name, place, "file", size=info.size)
    if info.type == _file_type().Directory:
        return Remote(name, place, "folder")
    if fs.type_name in BUCKETED and "/" in place.root.strip("/"):
        bucket = place.root.strip("/").split("/")[0]
        if _info(fs, bucket, name).type == _file_type().NotFound:
            raise InputError(f"no such bucket {bucket!r}", file=name)
    return Remote(name, place, "missing")


def _split(url: str) -> tuple[str, str]:
    """The URL without its query, and the query ('' when it has none)."""
    found = _QUERY.search(url)
    if found is None:
        return url, ""
    return url[: found.start()], found.group(1)


def _without_password(url: str) -> str:
    """``url`` without a user part that holds a password (``KEY:SECRET@``); a user part
    without one names something (``abfs://container@account``) and stays."""
    found = _USER.match(url)
    if found is None or ":" not in found.group(2):
        return url
    return found.group(1) + url[found.end() :]


def _file_type() -> Any:
    from pyarrow.fs import FileType  # pyarrow.fs only on a remote input's path

    return FileType


def _info(fs: Any, path: str, name: str) -> Any:
    try:
        return fs.get_file_info(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {arrow_message(exc)}", file=name) from None


def _filesystem(url: str, name: str, scheme: str) -> tuple[Any, str]:
    """pyarrow's filesystem for ``url`` and the path in it; fsspec's (wrapped for
    pyarrow) when pyarrow has none for the scheme and fsspec is installed."""
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(url)
    except pa.ArrowInvalid as exc:
        if "Unrecognized filesystem type" not in str(exc):
            raise InputError(f"cannot open: {arrow_message(exc)}", file=name) from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {arrow_message(exc)}", file=name) from None
    try:
        import fsspec
    except ImportError:
        raise InputError(
            f"pyarrow has no filesystem for {scheme}:// URLs",
            file=name,
            hint="install fsspec (and its package for the scheme), which has more",
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError, OSError) as exc:
        raise InputError(
            f"neither pyarrow nor fsspec opens {scheme}:// URLs: {exc}", file=name
        ) from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def _matches(parts: Sequence[str], pattern: Sequence[str]) -> bool:
    """Whether a path's parts match a glob's, as ``glob.glob(recursive=True)`` would."""
    if not pattern:
        return not parts
    first, rest = pattern[0], pattern[1:]
    if first == "**":
        return any(
            _matches(parts[i:], rest)
            for i in range(len(parts) + 1)
            if not any(p.startswith(".") for p in parts[:i])
        )
    if not parts or (parts[0].startswith(".") and not first.startswith(".")):
        return False
    return fnmatch.fnmatchcase(parts[0], first) and _matches(parts[1:], rest)
