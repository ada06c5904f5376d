"""A task body that calls ``os.fork()``: the child must never come back into the engine.

The child holds copies of the run's locks, some taken mid-hold by threads that do not exist
in it; going on would deadlock it, and its parent with it in ``waitpid``. So the engine ends
a forked child the moment its body returns or raises, with the body's outcome as status.
"""

from __future__ import annotations

import os
import sys

forked = False  # True in a child forked while this module was loaded


def _mark_forked() -> None:
    global forked
    forked = True


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_mark_forked)


def exit_child(ok: bool) -> None:
    """End this forked child at once: status 0 when the body passed, 1 otherwise."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0 if ok else 1)
