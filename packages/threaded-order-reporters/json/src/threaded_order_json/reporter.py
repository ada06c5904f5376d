"""The JSON reporter: the whole run as one document, for scripts and dashboards.

The document follows ``schema.json`` beside this module; ``schema_version`` changes only
when a field is removed or changes meaning (new fields may appear at any version).
"""

from __future__ import annotations

import json
import platform
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from threaded_order import (
    CANCELLED,
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    TaskResult,
    __version__,
    exit_status,
    hookimpl,
)
from threaded_order.reporting import (
    Destination,
    crash_location,
    relative_to_rootdir,
    task_location,
)

from . import SCHEMA_VERSION

if TYPE_CHECKING:
    from threaded_order import Scheduler
    from threaded_order.results import Summary
    from threaded_order_cli.config import Config
# "tests/test_x.py:12": a collection error's path with the line it is about.
_LOCATION = re.compile(r"^(.+):(\d+)$")


def iso_utc(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


Location = Optional[tuple[str, int]]


def task_record(result: TaskResult, location: Location = None,
                rootdir: Any = None) -> dict[str, Any]:
    """One task: what ran where and when, how it ended and what it printed.

    ``location`` is where its function is defined (``path``, ``line``). ``error`` and
    ``crash`` are set only for failed tasks; a skipped, cancelled, xfailed or xpassed task
    says why in ``skip_reason`` instead. ``failed_attempts`` are the errors of earlier tries
    of a retried task (one that passed after them is flaky).
    """
    error = crash = None
    if result.status == FAILED:
        error = {
            "type": result.error_type, "message": result.error, "traceback": result.traceback,
        }
        crash = crash_record(result, location, rootdir)
    return {
        "id": result.node_id,
        "name": result.name,
        "module": result.module,
        "path": location[0] if location else None,
        "line": location[1] if location else None,
        "status": result.status,
        "duration": result.duration,
        "start": result.start,
        "stop": result.finish,
        "thread": result.thread or None,
        "attempts": result.attempts,
        "after": list(result.after),
        "tags": list(result.tags),
        "error": error,
        "crash": crash,
        "failed_attempts": [
            {"type": a.get("error_type"), "message": a.get("error"),
             "traceback": a.get("traceback")}
            for a in getattr(result, "failed_attempts", ()) or ()
        ],
        "skip_reason": result.skip_reason,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "log": result.log,
    }


def crash_record(result: TaskResult, location: Location, rootdir: Any) -> dict[str, Any]:
    """Where a failure happened, as pytest-json-report's ``crash``, and ``Type: message``:
    the innermost frame of the traceback in the task's own file. A traceback that never
    passes through that file is the runner's (a worker process that died, a timeout, a
    strict xpass): the task's ``def`` then, a line in the user's code, not in the stdlib."""
    where = crash_location(result.traceback, location[0] if location else result.module,
                           rootdir)
    if location is not None and (where is None or where[0] != location[0]):
        where = location
    kind, text = result.error_type or "Error", result.error or ""
    return {
        "path": where[0] if where else None,
        "line": where[1] if where else None,
        "message": f"{kind}: {text}" if text else kind,
    }


def locations(tasks: Iterable[Any], rootdir: Any) -> dict[str, Location]:
    """Each task's ``(path, def line)`` by name; a task with no source maps to None."""
    found: dict[str, Location] = {}
    for task in tasks:
        try:
            found[task.name] = task_location(task, rootdir)
        except Exception:  # a hostile callable must not cost the report
            found[task.name] = None
    return found


def build_report(
    summary: Optional[Summary],
    exitcode: int,
    collection_errors: list[dict[str, Any]],
    shard: Optional[str] = None,
    *,
    run_id: Optional[str] = None,
    where: Optional[Mapping[str, Location]] = None,
    rootdir: Any = None,
) -> dict[str, Any]:
    """The document; ``summary`` is None when no run happened (collection failed).
    ``shard``: ``"2/4"`` under ``mtrun --shard 2/4``; ``run_id``: mtrun's, else a new one;
    ``where``: each task's ``(path, def line)`` by name (see ``locations``), relative to
    ``rootdir``."""
    tasks = list(summary["tasks"].values()) if summary else []
    where = where or {}
    counts = {s: sum(1 for t in tasks if t.status == s) for s in (PASSED, FAILED, SKIPPED,
                                                                   CANCELLED, XFAILED, XPASSED)}
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id or uuid.uuid4().hex,
        "created": iso_utc(datetime.now(timezone.utc).timestamp()),
        "started_at": iso_utc(summary["started_at"]) if summary else None,
        "finished_at": iso_utc(summary["finished_at"]) if summary else None,
        "duration": summary["duration"] if summary else 0.0,
        "exitcode": exitcode,
        "summary": {
            "total": len(tasks),
            **counts,
            # 2 is also an interrupt that came before the run, or after it ended.
            "interrupted": bool(summary and summary["interrupted"]) or exitcode == 2,
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "threaded_order": __version__,
        },
        "tasks": [task_record(t, where.get(t.name), rootdir) for t in tasks],
        "collection_errors": list(collection_errors),
        "plugin_errors": list(summary["plugin_errors"]) if summary else [],
        "critical_path": _entry(summary, "critical_path"),
        "efficiency": _entry(summary, "efficiency"),
        "shard": shard,
    }


