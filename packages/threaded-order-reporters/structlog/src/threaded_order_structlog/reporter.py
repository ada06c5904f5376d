"""The structlog reporter: one JSON line per scheduler event, through our own processors.

It uses ``structlog.wrap_logger`` with every setting given, never ``structlog.configure``,
so an application's own structlog setup is neither read nor changed.

Hooks run on the scheduler thread, which learns of a task's start from a queue after the
worker has already begun the body: a line written at the ``task_start`` hook would come
after the task's own first lines, in time and in the file. So a task's ``task_start`` and
``task_run`` lines wait for its end and are written just before its ``task_done``, stamped
with the worker's start (``TaskResult.start``, epoch seconds) and its finish; sorted by
timestamp, a task's own lines fall inside its ``task_run`` ... ``task_done`` span. Its
``logging`` records (``stdlib``) are written in that span in the file too.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, Optional

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
from threaded_order.reporting import STDOUT, check_file, claim
from threaded_order.results import node_id

from .context import TaskScope
from .lines import AT, Common, at_ceil, at_floor, make_logger
from .sink import Sink
from .stdlib import StdlibBridge, check_level
from .tracebacks import exception_dicts

if TYPE_CHECKING:
    from threaded_order import Summary
    from threaded_order_cli.config import Config

_LEVELS = {PASSED: "info", FAILED: "error", SKIPPED: "warning", CANCELLED: "warning",
           XFAILED: "info", XPASSED: "warning"}


def _error(result: TaskResult) -> Optional[str]:
    if result.status != FAILED:
        return None
    return f"{result.error_type}: {result.error}" if result.error_type else result.error


def _setting(config: Any, name: str, default: Any) -> Any:
    """mtrun's ``[tool.mtrun]`` / ``-o`` setting, or the default outside mtrun."""
    getini = getattr(config, "getini", None)
    if getini is None:
        return default
    try:
        return getini(name)
    except ValueError:  # not declared: this plugin was loaded some other way
        return default


