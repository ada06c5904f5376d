"""The engine's performance shortcuts give the same answers as the general code they skip."""

from __future__ import annotations

import functools
import inspect

import pytest

from threaded_order import Scheduler, Task
from threaded_order._policies import for_tasks
from threaded_order.graph import DAGraph, is_async, normalize_after
from threaded_order.results import PASSED, TaskResult

from ._support import TIMEOUT, noop


def _for(c, retries, timeout):
    return for_tasks(c.tasks, c.is_async, retries, timeout)


def test_the_fast_passed_record_sets_every_slot_as_init_would():
    fast = TaskResult._passed("t", "thread_1", 1.0, 2.5, 1.5, 1, "mod", ("x",), ("a",))
    slow = TaskResult("t", PASSED, thread="thread_1", start=1.0, finish=2.5, duration=1.5,
                      attempts=1, module="mod", tags=("x",), after=("a",))
    for slot in TaskResult.__slots__:  # a slot added to __init__ only would fail here
        assert getattr(fast, slot) == getattr(slow, slot), slot
    assert fast.as_dict() == slow.as_dict()


def test_initial_and_released_tasks_still_run_lowest_index_first():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    s.register(noop, "b", after="a")  # released by a; lower index than c and d
    s.register(noop, "c")
    s.register(noop, "d", after="c")
    s.register(noop, "e")
    assert s.start()["ran"] == ["a", "b", "c", "d", "e"]

    t = Scheduler(workers=1)  # a forward dependency: released after every initial task
    t.add_tasks([Task("late", noop, ("z",)), Task("y", noop), Task("z", noop)])
    assert t.start()["ran"] == ["y", "z", "late"]


def test_leaves_share_an_empty_dependents_tuple_and_runs_can_repeat():
    g = DAGraph()
    for name, after in (("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ())):
        g.add(Task(name, noop, after))
    compiled = g.compile()
    assert compiled.dependents == [[1, 2], (), (), ()]
    s = Scheduler(workers=2)
    for name, after in (("a", None), ("b", "a"), ("c", "a"), ("d", None)):
        s.register(noop, name, after=after)
    for _ in range(3):  # the compiled graph is reused: the engine must not change it
        assert sorted(s.start()["passed"]) == ["a", "b", "c", "d"]


def test_after_is_deduplicated_in_first_seen_order():
    assert normalize_after("x", ["b", "a", "b", "c", "a"]) == ("b", "a", "c")
    assert normalize_after("x", ("a",)) == ("a",)
    assert normalize_after("x", iter(["a", "a"])) == ("a",)


def test_a_wide_fan_in_registers_and_runs():
    s = Scheduler(workers=4)
    names = [f"t{i}" for i in range(3000)]
    for name in names:
        s.register(noop, name)
    s.register(noop, "sink", after=names + names[:10])
    summary = s.start()
    assert summary["ran"][-1] == "sink" and len(summary["passed"]) == 3001


async def _coroutine_function() -> None:
    return None


class _AsyncCallable:
    async def __call__(self) -> None:
        return None


def _plain() -> None:
    return None


def _with_attribute() -> None:
    return None


_with_attribute.note = "set"  # type: ignore[attr-defined]


@functools.wraps(_coroutine_function)
def _wrapped_sync() -> None:
    return None


async def _async_generator():  # type: ignore[no-untyped-def]
    yield 1


@pytest.mark.parametrize("func", [
    _plain, _coroutine_function, _AsyncCallable(), _with_attribute, _wrapped_sync,
    _async_generator, lambda: None, functools.partial(_coroutine_function), print,
])
def test_is_async_agrees_with_inspect(func):
    slow = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None))  # noqa: B004
    assert is_async(func) == slow


def test_no_policy_anywhere_is_the_fast_path_and_any_policy_is_not():
    def compiled(**policy):
        g = DAGraph()
        g.add(Task("a", noop))
        g.add(Task("b", noop, **policy))
        return g.compile()

    assert _for(compiled(), 0, None) is None
    assert _for(compiled(retries=0), 0, None) is None
    assert _for(compiled(retries=2), 0, None)[1].retries == 2
    assert _for(compiled(timeout=1.0), 0, None)[1].timeout == 1.0
    assert _for(compiled(), 1, None)[0].retries == 1
    assert _for(compiled(), 0, 5.0)[0].timeout == 5.0
    assert _for(compiled(retries=0), 3, None)[1] is None


def test_the_run_mutex_excludes_and_works_with_a_condition():
    import threading
    import time

    from threaded_order._mutex import Mutex

    mutex = Mutex()
    count = [0]

    def bump():
        for _ in range(300):
            with mutex:
                seen = count[0]
                time.sleep(0)  # let another thread in, were the mutex not exclusive
                count[0] = seen + 1

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count[0] == 1200
    assert mutex.acquire(blocking=False) and not mutex.acquire(blocking=False)
    assert not mutex.acquire(timeout=0.01)
    mutex.release()

    cond = threading.Condition(mutex)
    box: list[int] = []

    def produce():
        with cond:
            box.append(1)
            cond.notify()

    with cond:
        threading.Thread(target=produce).start()
        assert cond.wait_for(lambda: box, timeout=TIMEOUT)
    with pytest.raises(RuntimeError):
        cond.notify()  # not held
