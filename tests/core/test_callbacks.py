"""The original one-callback-per-event API: arguments, calling thread, errors, replacement."""

from __future__ import annotations

import logging
import threading

import pytest

from threaded_order import Scheduler, create_plugin_manager

from ._support import TIMEOUT, events_of, fail, noop, record_events


def test_callbacks_get_their_arguments_then_the_extra_ones():
    s = Scheduler(workers=2)
    s.register(noop, "a")
    s.register(fail(), "b", after="a")
    calls = []
    s.on_scheduler_start(lambda meta, extra: calls.append(("scheduler_start", meta, extra)), "x")
    s.on_task_start(lambda name, *a, **kw: calls.append(("start", name, a, kw)), 1, k=2)
    s.on_task_run(lambda name, thread, extra: calls.append(("run", name, thread, extra)), "r")
    s.on_task_done(lambda name, ok, tag=None: calls.append(("done", name, ok, tag)), tag="d")
    s.on_scheduler_done(lambda summary: calls.append(("scheduler_done", summary)))
    summary = s.start()

    kind, meta, extra = calls[0]
    assert (kind, extra) == ("scheduler_start", "x")
    assert meta["total_tasks"] == 2 and meta["workers"] == 2
    assert meta["start_time"] == summary["started_at"]
    assert ("start", "a", (1,), {"k": 2}) in calls
    runs = [c for c in calls if c[0] == "run"]
    assert [(c[1], c[3]) for c in runs] == [("a", "r"), ("b", "r")]
    assert all(c[2] in ("thread_0", "thread_1") for c in runs)
    assert ("done", "a", True, "d") in calls and ("done", "b", False, "d") in calls
    assert all(type(c[2]) is bool for c in calls if c[0] == "done")
    assert calls[-1] == ("scheduler_done", summary)


@pytest.mark.parametrize("from_main_thread", [True, False])
def test_every_callback_runs_on_the_thread_that_called_start(from_main_thread):
    s = Scheduler(workers=3)
    task_threads = []
    for i in range(9):
        s.register(lambda: task_threads.append(threading.current_thread()), f"t{i}",
                   after=[f"t{i - 3}"] if i >= 3 else None)
    s.register(fail(), "bad")
    log = record_events(s)
    outcome = {}

    def run():
        outcome["caller"] = threading.current_thread()
        outcome["summary"] = s.start()

    if from_main_thread:
        run()
    else:
        caller = threading.Thread(target=run, name="not-main")
        caller.start()
        caller.join(TIMEOUT)
        assert not caller.is_alive()
    assert outcome["summary"]["passed"]
    callback_threads = {entry[-1] for entry in log}
    assert callback_threads == {outcome["caller"]}
    assert outcome["caller"] not in task_threads
    assert len(events_of(log, "done")) == 10


def test_a_raising_callback_is_logged_recorded_and_does_not_stop_the_run(caplog):
    s = Scheduler(workers=2)
    for name in ("a", "b", "c"):
        s.register(noop, name)

    def explode(*args):
        raise RuntimeError("callback exploded")

    for setter in (s.on_scheduler_start, s.on_task_start, s.on_task_run, s.on_task_done,
                   s.on_scheduler_done):
        setter(explode)
    with caplog.at_level(logging.ERROR, logger="threaded_order"):
        summary = s.start()
    assert sorted(summary["passed"]) == ["a", "b", "c"]
    errors = summary["plugin_errors"]
    # 1 scheduler_start + 3 x (start, run, done) + 1 scheduler_done, each recorded.
    assert len(errors) == 11
    assert all("callback exploded" in e for e in errors)
    assert any(e.startswith("on_scheduler_done callback 'explode' failed: ") for e in errors)
    logged = [r for r in caplog.records if r.name == "threaded_order"]
    assert len(logged) == 11
    assert all(r.levelno == logging.ERROR for r in logged)


def test_calling_a_setter_again_replaces_the_callback():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    first, second = [], []
    s.on_task_done(lambda name, ok: first.append(name))
    s.on_task_done(lambda name, ok: second.append(name))
    s.start()
    assert first == [] and second == ["a"]


def test_setters_reject_non_callables():
    s = Scheduler(workers=1)
    for setter in (s.on_scheduler_start, s.on_task_start, s.on_task_run, s.on_task_done,
                   s.on_scheduler_done):
        with pytest.raises(ValueError):
            setter("not callable")


def test_scheduler_callbacks_fire_for_an_empty_graph():
    s = Scheduler(workers=2)
    log = record_events(s)
    summary = s.start()
    assert [e[0] for e in log] == ["scheduler_start", "scheduler_done"]
    assert log[0][1]["total_tasks"] == 0
    assert summary["ran"] == [] and summary["text"].startswith("==== 0 passed, 0 failed")


def test_schedulers_sharing_a_plugin_manager_only_fire_their_own_callbacks():
    """One scheduler's callbacks must not fire (or raise KeyError) in another's run."""
    pm = create_plugin_manager()
    one = Scheduler(workers=1, plugin_manager=pm)
    two = Scheduler(workers=1, plugin_manager=pm)
    one.register(noop, "one_task")
    two.register(noop, "two_task")
    seen = []
    one.on_task_start(lambda name: seen.append(("one", name)))
    two.on_task_done(lambda name, ok: seen.append(("two", name)))
    summary = one.start()
    assert summary["plugin_errors"] == []
    assert seen == [("one", "one_task")]
    summary = two.start()
    assert summary["plugin_errors"] == []
    assert seen == [("one", "one_task"), ("two", "two_task")]