class StructlogReporter:
    """Logs the scheduler's events as JSON lines.

    ``dest``: None for stderr, ``"-"`` for stdout, else a file path (checked now, written
    from the start of each run). ``stdlib``: the tasks' ``logging`` records become lines
    too, at the loggers' levels or at ``stdlib_level`` ("INFO", ...) for the run. Works as a
    plain scheduler plugin too; each ``start()`` is then a run with its own ``run_id``.
    """

    def __init__(self, dest: Optional[str] = None, *, config: Optional[Config] = None,
                 stdlib: Optional[bool] = None, stdlib_level: Optional[str] = None) -> None:
        self.config = config
        if stdlib is None:
            stdlib = bool(_setting(config, "structlog_stdlib", False))
        level = check_level(stdlib_level if stdlib_level is not None
                            else str(_setting(config, "structlog_stdlib_level", "")))
        if dest is None or dest == STDOUT:
            if dest == STDOUT:
                claim("structlog", STDOUT, config)
            self.sink = Sink("stdout" if dest == STDOUT else "stderr", None)
        else:
            self.sink = Sink(None, check_file("structlog", dest, config))
        self.run_id: Optional[str] = getattr(config, "run_id", None)  # mtrun's, for every run
        self.fields: dict[str, Any] = {"run_id": self.run_id or uuid.uuid4().hex,
                                       "host": socket.gethostname(), "pid": os.getpid()}
        common = Common(self.fields)
        self.logger = make_logger(self.sink, common)
        self.bridge = StdlibBridge(common, level) if stdlib else None
        self.ids: dict[str, str] = {}  # task name -> node id, stable whatever the targets
        # Tasks started and not yet done: name -> [when the hook came, worker thread].
        self.started: dict[str, list[Any]] = {}
        self.held: dict[str, list[str]] = {}  # node id -> lines its body logged (stdlib)
        self.scope = TaskScope(self.fields)
        self.scopes: Optional[list[Any]] = None  # the scheduler's, while we are in it

    @hookimpl(optionalhook=True)
    def threaded_order_cli_claims_terminal(self) -> bool:
        """On stdout, the terminal reporter's ``.F s`` characters would land inside our
        lines."""
        return self.sink.stream == "stdout"

    @hookimpl
    def threaded_order_scheduler_start(self, meta: dict[str, Any], scheduler: Any) -> None:
        self.fields["run_id"] = self.run_id or uuid.uuid4().hex
        self.fields["pid"] = os.getpid()
        self.ids = {name: node_id(name, task.module)
                    for name, task in scheduler.graph.nodes.items()}
        self.started = {}
        scopes = getattr(scheduler, "task_scopes", None)  # entered on the worker per body
        if isinstance(scopes, list):
            scopes.append(self.scope)
            self.scopes = scopes
        if self.bridge is not None:
            self.bridge.install()
        start = meta.get("start_time")
        self.logger.info("scheduler_start", total_tasks=meta["total_tasks"],
                         workers=meta["workers"],
                         **{AT: at_floor(start) if isinstance(start, float) else None})

    @hookimpl
    def threaded_order_task_start(self, name: str) -> None:
        self.started[name] = [time.time(), None]

    @hookimpl
    def threaded_order_task_run(self, name: str, thread: str) -> None:
        self.started.setdefault(name, [time.time(), None])[1] = thread

    @hookimpl
    def threaded_order_task_done(self, result: TaskResult) -> None:
        self._task_done(result)

    def _began(self, name: str, task: str, start: Optional[float]) -> None:
        """The task_start and task_run lines of a task that started, stamped with when its
        body started (else when we heard of it)."""
        heard, thread = self.started.pop(name)
        at = at_floor(start if start is not None else heard)
        self.logger.debug("task_start", task=task, **{AT: at})
        self.logger.debug("task_run", task=task, thread=thread, **{AT: at})

    def _task_done(self, result: TaskResult) -> None:
        task = self.ids.get(result.name) or result.node_id
        if result.name in self.started:
            self._began(result.name, task, result.start)
        self._drain()
        for line in self.held.pop(task, ()):
            self.sink.msg(line)
        failed = result.status == FAILED
        log = getattr(self.logger, _LEVELS.get(result.status, "info"))
        log(
            "task_done",
            task=task,
            status=result.status,
            duration=round(result.duration, 6),
            thread=result.thread or None,
            error=_error(result),
            exception=exception_dicts(result.traceback, result.error_type, result.error)
            if failed else None,
            skip_reason=result.skip_reason,
            attempts=result.attempts if result.attempts > 1 else None,
            **{AT: at_ceil(result.finish) if result.finish is not None else None},
        )

    def _drain(self) -> None:
        """Hold the lines the tasks logged through ``logging``, each until its task_done."""
        if self.bridge is not None:
            for task, line in self.bridge.drain():
                self.held.setdefault(task, []).append(line)

    def _leave(self) -> None:
        """Out of the scheduler: no more task scopes, logging as it was."""
        if self.scopes is not None:
            while self.scope in self.scopes:
                self.scopes.remove(self.scope)
            self.scopes = None
        if self.bridge is not None:
            self.bridge.remove()

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        """Cancelled tasks (never started after Ctrl-C) get no task_done hook: log them
        here, so every task has exactly one task_done line."""
        try:
            self._leave()
            for name in summary["cancelled"]:
                self._task_done(summary["tasks"][name])
            for name in list(self.started):  # started, never done (a hook failed): say so
                self._began(name, self.ids.get(name, name), None)
            self._drain()
            for lines in self.held.values():  # a timed-out body that logged after its end
                for line in lines:
                    self.sink.msg(line)
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
            self._leave()
            self.held = {}
            if self.bridge is not None:
                self.bridge.lines.clear()
            self.sink.close()

    @hookimpl(optionalhook=True)
    def threaded_order_cli_collection_error(self, path: str, message: str) -> None:
        first = message.strip().splitlines()[0] if message.strip() else "collection error"
        self.logger.error("collection_error", path=path, error=first)

    @hookimpl(optionalhook=True)
    def threaded_order_cli_unconfigure(self) -> None:
        self.sink.close()
