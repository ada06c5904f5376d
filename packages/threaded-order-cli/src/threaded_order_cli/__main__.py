"""``python -m threaded_order_cli``: the same as the ``mtrun`` script."""

from __future__ import annotations

import os
import sys


def _same_folder(entry: str, folder: str) -> bool:
    try:
        return os.path.samefile(entry or os.curdir, folder)
    except (OSError, ValueError):
        return False


def drop_current_folder() -> None:
    """Take out the current folder that ``-m`` put first on ``sys.path``.

    Plugins are found in the ``*.dist-info`` folders on ``sys.path``: with the current folder
    there, running mtrun in an untrusted checkout would load (run) whatever plugin it ships.
    The ``mtrun`` script never has it there; a folder named in PYTHONPATH stays.
    """
    if getattr(sys.flags, "safe_path", False) or not sys.path or \
            not isinstance(sys.path[0], str):
        return
    try:
        cwd = os.getcwd()
    except OSError:  # the current folder was deleted: nothing to read plugins from
        return
    if not _same_folder(sys.path[0], cwd):
        return
    named = "" if sys.flags.ignore_environment else os.environ.get("PYTHONPATH", "")
    if named and any(_same_folder(entry, cwd) for entry in named.split(os.pathsep)):
        return  # an empty entry names the current folder too, as Python reads it
    del sys.path[0]


if __name__ == "__main__":
    drop_current_folder()
    from .main import main

    main()
