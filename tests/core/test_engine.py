"""The engine: ordering, concurrency, worker limit, BaseException, skip_dependents, max_failures."""

from __future__ import annotations

import random
import re
import threading

import pytest

from threaded_order import Scheduler

from ._support import TIMEOUT, accounted, events_of, fail, noop, record_events


def test_an_empty_scheduler_returns_at_once():
    summary = Scheduler(workers=4).start()
    assert summary["ran"] == [] and summary["tasks"] == {}
    assert summary["interrupted"] is False


class Custom(BaseException):
    """A BaseException that is not one of the usual ones, like GeneratorExit."""


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), Custom("odd")])
def test_a_task_raising_base_exception_is_that_tasks_failure(exc):
    """One worker: if the exception killed it, the next task would never run and start() hang."""
    s = Scheduler(workers=1)

    def explode():
        raise exc

    s.register(explode, "explode")
    s.register(noop, "dependent", after="explode")
    s.register(noop, "independent")
    summary = s.start()
    assert summary["failed"] == ["explode"]
    assert summary["failures"]["explode"]["error_type"] == type(exc).__name__
    assert sorted(summary["passed"]) == ["dependent", "independent"]


def test_ready_tasks_are_taken_in_registration_order():
    s = Scheduler(workers=1)
    order = ["e", "b", "d", "a", "c"]
    for name in order:
        s.register(noop, name)
    assert s.start()["ran"] == order

    t = Scheduler(workers=1)
    t.register(noop, "x")
    t.register(noop, "z")
    t.register(noop, "y", after="x")  # ready after x, but registered after z
    t.register(noop, "w", after="x")
    assert t.start()["ran"] == ["x", "z", "y", "w"]


def _random_graph(seed: int, size: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(size)]
    return [(name, rng.sample(names[:i], min(i, rng.randint(0, 3)))) for i, name in
            enumerate(names)]


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_event_order_follows_the_graph(workers):
    graph = _random_graph(seed=workers, size=80)
    s = Scheduler(workers=workers)
    for name, after in graph:
        s.register(noop, name, after=after)
    log = record_events(s)
    summary = s.start()
    assert len(summary["passed"]) == 80
    position = {}
    for i, event in enumerate(log):
        if event[0] in ("start", "run", "done"):
            assert (event[0], event[1]) not in position, "an event fired twice"
            position[(event[0], event[1])] = i
    for name, after in graph:
        assert position["start", name] < position["run", name] < position["done", name]
        for dep in after:
            assert position["done", dep] < position["start", name]
    assert events_of(log, "done") == summary["ran"]


def test_workers_are_named_and_never_exceeded_and_really_overlap():
    """Each round of 3 tasks meets at a 3-party barrier, so they must run at once."""
    workers = 3
    s = Scheduler(workers=workers)
    barrier = threading.Barrier(workers)
    lock = threading.Lock()
    running = [0]
    peak = [0]
    threads = set()

    def task():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.current_thread().name)
        barrier.wait(timeout=TIMEOUT)
        with lock:
            running[0] -= 1

    for i in range(12):
        s.register(task, f"t{i}")
    summary = s.start()
    assert summary["failed"] == [], summary["failures"]
    assert peak[0] == workers
    assert threads == {"thread_0", "thread_1", "thread_2"}


def test_dependents_released_together_run_together():
    """Idle workers are woken when one finished task makes several others ready at once."""
    s = Scheduler(workers=3)
    barrier = threading.Barrier(3)
    s.register(noop, "root")
    after = ["root"]
    for level in range(3):  # each level waits for the whole level before it
        names = [f"{name}{level}" for name in ("x", "y", "z")]
        for name in names:
            s.register(lambda: barrier.wait(timeout=TIMEOUT), name, after=after)
        after = names
    summary = s.start()
    assert summary["failed"] == [], summary["failures"]
    assert len(summary["passed"]) == 10


def test_no_more_threads_than_tasks():
    s = Scheduler(workers=8)
    barrier = threading.Barrier(2)
    names = []

    def task():
        names.append(threading.current_thread().name)
        barrier.wait(timeout=TIMEOUT)

    s.register(task, "a")
    s.register(task, "b")
    summary = s.start()
    assert summary["failed"] == []
    assert sorted(names) == ["thread_0", "thread_1"]


