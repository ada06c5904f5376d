"""``Scheduler(executor=ProcessPoolExecutor(...))``: the scheduler stays here, bodies run in
pool processes. One pool for the module; tests that break it get their own."""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from threaded_order import Scheduler
from threaded_order._remote import NotPicklableError

from . import tasks


def stop(pool: ProcessPoolExecutor) -> None:
    """End the pool without waiting for abandoned (timed-out) bodies."""
    processes = list(pool._processes.values()) if pool._processes else []
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


@pytest.fixture(scope="module")
def pool():
    executor = ProcessPoolExecutor(2)
    yield executor
    stop(executor)


def test_bodies_run_in_other_processes_in_graph_order(pool):
    s = Scheduler(workers=2, executor=pool)
    events = []
    s.on_task_start(lambda name: events.append(("start", name)))
    s.on_task_done(lambda name, ok: events.append(("done", name)))
    s.register(tasks.pid, "first")
    s.register(tasks.pid, "second", after="first")
    s.register(tasks.pid, "third", after="first")
    s.register(tasks.pid, "last", after=["second", "third"])
    summary = s.start()
    assert sorted(summary["passed"]) == ["first", "last", "second", "third"]
    pids = set(s.state["results"].values())
    assert os.getpid() not in pids
    position = {event: i for i, event in enumerate(events)}
    for parent, child in [("first", "second"), ("first", "third"), ("second", "last"),
                          ("third", "last")]:
        assert position[("done", parent)] < position[("start", child)]


def test_a_state_task_gets_a_snapshot_and_only_its_return_value_comes_back(pool):
    state = {"base": 10}
    s = Scheduler(workers=2, executor=pool, state=state)
    s.register(tasks.a, "a")
    s.register(tasks.b, "b")
    s.register(tasks.add_upstream, "c", after=["a", "b"], with_state=True)
    summary = s.start()
    assert summary["passed"][-1] == "c", summary["failures"]
    assert state["results"]["c"] == {"seen": ["a", "b"], "total": 13, "lock": "RLock"}
    assert state["base"] == 10 and "extra" not in state  # mutations stay in the child
    assert state["results"]["a"] == 1


def test_unpicklable_state_value_fails_before_the_run_naming_the_key(pool):
    started = []
    s = Scheduler(executor=pool, state={"lock": threading.Lock()})
    s.on_scheduler_start(lambda meta: started.append(meta))
    s.register(tasks.returns_state, "uses_state", with_state=True)
    with pytest.raises(ValueError, match=r"state\['lock'\] cannot be pickled"):
        s.start()
    assert started == []
    # Without a with_state task the state never leaves this process.
    s2 = Scheduler(executor=pool, state={"lock": threading.Lock()})
    s2.register(tasks.one, "plain")
    assert s2.start()["passed"] == ["plain"]


def test_unpicklable_task_or_seeded_result_fails_before_the_run_naming_it(pool):
    s = Scheduler(executor=pool)
    s.register(functools.partial(tasks.fails, threading.Lock()), "holds_a_lock")
    with pytest.raises(NotPicklableError, match="task 'holds_a_lock' cannot be pickled"):
        s.start()
    s = Scheduler(executor=pool, clear_results_on_start=False)
    s.state["results"]["seeded"] = threading.Lock()
    s.register(tasks.returns_state, "t", with_state=True)
    with pytest.raises(ValueError, match=r"state\['results'\]\['seeded'\] cannot be pickled"):
        s.start()


def test_failures_carry_the_remote_traceback_and_skip_dependents(pool):
    s = Scheduler(workers=2, executor=pool, skip_dependents=True)
    s.register(tasks.fails, "fails")
    s.register(tasks.one, "after_failure", after="fails")
    s.register(tasks.exits, "exits")
    s.register(tasks.unpicklable_result, "bad_result")
    summary = s.start()
    records = summary["tasks"]
    assert summary["skipped"] == ["after_failure"]
    assert records["after_failure"].skip_reason == "dependency 'fails' failed"
    fails = records["fails"]
    assert (fails.error_type, fails.error) == ("AssertionError", "expected 42, got 41")
    assert 'tasks.py", line' in fails.traceback and "raise AssertionError" in fails.traceback
    assert "threaded_order" not in fails.traceback  # our own frames are left out
    assert (records["exits"].error_type, records["exits"].error) == ("SystemExit", "3")
    assert records["bad_result"].error_type == "TypeError"
    assert "return value of task 'bad_result' cannot be pickled" in records["bad_result"].error


def test_capture_async_retries_and_timeouts_work_remotely(pool, tmp_path):
    s = Scheduler(workers=2, executor=pool, capture=True,
                  state={"marker": str(tmp_path / "marker")})
    s.register(tasks.prints, "prints")
    s.register(tasks.sleeps_async, "async_task")
    s.register(tasks.flaky, "flaky", with_state=True, retries=1)
    s.register(tasks.hangs, "hangs", timeout=0.3)
    summary = s.start()
    records = summary["tasks"]
    assert records["prints"].stdout.startswith("to stdout from ")
    assert str(os.getpid()) not in records["prints"].stdout
    assert records["prints"].stderr == "to stderr\n"
    assert "a log record" in records["prints"].log
    assert s.state["results"]["async_task"] == "async done"
    assert records["flaky"].attempts == 2 and records["flaky"].ok
    assert records["flaky"].failed_attempts[0]["error"] == "first attempt fails"
    hangs = records["hangs"]
    assert hangs.error_type == "TimeoutError" and "timed out after 0.3s" in hangs.error
    assert summary["duration"] < 10


def test_a_crashed_pool_process_fails_its_task_and_the_run_goes_on(tmp_path):
    pool = ProcessPoolExecutor(2)
    try:
        s = Scheduler(workers=2, executor=pool)
        s.register(tasks.one, "before")
        s.register(tasks.crashes, "crash", after="before")  # alone in flight
        s.register(tasks.pid, "after_1", after="crash")
        s.register(tasks.pid, "after_2", after="crash")
        summary = s.start()
        crash = summary["tasks"]["crash"]
        assert crash.error_type == "BrokenProcessPool"
        assert "the pool was recreated and the run went on" in crash.error
        assert sorted(summary["passed"]) == ["after_1", "after_2", "before"]
        # The caller's pool is broken now; the next run replaces it again.
        assert s.start()["failed"] == ["crash"]
    finally:
        stop(pool)


def test_executor_must_be_an_executor():
    with pytest.raises(ValueError, match=r"executor must be a concurrent\.futures\.Executor"):
        Scheduler(executor="processes")  # type: ignore[arg-type]


def test_each_scheduler_ships_its_own_modules(pool, tmp_path):
    """Shipping is a Scheduler parameter, not a process-wide list: a second scheduler in the
    same process does not send (or lose) the first one's modules."""
    import importlib.util

    source = tmp_path / "shipped_only.py"
    source.write_text("def value():\n    return 'from shipped source'\n")
    spec = importlib.util.spec_from_file_location("shipped_only_xyz", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Its folder is not on the workers' path: they can only have it from the shipment.

    shipping = Scheduler(workers=1, executor=pool, ship_modules=[module])
    shipping.register(module.value, "value")
    plain = Scheduler(workers=1, executor=pool)
    plain.register(tasks.pid, "pid")
    assert plain.start()["passed"] == ["pid"]
    summary = shipping.start()
    assert summary["passed"] == ["value"], summary["failures"]
    assert shipping.state["results"]["value"] == "from shipped source"
