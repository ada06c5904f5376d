"""The structlog reporter: one JSON line per scheduler event, through our own processors.

It uses ``structlog.wrap_logger`` with every setting given, never ``structlog.configure``,
so an application's own structlog setup is neither read nor changed.
"""

from __future__ import annotations

import contextlib
import sys
from typing import IO, TYPE_CHECKING, Any, Optional

import structlog
from structlog.typing import EventDict, WrappedLogger

from threaded_order import (
    CANCELLED,
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    TaskResult,
    hookimpl,
)
from threaded_order.results import node_id
from threaded_order_cli.reporting import (
    STDOUT,
    check_file,
    claim,
    discard,
    open_beside,
    publish,
    replaceable,
)

from .context import TASK_NAMES

if TYPE_CHECKING:
    from pathlib import Path

    from threaded_order import Summary
    from threaded_order_cli.config import Config

_LEVELS = {PASSED: "info", FAILED: "error", SKIPPED: "warning", CANCELLED: "warning",
           XFAILED: "info", XPASSED: "warning"}
_FIRST_KEYS = ("timestamp", "level", "event")


class _Sink:
    """The end of the processor chain: writes each rendered line and flushes it.

    stderr and stdout are looked up at each write, so a live display that redirects them
    (the progress reporter) still gets our lines. A file is written beside its DEST and
    renamed over it when the run ends (``close``), so the DEST holds every line of a run or
    none, never half of one; a later run's lines are added to it the same way. After a write
    fails, the rest of the run's lines are dropped, so the failure is reported once rather
    than per event.
    """

    def __init__(self, stream: Optional[str], path: Optional[Path]) -> None:
        self.stream = stream
        self.path = path
        self.file: Optional[IO[bytes]] = None
        self.temp: Optional[Path] = None
        self.opened_before = False
        self.failed = False

    def msg(self, message: str) -> None:
        if self.failed:
            return
        try:
            if self.path is None:
                out = getattr(sys, self.stream or "stderr")
                out.write(message + "\n")
                out.flush()
                return
            if self.file is None:
                self._open(self.path)
            assert self.file is not None
            self.file.write((message + "\n").encode("utf-8", "backslashreplace"))
            self.file.flush()
        except OSError as exc:
            self.failed = True
            self._discard(stale=True)
            raise self._error(exc) from None

    debug = info = warning = error = critical = exception = log = msg

    def _open(self, path: Path) -> None:
        if not replaceable(path):  # /dev/null, a FIFO: nothing to rename over
            self.file = open(path, "ab" if self.opened_before else "wb")  # noqa: SIM115
        else:
            self.file, self.temp = open_beside(path)
            if self.opened_before and path.exists():  # an earlier run's lines come first
                self.file.write(path.read_bytes())
        self.opened_before = True

    def _discard(self, stale: bool) -> None:
        file, self.file = self.file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        temp, self.temp = self.temp, None
        if temp is not None:
            discard(temp, self.path if stale else None)

    def close(self) -> None:
        """Put the run's lines in place; a failure is one line, raised once."""
        file, temp = self.file, self.temp
        try:
            if file is not None:
                file.close()
                if temp is not None and self.path is not None:
                    publish(temp, self.path)
                    self.temp = None
        except OSError as exc:
            self._discard(stale=True)
            raise self._error(exc) from None
        finally:
            self.file = None
            self._discard(stale=False)
            self.failed = False

    def _error(self, exc: OSError) -> OSError:
        return OSError(f"structlog reporter: cannot write {str(self)!r}: {exc.strerror or exc}")

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else (self.stream or "stderr")


