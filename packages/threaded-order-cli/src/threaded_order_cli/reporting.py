"""Helpers for reporter authors: where a report goes, a file checked before the run starts
or stdout for ``-``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

from .config import ReporterError


def check_file(reporter: str, dest: str) -> Path:
    """The absolute path of ``dest``; raise ``ReporterError`` in one line if it cannot be
    written, so a bad DEST stops ``mtrun`` before any task runs rather than after."""

    def fail(why: str) -> ReporterError:
        return ReporterError(f"{reporter} reporter: cannot write {dest!r}: {why}")

    path = Path(dest).expanduser().absolute()
    parent = path.parent
    if path.is_dir():
        raise fail("it is a directory")
    if not parent.exists():
        raise fail(f"directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise fail(f"{str(parent)!r} is not a directory")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise fail("permission denied")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise fail(f"directory {str(parent)!r} is not writable")
    return path


class Destination:
    """A report file (absolute, so a task's ``chdir`` cannot move it) or stdout."""

    def __init__(self, reporter: str, dest: str) -> None:
        self.reporter = reporter
        self.path: Optional[Path] = None if dest == "-" else check_file(reporter, dest)

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
            self.path.write_bytes(data)
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
