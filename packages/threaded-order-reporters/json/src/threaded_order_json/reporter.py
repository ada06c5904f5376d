"""The JSON reporter: the whole run as one document, for scripts and dashboards.

The document follows ``schema.json`` beside this module; ``schema_version`` changes only
when a field is removed or changes meaning (new fields may appear at any version).
"""

from __future__ import annotations

import json
import platform
import re
from datetime import datetime, timezone
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
from threaded_order_cli.reporting import Destination, relative_to_rootdir

from . import SCHEMA_VERSION

if TYPE_CHECKING:
    from threaded_order.results import Summary
    from threaded_order_cli.config import Config
# "tests/test_x.py:12": a collection error's path with the line it is about.
_LOCATION = re.compile(r"^(.+):(\d+)$")


def iso_utc(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds")


def task_record(result: TaskResult) -> dict[str, Any]:
    """One task: what ran where and when, how it ended and what it printed.

    ``error`` is set only for failed tasks; a skipped, cancelled, xfailed or xpassed task
    says why in ``skip_reason`` instead. ``failed_attempts`` are the errors of earlier tries of a
    retried task (one that passed after them is flaky).
    """
    error = None
    if result.status == FAILED:
        error = {
            "type": result.error_type, "message": result.error, "traceback": result.traceback,
        }
    return {
        "id": result.node_id,
        "name": result.name,
        "module": result.module,
        "status": result.status,
        "duration": result.duration,
        "start": result.start,
        "stop": result.finish,
        "thread": result.thread or None,
        "attempts": result.attempts,
        "after": list(result.after),
        "tags": list(result.tags),
        "error": error,
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


def build_report(
    summary: Optional[Summary],
    exitcode: int,
    collection_errors: list[dict[str, Any]],
    shard: Optional[str] = None,
) -> dict[str, Any]:
    """The document; ``summary`` is None when no run happened (collection failed).
    ``shard``: ``"2/4"`` under ``mtrun --shard 2/4``."""
    tasks = list(summary["tasks"].values()) if summary else []
    counts = {s: sum(1 for t in tasks if t.status == s) for s in (PASSED, FAILED, SKIPPED,
                                                                   CANCELLED, XFAILED, XPASSED)}
    return {
        "schema_version": SCHEMA_VERSION,
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
        "tasks": [task_record(t) for t in tasks],
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

    def _write(self, summary: Optional[Summary], exitcode: int) -> None:
        shard = self.config.getoption("shard") if self.config is not None else None
        document = build_report(summary, exitcode, self.collection_errors,
                                None if shard is None else str(shard))
        self.destination.write(serialize(document))

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