def _order(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """timestamp, level and event first; fields that do not apply (None) left out."""
    ordered = {key: event_dict.pop(key) for key in _FIRST_KEYS if key in event_dict}
    ordered.update((k, v) for k, v in event_dict.items() if v is not None)
    return ordered


def make_logger(sink: Any) -> Any:
    """A structlog logger with all its settings given here, none taken from the global
    configuration."""
    return structlog.wrap_logger(
        sink,
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _order,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(0),
        context_class=dict,
        cache_logger_on_first_use=False,
    )


def _error(result: TaskResult) -> Optional[str]:
    if result.status != FAILED:
        return None
    return f"{result.error_type}: {result.error}" if result.error_type else result.error


class StructlogReporter:
    """Logs the scheduler's events as JSON lines.

    ``dest``: None for stderr, ``"-"`` for stdout, else a file path (checked now, written
    from the start of each run). Works as a plain scheduler plugin too.
    """

    def __init__(self, dest: Optional[str] = None, *, config: Optional[Config] = None) -> None:
        self.config = config
        if dest is None or dest == STDOUT:
            if dest == STDOUT:
                claim("structlog", STDOUT, config)
            self.sink = _Sink("stdout" if dest == STDOUT else "stderr", None)
        else:
            self.sink = _Sink(None, check_file("structlog", dest, config))
        self.logger = make_logger(self.sink)
        self.names: dict[Any, str] = {}
        self.ids: dict[str, str] = {}  # task name -> node id, stable whatever the targets

    @hookimpl(optionalhook=True)
    def threaded_order_cli_claims_terminal(self) -> bool:
        """On stdout, the terminal reporter's ``.F s`` characters would land inside our
        lines."""
        return self.sink.stream == "stdout"

    @hookimpl
    def threaded_order_scheduler_start(self, meta: dict[str, Any], scheduler: Any) -> None:
        self.names = {task.func: name for name, task in scheduler.graph.nodes.items()}
        self.ids = {name: node_id(name, task.module)
                    for name, task in scheduler.graph.nodes.items()}
        TASK_NAMES.update(self.names)
        self.logger.info(
            "scheduler_start", total_tasks=meta["total_tasks"], workers=meta["workers"]
        )

    @hookimpl
    def threaded_order_task_start(self, name: str) -> None:
        self.logger.debug("task_start", task=self.ids.get(name, name))

    @hookimpl
    def threaded_order_task_run(self, name: str, thread: str) -> None:
        self.logger.debug("task_run", task=self.ids.get(name, name), thread=thread)

    @hookimpl
    def threaded_order_task_done(self, result: TaskResult) -> None:
        self._task_done(result)

    def _task_done(self, result: TaskResult) -> None:
        log = getattr(self.logger, _LEVELS.get(result.status, "info"))
        log(
            "task_done",
            task=result.node_id,
            status=result.status,
            duration=round(result.duration, 6),
            thread=result.thread or None,
            error=_error(result),
            skip_reason=result.skip_reason,
            attempts=result.attempts if result.attempts > 1 else None,
        )

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        """Cancelled tasks (never started after Ctrl-C) get no task_done hook: log them
        here, so every task has exactly one task_done line."""
        try:
            for name in summary["cancelled"]:
                self._task_done(summary["tasks"][name])
            bad = summary["failed"] or summary["interrupted"]
            status = "interrupted" if summary["interrupted"] else "failed" if bad else "passed"
            (self.logger.error if bad else self.logger.info)(
                "scheduler_done",
                status=status,
                total=len(summary["tasks"]),
                passed=len(summary["passed"]),
                failed=len(summary["failed"]),
                skipped=len(summary["skipped"]),
                cancelled=len(summary["cancelled"]),
                xfailed=len(summary.get("xfailed", ())),
                xpassed=len(summary.get("xpassed", ())),
                duration=round(summary["duration"], 6),
            )
        finally:
            for func, name in self.names.items():
                if TASK_NAMES.get(func) == name:
                    del TASK_NAMES[func]
            self.names = {}
            self.sink.close()

    @hookimpl(optionalhook=True)
    def threaded_order_cli_collection_error(self, path: str, message: str) -> None:
        first = message.strip().splitlines()[0] if message.strip() else "collection error"
        self.logger.error("collection_error", path=path, error=first)

    @hookimpl(optionalhook=True)
    def threaded_order_cli_unconfigure(self) -> None:
        self.sink.close()
