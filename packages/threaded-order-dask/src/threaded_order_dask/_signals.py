"""Ctrl-C (or SIGTERM, SIGHUP) while the local cluster starts: one line, not screens.

A signal in the middle of ``LocalCluster(...)`` leaves a half-started cluster whose parts
complain at exit; and a terminal's Ctrl-C also reaches the worker processes, which print a
traceback each while they import. So while the cluster starts these signals are blocked
(Linux keeps a blocked signal pending, even one that is ignored), and SIGINT is ignored,
which the worker processes inherit across their start. On the way out the previous handlers
come back before the signals are unblocked: a signal that came meanwhile reaches its own
handler then, and the caller closes the cluster before the interrupt goes on.
"""

from __future__ import annotations

import signal
import threading
from typing import Any, Optional

_HELD = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
         if hasattr(signal, name)}


class SignalsHeld:
    """A ``with`` block during which those signals wait (on POSIX; elsewhere it does
    nothing)."""

    def __init__(self) -> None:
        self.mask: Optional[set[int]] = None
        self.previous: Any = None

    def __enter__(self) -> SignalsHeld:
        if not hasattr(signal, "pthread_sigmask"):
            return self
        # Started on first need, it would unblock SIGINT on the thread that needed it.
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
        self.mask = set(signal.pthread_sigmask(signal.SIG_BLOCK, _HELD))
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            except (ValueError, OSError):  # no signals here (embedded Python)
                self.previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.mask is None:
            return
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        mask, self.mask, self.previous = self.mask, None, None
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # what waited is delivered now
