"""Ctrl-C during ``start()``: a signal only queues an event, it never raises into our code.

A ``KeyboardInterrupt`` raised at a random bytecode of the scheduler thread can land inside
its bookkeeping (taking the end event off the queue, recording a result) and lose the end of
the run: a hang. So while ``start()`` runs on the main thread, SIGINT is handled by a relay
that puts an interrupt event on the run's queue (``SimpleQueue.put`` is reentrant, safe in a
signal handler) and returns. The scheduler thread handles interrupts as events, in order.

One escape hatch: a hook or callback that never returns would keep the events from being
read. When Ctrl-C is still being pressed (or held) well after the second one, and the main
thread is inside a hook's own code, the relay raises ``KeyboardInterrupt`` there; the hook
dispatcher isolates it like any other hook error and the run, already cancelled, ends.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, Optional

# How long Ctrl-C must go on after the second one before a stuck hook is broken into.
ESCALATE_AFTER = 2.0


class SigintRelay:
    """Installs the relay for the length of a ``with`` block, on the main thread only."""

    def __init__(self, on_signal: Callable[[], None], hook_code: Any) -> None:
        self.on_signal = on_signal
        self.hook_code = hook_code  # the dispatcher's code object: the frame we may break
        self.count = 0
        self.second_at: Optional[float] = None
        self.installed = False
        self.previous: Any = None

    def __enter__(self) -> SigintRelay:
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handle)
                self.installed = True
            except (ValueError, OSError, RuntimeError):  # no signals here (embedded Python)
                self.installed = False
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.installed:
            return
        self.installed = False
        previous = self.previous if self.previous is not None else signal.default_int_handler
        try:
            signal.signal(signal.SIGINT, previous)
        except (ValueError, OSError, RuntimeError):  # pragma: no cover - as in __enter__
            pass

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        self.count += 1
        self.on_signal()
        if self.count == 2:
            self.second_at = time.monotonic()
        elif (self.second_at is not None and time.monotonic() - self.second_at >= ESCALATE_AFTER
              and self._inside_hook(frame)):
            raise KeyboardInterrupt

    def _inside_hook(self, frame: Optional[FrameType]) -> bool:
        """True when the innermost frame of ours below ``frame`` is the hook dispatcher and
        ``frame`` itself is not ours: the signal landed in a hook's own code."""
        first = frame
        while frame is not None:
            if frame.f_globals.get("__name__", "").startswith("threaded_order."):
                return frame.f_code is self.hook_code and frame is not first
            frame = frame.f_back
        return False
