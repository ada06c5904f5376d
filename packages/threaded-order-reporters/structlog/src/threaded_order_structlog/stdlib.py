"""Opt-in: the stdlib ``logging`` records of tasks as JSON lines, through structlog's
``ProcessorFormatter``.

A handler on the root logger, for the length of a run, formats each record logged in a
task (``current_task()`` is set: the body's thread, its timeout helper, its coroutines) on
the thread that logs it, so the task and the user's bound context are the right ones. The
line then waits for the scheduler thread, which writes a task's lines between its
``task_run`` and ``task_done``: the sink is never written from two threads, and a task's
capture never takes the line. Records outside
tasks are left alone. Logger levels are the user's, unless a level is given for the run.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from typing import Optional

import structlog
from structlog.typing import EventDict, WrappedLogger

from threaded_order import current_task
from threaded_order.reporting import ReporterError

from .lines import Common, stamp


def check_level(level: str) -> Optional[int]:
    """A ``logging`` level name or number, or "" for "leave the loggers' levels alone"."""
    text = level.strip().upper()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    value = logging.getLevelName(text)
    if not isinstance(value, int):
        raise ReporterError(f"structlog reporter: unknown logging level {level!r} "
                            "(want DEBUG, INFO, WARNING, ERROR, CRITICAL or a number)")
    return value


def _add_task(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    event_dict.setdefault("task", current_task())
    return event_dict


class _TaskRecords(logging.Handler):
    def __init__(self, lines: deque[tuple[str, str]]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        task = current_task()
        if task is None:
            return
        try:
            self.lines.append((task, self.format(record)))
        except Exception:
            self.handleError(record)


class StdlibBridge:
    """Installed for one run (``install``/``remove``); ``drain`` yields the lines so far,
    each with its task's node id."""

    def __init__(self, common: Common, level: Optional[int]) -> None:
        self.lines: deque[tuple[str, str]] = deque()
        self.handler = _TaskRecords(self.lines)
        self.handler.setFormatter(structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name],
            processors=[
                structlog.contextvars.merge_contextvars,
                _add_task,
                stamp,  # the record's own time
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.ExceptionRenderer(
                    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
                common,
                structlog.processors.JSONRenderer(),
            ],
        ))
        self.level = level
        self.saved_level: Optional[int] = None

    def install(self) -> None:
        root = logging.getLogger()
        if self.level is not None:
            self.saved_level = root.level
            root.setLevel(self.level)
        root.addHandler(self.handler)

    def remove(self) -> None:
        """Logging as it was before the run: our handler gone, the root's level back."""
        root = logging.getLogger()
        root.removeHandler(self.handler)
        if self.saved_level is not None:
            root.setLevel(self.saved_level)
            self.saved_level = None

    def drain(self) -> Iterator[tuple[str, str]]:
        lines = self.lines
        while lines:
            yield lines.popleft()
