"""Checking a DEST file before the run starts."""

from __future__ import annotations

import os
from pathlib import Path

from threaded_order_cli.config import ReporterError


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