def test_dependents_still_run_after_a_failure_by_default():
    s = Scheduler(workers=2)
    s.register(fail(), "a")
    s.register(noop, "b", after="a")
    s.register(noop, "c", after="b")
    summary = s.start()
    assert summary["failed"] == ["a"]
    assert summary["passed"] == ["b", "c"]
    assert summary["skipped"] == []


def test_skip_dependents_skips_every_transitive_dependent_naming_the_root():
    s = Scheduler(workers=3, skip_dependents=True)
    s.register(fail(), "a")
    s.register(noop, "e")
    s.register(noop, "b", after="a")
    s.register(noop, "c", after="b")
    s.register(noop, "d", after=["c", "e"])
    s.register(noop, "g", after=["b", "c"])  # reached by two paths, recorded once
    s.register(noop, "f")
    log = record_events(s)
    summary = s.start()
    assert summary["failed"] == ["a"]
    assert sorted(summary["passed"]) == ["e", "f"]
    assert sorted(summary["skipped"]) == ["b", "c", "d", "g"]
    for name in ("b", "c", "d", "g"):
        reason = summary["tasks"][name].skip_reason
        assert "'a'" in reason and "'b'" not in reason and "'c'" not in reason
        assert name not in events_of(log, "start") and name not in events_of(log, "run")
        assert [e[2] for e in log if e[0] == "done" and e[1] == name] == [False]
    assert sorted(accounted(summary)) == sorted(s.graph.nodes)


def test_a_dependent_is_skipped_even_if_its_other_dependency_finishes_later():
    """z waits for x (fails) and y (still running when x fails); z must still be skipped."""
    s = Scheduler(workers=2, skip_dependents=True)
    y_started, x_done = threading.Event(), threading.Event()

    def x():
        assert y_started.wait(TIMEOUT)
        raise ValueError("x fails while y runs")

    def y():
        y_started.set()
        assert x_done.wait(TIMEOUT)

    s.register(x, "x")
    s.register(y, "y")
    s.register(noop, "z", after=["x", "y"])
    s.on_task_done(lambda name, ok: name == "x" and x_done.set())
    summary = s.start()
    assert summary["failed"] == ["x"] and summary["passed"] == ["y"]
    assert summary["skipped"] == ["z"]
    assert "'x'" in summary["tasks"]["z"].skip_reason


def test_max_failures_stops_starting_new_tasks():
    s = Scheduler(workers=1, max_failures=2)
    started = []
    s.register(fail(), "f1")
    s.register(noop, "p")
    s.register(fail(), "f2")
    for name in ("x", "y"):
        s.register(lambda name=name: started.append(name), name)
    s.register(noop, "z", after="x")
    summary = s.start()
    assert summary["failed"] == ["f1", "f2"] and summary["passed"] == ["p"]
    assert started == []
    assert sorted(summary["skipped"]) == ["x", "y", "z"]
    for name in ("x", "y", "z"):
        assert re.search(r"\b2 failures\b", summary["tasks"][name].skip_reason)
    assert sorted(accounted(summary)) == sorted(s.graph.nodes)


def test_max_failures_lets_running_tasks_finish():
    """slow is running when fast fails; it finishes and counts, nothing else starts."""
    s = Scheduler(workers=2, max_failures=1)
    slow_started, failed = threading.Event(), threading.Event()

    def fast():
        assert slow_started.wait(TIMEOUT)
        raise ValueError("fast fails while slow runs")

    def slow():
        slow_started.set()
        assert failed.wait(TIMEOUT)

    s.register(fast, "fast")
    s.register(slow, "slow")
    s.register(noop, "later")
    s.register(noop, "after_slow", after="slow")
    s.on_task_done(lambda name, ok: name == "fast" and failed.set())
    summary = s.start()
    assert summary["failed"] == ["fast"] and summary["passed"] == ["slow"]
    assert sorted(summary["skipped"]) == ["after_slow", "later"]
    assert summary["interrupted"] is False
