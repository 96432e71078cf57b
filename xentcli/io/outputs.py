"""All files of one run, written atomically together.

Each regular file is written to a temporary file beside its target and renamed
over it only when the whole run succeeded; on any failure (an error, Ctrl-C,
SIGTERM, a full disk) the temporaries are removed and existing files stay as
they were. Devices and FIFOs (``/dev/stdout``, ``>(...)``) are written straight.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import BinaryIO

from ..errors import OutputError, UsageError


class OutputSet:
    """Claim output paths up front, write them as temporaries, publish them together."""

    def __init__(self, inputs: Iterable[str] = ()) -> None:
        self._inputs = {_identity(p): p for p in inputs if p != "-"}
        self._claimed: dict[str, str] = {}
        self._pending: list[tuple[str, str, BinaryIO]] = []
        self._direct: list[BinaryIO] = []
        self._made: list[str] = []  # folders this run created, removed again on failure
        self._folders: list[tuple[str, str]] = []  # (temporary folder, target): parts

    def claim(self, path: str, option: str) -> None:
        """Refuse an output that is an input, or that another output already names."""
        if path == "-":
            return
        self._register(path, option)
        if os.path.isdir(path):
            raise OutputError(f"cannot write {path}: it is a directory")

    def _register(self, path: str, option: str) -> None:
        """Hold ``path`` for ``option``: not an input, not another output's, in a folder
        that exists."""
        key = _identity(path)
        if key in self._inputs:
            raise UsageError(f"{option} {path} is also an input; it would be overwritten")
        if key in self._claimed:
            first = self._claimed[key]
            if first == option:
                raise UsageError(f"{option} names {path} twice; give each output its own path")
            raise UsageError(f"{option} and {first} both write {path}")
        self._claimed[key] = option
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise OutputError(f"cannot write {path}: the folder {folder} does not exist")

    def parts(self, path: str, option: str, ours: Callable[[str], bool]) -> str:
        """A folder of files (``--per-sample DIR`` on the Dask engine), filled as a
        temporary folder beside ``path`` and renamed to it when the run succeeds. An
        existing ``path`` is replaced then only when every file in it is one ``ours``
        names (an earlier run's parts): a folder of anything else is refused now."""
        self._register(path, option)
        if os.path.exists(path):
            if not os.path.isdir(path):
                raise OutputError(
                    f"cannot write {option} {path}: it is a file, and here {option} names "
                    "a folder of part files"
                )
            foreign = sorted(n for n in os.listdir(path) if not ours(n))
            if foreign:
                raise OutputError(
                    f"cannot write {option} {path}: the folder holds {foreign[0]!r}, which "
                    "xent did not write; remove it, or name another folder"
                )
        import tempfile

        parent, name = os.path.split(os.path.abspath(path))
        try:
            temp = tempfile.mkdtemp(prefix=f".{name}.", suffix=".xent-tmp", dir=parent)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        self._folders.append((temp, path))
        return temp

    def folder(self, path: str, option: str) -> None:
        """A folder for this run's files (``--plots DIR``): made when missing (its parent
        must exist), and removed again if the run fails and it is still empty."""
        if os.path.isdir(path):
            return
        if os.path.exists(path):
            raise OutputError(f"cannot write {option} {path}: it is not a folder")
        try:
            os.mkdir(path)
        except OSError as exc:
            raise OutputError(f"cannot make the folder {path} ({option}): {exc.strerror}") from None
        self._made.append(path)

    def open(self, path: str) -> BinaryIO:
        """A binary handle whose content becomes ``path`` when the run succeeds."""
        if is_stream_target(path):
            handle = open(path, "wb")  # noqa: SIM115 - closed in commit/abort
            self._direct.append(handle)
            return handle
        import tempfile  # here: ~3 ms of every start when no file is written (issue 14)

        folder, name = os.path.split(os.path.abspath(path))
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".xent-tmp", dir=folder)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        handle = os.fdopen(fd, "wb")
        self._pending.append((temp, path, handle))
        return handle

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file's content (a report) under the same all-or-nothing rule."""
        handle = self.open(path)
        try:
            handle.write(data)
            handle.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", file=path) from None

    def commit(self) -> None:
        """Flush every temporary to disk, then rename each over its target."""
        try:
            for temp, _path, handle in self._pending:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.chmod(temp, _mode_for(_path))
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write the outputs: {exc.strerror or exc}") from None
        for temp, path, _handle in self._pending:
            os.replace(temp, path)
        self._pending.clear()
        for temp, path in self._folders:
            _replace_folder(temp, path)
        self._folders.clear()
        for handle in self._direct:
            handle.close()
        self._direct.clear()
        self._made.clear()

    def abort(self) -> None:
        """Remove every temporary; targets keep whatever they held before."""
        for temp, _path, handle in self._pending:
            with contextlib.suppress(OSError):
                handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        self._pending.clear()
        if self._folders:
            import shutil  # here: only a parts folder needs it (start-up, issue 14)

            for temp, _path in self._folders:
                shutil.rmtree(temp, ignore_errors=True)
        self._folders.clear()
        for handle in self._direct:
            with contextlib.suppress(OSError):
                handle.close()
        self._direct.clear()
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        self._made.clear()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def _replace_folder(temp: str, path: str) -> None:
    """Put the finished folder ``temp`` at ``path``: a folder already there (an earlier
    run's parts, checked when claimed) is moved aside first and removed after, so
    ``path`` never holds a mix of two runs' parts."""
    aside = None
    if os.path.exists(path):
        aside = f"{temp}.old"
        os.rename(path, aside)
    os.rename(temp, path)
    os.chmod(path, 0o777 & ~_umask())
    if aside is not None:
        import shutil

        shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _identity(path: str) -> str:
    return os.path.realpath(path)


def is_stream_target(path: str) -> bool:
    """Devices and FIFOs are written straight through; they cannot be renamed over."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _mode_for(path: str) -> int:
    """An existing file keeps its mode; a new one gets the usual 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()
