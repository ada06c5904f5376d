"""Shared state, stored results, the summary dict, TaskResult records and exit_status."""

from __future__ import annotations

import json
import re
import threading

import pytest

from threaded_order import PluginManager, Scheduler, TaskResult, exit_status

from ._support import TIMEOUT, fail, noop


def test_the_state_dict_is_used_by_identity_with_an_rlock():
    state = {"config": 1}
    s = Scheduler(workers=2, state=state)
    seen = []
    s.register(lambda st: seen.append(st), "a", with_state=True)
    s.start()
    assert s.state is state and seen == [state]
    assert isinstance(state["_state_lock"], type(threading.RLock()))
    assert state["config"] == 1


class CountingLock:
    """A user-supplied lock that counts how often the scheduler takes it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.entered = 0

    def __enter__(self):
        self._lock.acquire()
        self.entered += 1
        return self

    def __exit__(self, *exc):
        self._lock.release()


def test_a_user_supplied_state_lock_is_kept_and_used():
    lock = CountingLock()
    s = Scheduler(workers=2, state={"_state_lock": lock})
    for name in ("a", "b", "c"):
        s.register(noop, name)
    s.start()
    assert s.state["_state_lock"] is lock
    assert lock.entered >= 3  # at least once per stored result


def test_results_are_stored_before_the_done_event_and_dependents_see_them():
    s = Scheduler(workers=4)
    names = [f"t{i}" for i in range(40)]
    for i, name in enumerate(names):
        s.register(lambda st, i=i: (i, st["results"].get(f"t{i - 4}", "missing")), name,
                   after=[f"t{i - 4}"] if i >= 4 else None, with_state=True)
    seen_at_done = {}
    s.on_task_done(lambda name, ok: seen_at_done.__setitem__(name, s.state["results"].get(name)))
    s.start()
    results = s.state["results"]
    for i, name in enumerate(names):
        assert seen_at_done[name] == results[name]
        upstream = results.get(f"t{i - 4}") if i >= 4 else "missing"
        assert results[name] == (i, upstream)


def test_none_is_stored_and_failures_store_nothing():
    s = Scheduler(workers=1)
    s.register(noop, "nothing")
    s.register(fail(), "broken")
    s.start()
    assert s.state["results"] == {"nothing": None}


def test_clear_results_on_start_clears_the_same_dict_in_place():
    s = Scheduler(workers=1)
    s.register(lambda: 1, "a")
    results = s.state["results"]
    results["stale"] = "old"
    s.start()
    assert s.state["results"] is results
    assert results == {"a": 1}


def test_clear_results_on_start_false_keeps_old_results():
    s = Scheduler(workers=1, state={"results": {"stale": "old"}}, clear_results_on_start=False)
    s.register(lambda: 1, "a")
    s.start()
    assert s.state["results"] == {"stale": "old", "a": 1}


def test_store_results_false_stores_nothing():
    s = Scheduler(workers=1, store_results=False)
    s.register(lambda: 1, "a")
    summary = s.start()
    assert summary["passed"] == ["a"]
    assert "results" not in s.state
    given = {"results": {}}
    t = Scheduler(workers=1, state=given, store_results=False)
    t.register(lambda: 1, "a")
    t.start()
    assert given["results"] == {}


def test_summary_has_every_key_and_consistent_lists():
    s = Scheduler(workers=2, skip_dependents=True)
    s.register(lambda: 1, "good", tags=("fast",), module="pkg.mod")
    s.register(fail("bad value"), "bad")
    s.register(noop, "after_bad", after="bad")
    summary = s.start()
    assert set(summary) >= {
        "ran", "passed", "failed", "skipped", "cancelled", "interrupted", "failures",
        "failure_counts", "started_at", "finished_at", "duration", "text", "tasks",
        "plugin_errors",
    }
    assert summary["passed"] == ["good"]
    assert summary["failed"] == ["bad"]
    assert summary["skipped"] == ["after_bad"]
    assert summary["cancelled"] == [] and summary["interrupted"] is False
    assert sorted(summary["ran"]) == ["bad", "good"]
    assert summary["failures"] == {"bad": {"error_type": "ValueError", "error": "bad value"}}
    assert summary["failure_counts"] == {"ValueError": 1}
    assert summary["started_at"] <= summary["finished_at"]
    assert summary["duration"] >= 0
    assert re.fullmatch(r"==== 1 passed, 1 failed, 1 skipped in \d+\.\d\ds ====", summary["text"])
    assert set(summary["tasks"]) == {"good", "bad", "after_bad"}
    assert exit_status(summary) == 1


def test_task_result_records_what_happened():
    s = Scheduler(workers=2, skip_dependents=True)
    s.register(lambda: 1, "good", tags=("fast",), module="pkg.mod")
    s.register(fail("bad value"), "bad")
    s.register(noop, "after_bad", after="bad")
    tasks = s.start()["tasks"]

    good = tasks["good"]
    assert isinstance(good, TaskResult)
    assert good.status == "passed" and good.ok is True
    assert re.fullmatch(r"thread_[01]", good.thread)
    assert good.start <= good.finish and good.duration >= 0
    assert good.error_type is None and good.error is None and good.traceback is None
    assert good.skip_reason is None and good.attempts == 1
    assert (good.module, good.tags, good.after) == ("pkg.mod", ("fast",), ())
    assert (good.stdout, good.stderr, good.log) == ("", "", "")

    bad = tasks["bad"]
    assert bad.status == "failed" and bad.ok is False
    assert (bad.error_type, bad.error) == ("ValueError", "bad value")
    assert "ValueError: bad value" in bad.traceback and "in task" in bad.traceback

    skipped = tasks["after_bad"]
    assert skipped.status == "skipped" and skipped.ok is False
    assert "'bad'" in skipped.skip_reason and skipped.attempts == 0
    assert skipped.thread == "" and skipped.after == ("bad",)


def test_as_dict_is_json_ready():
    s = Scheduler(workers=1)
    s.register(lambda: 1, "a", tags=("x", "y"))
    s.register(noop, "b", after="a")
    data = s.start()["tasks"]["b"].as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["after"] == ["a"] and data["status"] == "passed"
    assert s.start()["tasks"]["a"].as_dict()["tags"] == ["x", "y"]
    assert set(data) >= {
        "status", "duration", "start", "finish", "thread", "error_type", "error", "traceback",
        "skip_reason", "attempts", "module", "tags", "after", "stdout", "stderr", "log",
    }


def test_exit_status_follows_pytest_codes():
    assert exit_status({"failed": [], "interrupted": False}) == 0
    assert exit_status({"failed": ["a"], "interrupted": False}) == 1
    assert exit_status({"failed": ["a"], "interrupted": True}) == 2
    assert exit_status({"failed": [], "interrupted": True}) == 2


def test_a_second_start_runs_everything_again_from_a_clean_slate():
    s = Scheduler(workers=2)
    calls = []
    flaky_runs = []

    def flaky():
        flaky_runs.append(1)
        if len(flaky_runs) == 1:
            raise RuntimeError("first time only")
        return "fine"

    s.register(lambda: calls.append("a") or "a", "a")
    s.register(flaky, "flaky", after="a")
    s.register(lambda: calls.append("c"), "c", after="flaky")
    first = s.start()
    assert first["failed"] == ["flaky"] and first["passed"] == ["a", "c"]
    second = s.start()
    assert second["failed"] == [] and second["failures"] == {}
    assert second["passed"] == ["a", "flaky", "c"]
    assert calls == ["a", "c", "a", "c"]
    assert s.state["results"] == {"a": "a", "flaky": "fine", "c": None}
    assert first["tasks"]["flaky"].status == "failed"  # the first summary is untouched


def test_start_while_another_start_is_setting_up_raises():
    """The already-running check must hold while the first start() is still setting up."""
    inside, proceed = threading.Event(), threading.Event()

    class SlowCheck(PluginManager):
        calls = 0

        def check_pending(self):
            SlowCheck.calls += 1
            if SlowCheck.calls == 1:  # the first start() pauses here, before any task runs
                inside.set()
                assert proceed.wait(TIMEOUT)
            super().check_pending()

    s = Scheduler(workers=1, plugin_manager=SlowCheck())
    s.register(noop, "a")
    first = {}
    thread = threading.Thread(target=lambda: first.setdefault("summary", s.start()))
    thread.start()
    try:
        assert inside.wait(TIMEOUT)
        with pytest.raises(RuntimeError, match="already running"):
            s.start()
    finally:
        proceed.set()
        thread.join(TIMEOUT)
    assert first["summary"]["passed"] == ["a"]


def test_start_from_a_callback_during_the_run_is_refused():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    s.on_task_done(lambda name, ok: s.start())
    summary = s.start()
    assert summary["passed"] == ["a"]
    assert len(summary["plugin_errors"]) == 1 and "already running" in summary["plugin_errors"][0]
