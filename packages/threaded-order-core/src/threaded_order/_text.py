"""Turning a user's objects into text without trusting them.

A task may raise an exception whose ``__str__`` raises, or return an object whose
``__repr__`` loops into ``SystemExit``. Every place that formats a user's object (the engine,
the remote runner, callbacks, reporters) goes through these, so such an object becomes a
placeholder and fails its task instead of killing a worker or a hook.
"""

from __future__ import annotations

import math
import sys
import traceback
from typing import Any


def type_name(obj: Any) -> str:
    """``type(obj).__name__``, even for a metaclass that makes ``__name__`` raise."""
    try:
        name = type(obj).__name__
        return name if isinstance(name, str) else "object"
    except BaseException:
        return "object"


def safe_str(obj: Any) -> str:
    """``str(obj)``, or ``<unprintable TYPE>`` when that raises or does not return a str."""
    try:
        text = str(obj)
        if isinstance(text, str):
            return text
    except BaseException:
        pass
    return f"<unprintable {type_name(obj)}>"


def safe_repr(obj: Any) -> str:
    """``repr(obj)``, or ``<unprintable TYPE>``."""
    try:
        text = repr(obj)
        if isinstance(text, str):
            return text
    except BaseException:
        pass
    return f"<unprintable {type_name(obj)}>"


def safe_format_exception(exc: BaseException, tb: Any = None) -> str:
    """The formatted traceback of ``exc`` from ``tb``; never raises.

    ``traceback`` itself survives an ``__str__`` that raises an ``Exception``, but not one that
    raises ``SystemExit``, nor an exception whose ``__cause__`` chain is hostile.
    """
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb))
    except BaseException:
        pass
    try:
        frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    except BaseException:
        frames = ""
    header = "Traceback (most recent call last):\n" if frames else ""
    return f"{header}{frames}{type_name(exc)}: {safe_str(exc)}\n"


def format_exception(exc: BaseException) -> str:
    """A task's error as a traceback without threaded-order's own frames; never raises.

    A timed-out task's error shows where the task was when time ran out (``task_stack``).
    """
    stack = getattr(exc, "task_stack", None)
    if stack:
        return (f"Where the task was when it timed out:\n{stack}{type_name(exc)}: "
                f"{safe_str(exc)}\n")
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith(
        "threaded_order."
    ):
        tb = tb.tb_next
    return safe_format_exception(exc, tb)


def attach_task_stack(error: BaseException, thread: Any, own_file: str) -> None:
    """Record where a timed-out body is stuck (``thread``'s stack below the frames of
    ``own_file``, the runner's module) on ``error``, for ``format_exception``."""
    frame = sys._current_frames().get(getattr(thread, "ident", None) or -1)
    if frame is None:
        return
    entries: list[traceback.FrameSummary] = traceback.extract_stack(frame)
    ours = [i for i, e in enumerate(entries) if e.filename == own_file]
    entries = entries[ours[-1] + 1:] if ours else entries
    error.task_stack = "".join(traceback.format_list(entries))  # type: ignore[attr-defined]


def check_seconds(value: Any, what: str, *, zero_ok: bool = False) -> None:
    """A finite number of seconds (> 0, or >= 0 with ``zero_ok``); ``ValueError`` otherwise.

    ``inf``, ``nan`` and values too large for a thread's wait are refused here, not by an
    ``OverflowError`` in every task.
    """
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if not bad:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        bad = (not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok)
               or number > MAX_SECONDS)
    if bad:
        bound = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{what} must be a finite number of seconds {bound} and at most "
                         f"{MAX_SECONDS:g}, got {safe_repr(value)}")


# threading.TIMEOUT_MAX is about 9.2e9 s on Linux; a week is more than any task needs and
# the same everywhere.
MAX_SECONDS = 7 * 24 * 3600.0
