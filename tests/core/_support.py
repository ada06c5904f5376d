"""Helpers shared by the core tests."""

from __future__ import annotations

import threading
from typing import Any

from threaded_order import Scheduler
from threaded_order_cli.testing import TIMEOUT

__all__ = ["TIMEOUT", "accounted", "events_of", "fail", "noop", "record_events"]


def noop() -> None:
    return None


def fail(message: str = "boom") -> Any:
    def task() -> None:
        raise ValueError(message)

    return task


def record_events(s: Scheduler) -> list[tuple[Any, ...]]:
    """Set all five callbacks; each appends (event, name-or-payload, ..., calling thread)."""
    log: list[tuple[Any, ...]] = []

    def here() -> threading.Thread:
        return threading.current_thread()

    s.on_scheduler_start(lambda meta: log.append(("scheduler_start", meta, here())))
    s.on_task_start(lambda name: log.append(("start", name, here())))
    s.on_task_run(lambda name, thread: log.append(("run", name, thread, here())))
    s.on_task_done(lambda name, ok: log.append(("done", name, ok, here())))
    s.on_scheduler_done(lambda summary: log.append(("scheduler_done", summary, here())))
    return log


def events_of(log: list[tuple[Any, ...]], kind: str) -> list[Any]:
    """The task names of one kind of event, in the order they fired."""
    return [e[1] for e in log if e[0] == kind]


def accounted(summary: dict[str, Any]) -> list[str]:
    return summary["passed"] + summary["failed"] + summary["skipped"] + summary["cancelled"]
