"""Helpers for reporter authors, stdlib only, so a reporter needs nothing but the core:
where a report goes (a file checked before the run starts, or stdout for ``-``), written so
that it is complete or absent, never torn; and where a task and its failure are in the
source, so reports can point CI annotators at the right line."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import IO, Any, Optional

from ._params import ParamBody
from .outcomes import SkipBody, XfailBody

STDOUT = "-"


class ReporterError(ValueError):
    """A reporter cannot work with what it was given (its DEST, an option): one line that
    says what is wrong. mtrun reports it and exits 4, as for any usage error."""



def check_file(reporter: str, dest: str, config: Any = None) -> Path:
    """The absolute path of ``dest`` (a symlink's target); raise ``ReporterError`` in one line
    if it cannot be written, so a bad DEST stops ``mtrun`` before any task runs rather than
    after. With mtrun's ``config``, a DEST another reporter already writes is refused too."""

    def fail(why: str) -> ReporterError:
        return ReporterError(f"{reporter} reporter: cannot write {dest!r}: {why}")

    path = Path(dest).expanduser().absolute()
    if path.is_symlink():
        try:
            path = path.resolve(strict=True)
        except (OSError, RuntimeError):  # missing target, or a loop
            raise fail(f"it is a symlink to {os.readlink(path)!r}, which does not exist") \
                from None
    parent = path.parent
    if path.is_dir():
        raise fail("it is a directory")
    if not parent.exists():  # reports/junit.xml in a fresh checkout, as pytest's --junitxml
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fail(f"cannot create directory {str(parent)!r}: {exc.strerror or exc}") \
                from None
    if not parent.is_dir():
        raise fail(f"{str(parent)!r} is not a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise fail("permission denied")
    if replaceable(path) and not os.access(parent, os.W_OK | os.X_OK):
        raise fail(f"directory {str(parent)!r} is not writable")
    claim(reporter, str(parent.resolve() / path.name), config)
    return path


def claim(reporter: str, key: str, config: Any) -> None:
    """Two reports in one file (or both on stdout) would corrupt each other: refuse the
    second in one line, before the run."""
    taken: Optional[dict[str, str]] = getattr(config, "destinations", None)
    if taken is None:
        return
    other = taken.get(key)
    if other is not None:
        where = "stdout" if key == STDOUT else repr(key)
        raise ReporterError(f"{reporter} reporter: {where} is already the {other} reporter's "
                            "DEST; give each report its own")
    taken[key] = reporter


def replaceable(path: Path) -> bool:
    """A regular file (or none yet) is written beside and renamed over; a device or a FIFO
    (``/dev/null``) cannot be, and is written in place."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True


def open_beside(path: Path) -> tuple[IO[bytes], Path]:
    """A new, empty temporary file in ``path``'s folder (so a rename is atomic), with the
    mode ``path`` has, or the umask's default."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    if mode is not None:
        with contextlib.suppress(OSError):
            os.chmod(fd, mode)
    return os.fdopen(fd, "wb"), temp


def publish(temp: Path, path: Path) -> None:
    os.replace(temp, path)


def discard(temp: Optional[Path], path: Optional[Path] = None) -> None:
    """Remove a temporary file; with ``path``, also the report it was to replace: an older
    run's report left there would be read as this run's."""
    for stale in (temp, path):
        if stale is not None and replaceable(stale):
            with contextlib.suppress(OSError):
                os.unlink(stale)


def write_atomically(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole, or (on an error, raised) nothing at all."""
    if not replaceable(path):
        with open(path, "wb") as out:
            out.write(data)
        return
    temp: Optional[Path] = None
    try:
        stream, temp = open_beside(path)
        with stream:
            stream.write(data)
        publish(temp, path)
    except BaseException:
        discard(temp, path)
        raise


class Destination:
    """A report file (absolute, so a task's ``chdir`` cannot move it) or stdout."""

    def __init__(self, reporter: str, dest: str, config: Any = None) -> None:
        self.reporter = reporter
        self.path: Optional[Path] = None
        if dest == STDOUT:
            claim(reporter, STDOUT, config)
        else:
            self.path = check_file(reporter, dest, config)

    @property
    def is_stdout(self) -> bool:
        return self.path is None

    def write(self, data: bytes) -> None:
        """Write the whole report at once; an OSError becomes one line naming the path."""
        if self.path is None:
            stream = sys.stdout
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                stream.flush()
                buffer.write(data)
                buffer.flush()
            else:
                stream.write(data.decode("utf-8"))
                stream.flush()
            return
        try:
            write_atomically(self.path, data)
        except OSError as exc:
            raise ReporterError(
                f"{self.reporter} reporter: cannot write {str(self.path)!r}: "
                f"{exc.strerror or exc}"
            ) from None

    def __str__(self) -> str:
        return "stdout" if self.path is None else str(self.path)


def relative_to_rootdir(path: str, config: Any) -> str:
    """A collection error's path as the user typed it: relative to mtrun's rootdir."""
    rootdir = getattr(config, "rootdir", None)
    if path and rootdir is not None and Path(path).is_absolute():
        try:
            return Path(path).relative_to(Path(rootdir).absolute()).as_posix()
        except ValueError:
            pass
    return path


_WRAPPERS = (functools.partial, SkipBody, XfailBody, ParamBody)  # the user's function in .func


def task_location(task: Any, rootdir: Any = None) -> Optional[tuple[str, int]]:
    """``(path, line)`` of a task's function: the path relative to ``rootdir`` when it is
    inside it, and its first line (1-based; a decorated function's first decorator, as
    pytest reports it). None for a callable with no source."""
    func = getattr(task, "func", task)
    for _ in range(8):  # through decorators, partials and bound methods
        func = inspect.unwrap(func)
        inner = getattr(func, "__func__", None) or (
            func.func if isinstance(func, _WRAPPERS) else None)
        if inner is None:
            break
        func = inner
    code = getattr(func, "__code__", None) or getattr(
        getattr(type(func), "__call__", None), "__code__", None)  # noqa: B004 - an object
    if code is None:
        return None
    path = relative_to_rootdir(code.co_filename, _Root(rootdir))
    return path, code.co_firstlineno


_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def crash_location(traceback: Optional[str], path: Optional[str], rootdir: Any = None,
                   fallback: Optional[tuple[str, int]] = None) -> Optional[tuple[str, int]]:
    """Where a failure happened in the task's own file: the innermost frame of ``traceback``
    (text, as a ``TaskResult`` carries it) whose file is ``path``. When no frame is in that
    file (a worker that died, a timeout), ``fallback`` (say, ``task_location``) if given,
    else the innermost frame. Paths are compared relative to ``rootdir``."""
    root = _Root(rootdir)
    frames = [(relative_to_rootdir(m["path"], root), int(m["line"]))
              for m in _FRAME.finditer(traceback or "")]
    if path:
        want = relative_to_rootdir(path, root)
        for frame in reversed(frames):
            if frame[0] == want:
                return frame
    if fallback is not None:
        return fallback
    return frames[-1] if frames else None


def failure_line(location: Optional[tuple[str, int]], error_type: Optional[str]) -> str:
    """pytest's last line of a failure, ``path:line: ErrorType``, which annotators parse."""
    if location is None:
        return ""
    return f"{location[0]}:{location[1]}: {error_type or 'Error'}"


class _Root:
    """Lets ``relative_to_rootdir`` take a bare rootdir as well as mtrun's config."""

    def __init__(self, rootdir: Any) -> None:
        self.rootdir = getattr(rootdir, "rootdir", rootdir)
