"""The JUnit XML reporter: a scheduler plugin, and mtrun's ``--reporter junit``.

The document itself is built in ``report.py``; this module gathers what it needs (the
settings, where each task's function is, the run id) and writes the file once.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from threaded_order import hookimpl
from threaded_order.reporting import Destination, relative_to_rootdir, task_location

from .report import (
    CANCELLED_ERROR,
    NO_MODULE_SUITE,
    TaskInfo,
    build_report,
    classname,
    clean,
    serialize,
)
from .settings import Settings, resolve

if TYPE_CHECKING:
    from threaded_order import Scheduler
    from threaded_order.results import Summary

__all__ = ["CANCELLED_ERROR", "NO_MODULE_SUITE", "JUnitReporter", "build_report", "classname",
           "clean", "serialize"]


def _function(func: Any) -> Any:
    """The user's function inside the core's skip and xfail bodies, which keep it in
    ``.func``; ``task_location`` unwraps decorators, partials and methods itself."""
    for _ in range(4):
        if inspect.isfunction(func) or inspect.ismethod(func):
            break
        inner = getattr(func, "func", None)
        if not callable(inner):
            break
        func = inner
    return func


class JUnitReporter:
    """Writes the JUnit XML report, once.

    Works as a plain scheduler plugin (``Scheduler(plugins=[JUnitReporter("out.xml")])``):
    it writes when the run is done. Under ``mtrun`` (``config`` given) it also records
    collection errors (and any other error that stopped mtrun before its run) and writes at
    ``unconfigure``, after the terminal report, whether a run happened or not. ``dest`` and
    the settings are checked now, so a bad path or value fails before the run. The file is
    replaced whole: a reader never sees half a report.

    The keywords are pytest's settings (see ``settings.py``); one left as None comes from
    mtrun's ``-o`` / ``[tool.mtrun]``, else its default.
    """

    def __init__(
        self,
        dest: str = "junit.xml",
        *,
        config: Any = None,
        junit_family: Optional[str] = None,
        junit_logging: Optional[str] = None,
        junit_log_passing_tests: Optional[bool] = None,
        junit_suite_name: Optional[str] = None,
        junit_duration_report: Optional[str] = None,
    ) -> None:
        self.settings: Settings = resolve(config, {
            "junit_family": junit_family,
            "junit_logging": junit_logging,
            "junit_log_passing_tests": junit_log_passing_tests,
            "junit_suite_name": junit_suite_name,
            "junit_duration_report": junit_duration_report,
        })
        self.destination = Destination("junit", dest, config)
        self.config = config
        # Paths in the report are relative to mtrun's rootdir, or to where the plugin was made.
        self.rootdir = Path(getattr(config, "rootdir", None) or Path.cwd())
        self.collection_errors: list[tuple[str, str]] = []
        self.tasks: Optional[Iterable[Any]] = None  # the graph's tasks, once the run starts
        self.created = time.time()  # the report's timestamp when no run happened

    def _task_info(self) -> dict[str, TaskInfo]:
        tasks = self.tasks if self.tasks is not None else getattr(self.config, "tasks", ())
        found: dict[str, TaskInfo] = {}
        for task in tasks or ():
            name = getattr(task, "name", None)
            if isinstance(name, str):
                location = task_location(_function(getattr(task, "func", task)), self.rootdir)
                found[name] = TaskInfo(location, float(getattr(task, "retry_delay", 0) or 0))
        return found

    def _write(self, summary: Optional[Summary]) -> None:
        shard = self.config.getoption("shard") if self.config is not None else None
        shard = None if shard is None else str(shard)
        run_id = getattr(self.config, "run_id", None)
        options: dict[str, Any] = {
            "settings": self.settings, "rootdir": self.rootdir, "task_info": self._task_info(),
            "run_id": None if run_id is None else str(run_id),
        }
        if summary is None:
            root = build_report([], self.collection_errors, self.created, 0.0, shard=shard,
                                **options)
        else:
            root = build_report(list(summary["tasks"].values()), self.collection_errors,
                                summary["started_at"], summary["duration"], shard=shard,
                                **options)
        self.destination.write(serialize(root))

    @hookimpl
    def threaded_order_scheduler_start(self, meta: dict[str, Any], scheduler: Scheduler) -> None:
        self.tasks = list(scheduler.graph.nodes.values())

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        if self.config is None:
            self._write(summary)

    @hookimpl(optionalhook=True)
    def threaded_order_cli_collection_error(self, path: str, message: str) -> None:
        """``path`` may end in ``:LINE`` (a syntax error): kept, relative to the rootdir."""
        path, sep, line = (path or "").rpartition(":")
        if not (sep and line.isdigit()):
            path, sep, line = path + sep + line, "", ""
        self.collection_errors.append((relative_to_rootdir(path, self.config) + sep + line,
                                       message))

    @hookimpl(optionalhook=True)
    def threaded_order_cli_unconfigure(self, summary: Optional[Summary]) -> None:
        """The run's report; or no run happened (collection failed, nothing collected):
        still leave one, with the errors that stopped mtrun."""
        self._write(summary)
