"""current_task() and the context tasks run in: ContextVars set before start() reach every
task, in plain, async and timed bodies, and a body's helper thread keeps its own task."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from threaded_order import Scheduler, Task, current_task, dmark
from threaded_order.markers import task_from_marked

from ._support import TIMEOUT

REQUEST = contextvars.ContextVar("request", default="unset")


def test_current_task_in_every_kind_of_body_and_none_outside() -> None:
    seen: dict[str, Any] = {}
    lock = threading.Lock()

    def record(key: str) -> None:
        with lock:
            seen[key] = (current_task(), REQUEST.get())

    def plain() -> None:
        record("plain")

    async def coroutine() -> None:
        record("async")

    def timed() -> None:
        record("timed")

    def retried() -> None:
        record("retried")

    token = REQUEST.set("from the caller")
    try:
        s = Scheduler(workers=3)
        s.add_tasks([Task("plain", plain, module="tests/test_x.py"),
                     Task("coroutine", coroutine),
                     Task("timed", timed, timeout=TIMEOUT),
                     Task("retried", retried, retries=2)])
        for _ in range(20):  # each start() copies the caller's context anew
            seen.clear()
            summary = s.start()
            assert summary["failed"] == []
            assert seen == {"plain": ("tests/test_x.py::plain", "from the caller"),
                            "async": ("coroutine", "from the caller"),
                            "timed": ("timed", "from the caller"),
                            "retried": ("retried", "from the caller")}
    finally:
        REQUEST.reset(token)
    assert current_task() is None


def test_a_task_setting_a_contextvar_does_not_leak_into_the_caller_or_other_runs() -> None:
    def sets() -> None:
        REQUEST.set("set by a task")

    s = Scheduler(workers=1)
    s.register(sets, "sets")
    s.start()
    assert REQUEST.get() == "unset"


def test_an_abandoned_body_keeps_its_own_task_id() -> None:
    """A timed-out body runs on; the worker moves to the next task; the body still sees
    its own id."""
    release = threading.Event()
    seen: list[Any] = []
    done = threading.Event()

    @dmark(timeout=0.05)
    def slow() -> None:
        release.wait(TIMEOUT)
        seen.append(current_task())
        done.set()

    @dmark(after="slow", with_state=False)
    def next_one() -> None:
        seen.append(current_task())

    s = Scheduler(workers=1)
    s.add_tasks([task_from_marked(slow), task_from_marked(next_one)])
    summary = s.start()
    assert summary["tasks"]["slow"].error_type == "TimeoutError"
    release.set()
    assert done.wait(TIMEOUT)
    assert seen == ["next_one", "slow"]