def _entry(summary: Optional[Summary], key: str) -> Optional[dict[str, Any]]:
    """A summary entry the core may leave out (an older core): a copy, or None."""
    value: Any = dict(summary).get(key) if summary else None
    return dict(value) if isinstance(value, dict) and value else None


def _cwd() -> Optional[Path]:
    try:
        return Path.cwd()
    except OSError:  # removed under us: paths stay absolute
        return None


def serialize(document: dict[str, Any]) -> bytes:
    # A lone surrogate from undecodable output becomes a \\udcXX escape: still valid JSON.
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", "backslashreplace")


class JSONReporter:
    """Writes the JSON report, once.

    As a plain scheduler plugin (``Scheduler(plugins=[JSONReporter("run.json")])``) it
    writes when the run is done, with ``exitcode`` from ``exit_status(summary)``. Under
    ``mtrun`` (``config`` given) it writes last of all, at ``unconfigure``, with the final
    summary and the code mtrun exits with, whether a run happened or not. The file is
    replaced whole: a reader never sees half of it.
    """

    def __init__(self, dest: str = "report.json", *, config: Optional[Config] = None) -> None:
        self.destination = Destination("json", dest, config)
        self.config = config
        self.collection_errors: list[dict[str, Any]] = []
        # Paths are relative to mtrun's rootdir, or to where a plain Scheduler was set up.
        self.rootdir = getattr(config, "rootdir", None) if config is not None else _cwd()
        self.tasks: dict[str, Any] = {}  # the run's tasks by name, for where they are

    def _write(self, summary: Optional[Summary], exitcode: int) -> None:
        shard = self.config.getoption("shard") if self.config is not None else None
        tasks = {t.name: t for t in getattr(self.config, "tasks", None) or ()}
        tasks.update(self.tasks)
        document = build_report(summary, exitcode, self.collection_errors,
                                None if shard is None else str(shard),
                                run_id=getattr(self.config, "run_id", None),
                                where=locations(tasks.values(), self.rootdir),
                                rootdir=self.rootdir)
        self.destination.write(serialize(document))

    @hookimpl
    def threaded_order_scheduler_start(self, scheduler: Scheduler) -> None:
        self.tasks = dict(scheduler.graph.nodes)

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        if self.config is None:
            self._write(summary, exit_status(summary))

    @hookimpl(optionalhook=True)
    def threaded_order_cli_collection_error(self, path: str, message: str) -> None:
        """``path`` may end in ``:LINE`` (a syntax error): split into path and line."""
        line: Optional[int] = None
        match = _LOCATION.match(path or "")
        if match:
            path, line = match.group(1), int(match.group(2))
        self.collection_errors.append(
            {"path": self._relative(path), "line": line, "message": message}
        )

    @hookimpl(optionalhook=True, trylast=True)
    def threaded_order_cli_unconfigure(self, exitcode: int, summary: Optional[Summary]) -> None:
        """Last of the unconfigure hooks: mtrun hands each one the exit code as it stands,
        so ours is the code mtrun exits with, after every other reporter has written."""
        self._write(summary, exitcode)

    def _relative(self, path: str) -> str:
        return relative_to_rootdir(path, self.config)
