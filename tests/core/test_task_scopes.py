"""``Scheduler.task_scopes``: context managers a plugin enters on the worker around each
body, so a ContextVar it sets there is what the body sees (and nothing leaks between tasks)."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar

from threaded_order import FAILED, PASSED, Scheduler, hookimpl

BOUND: ContextVar[str] = ContextVar("bound", default="")


class Binder:
    """A plugin that binds each task's node id while its body runs."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.exited: list[str] = []

    @contextlib.contextmanager
    def scope(self, node: str):
        token = BOUND.set(node)
        self.entered.append(node)
        try:
            yield
        finally:
            BOUND.reset(token)
            self.exited.append(node)

    @hookimpl
    def threaded_order_scheduler_start(self, meta, scheduler):
        scheduler.task_scopes.append(self.scope)

    @hookimpl
    def threaded_order_scheduler_done(self, summary):
        self.done = True


def test_each_body_sees_its_own_node_id_and_nothing_leaks():
    binder = Binder()
    s = Scheduler(workers=2, plugins=[binder])
    names = [f"t{i}" for i in range(40)]
    for name in names:
        s.register(lambda state, n=name: BOUND.get(), name, with_state=True,
                   module="tests/test_x.py")
    summary = s.start()
    assert len(summary["passed"]) == len(names)
    assert {n: s.state["results"][n] for n in names} == \
        {n: f"tests/test_x.py::{n}" for n in names}
    assert sorted(binder.entered) == sorted(binder.exited) == \
        sorted(f"tests/test_x.py::{n}" for n in names)
    assert BOUND.get() == ""  # the caller's context is untouched


def test_a_body_with_a_timeout_and_an_async_body_see_it_too():
    s = Scheduler(workers=2, plugins=[Binder()])

    async def coroutine():
        await asyncio.sleep(0)
        return BOUND.get()

    s.register(lambda: BOUND.get(), "timed", timeout=30)
    s.register(coroutine, "coro")
    s.start()
    assert s.state["results"] == {"timed": "timed", "coro": "coro"}


def test_a_scope_that_raises_fails_its_task_and_the_run_goes_on():
    class Broken(Binder):
        @contextlib.contextmanager
        def scope(self, node):
            if node == "bad":
                raise RuntimeError("scope broke")
            yield

    s = Scheduler(workers=2, plugins=[Broken()])
    s.register(lambda: None, "bad")
    s.register(lambda: None, "good")
    summary = s.start()
    assert summary["tasks"]["bad"].status == FAILED
    assert "scope broke" in (summary["tasks"]["bad"].error or "")
    assert summary["tasks"]["good"].status == PASSED


def test_without_scopes_the_list_is_empty_each_run():
    s = Scheduler(workers=1)
    s.register(lambda: BOUND.get(), "plain")
    s.start()
    assert s.task_scopes == [] and s.state["results"]["plain"] == ""
