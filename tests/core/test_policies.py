"""Task policies: retries, timeouts, exclusive groups and async tasks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from threaded_order import Scheduler, TaskGraphError, dmark, register_marked

from ._support import TIMEOUT


def test_retried_task_passes_with_attempts_and_dependents_see_final_result():
    s = Scheduler(workers=2)
    calls = []

    @s.dregister(retries=3)
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ValueError(f"attempt {len(calls)}")
        return f"ok after {len(calls)}"

    @s.dregister(after="flaky", with_state=True)
    def dependent(state):
        return state["results"]["flaky"]

    summary = s.start()
    result = summary["tasks"]["flaky"]
    assert result.status == "passed" and result.attempts == 3
    assert [a["error"] for a in result.failed_attempts] == ["attempt 1", "attempt 2"]
    assert "ValueError: attempt 1" in result.failed_attempts[0]["traceback"]
    assert s.state["results"]["dependent"] == "ok after 3"


def test_retries_exhausted_fail_with_last_error():
    s = Scheduler(workers=1, retries=1)  # the scheduler's default applies
    calls = []

    @s.dregister()
    def always():
        calls.append(1)
        raise RuntimeError(f"try {len(calls)}")

    summary = s.start()
    assert summary["failures"] == {"always": {"error_type": "RuntimeError", "error": "try 2"}}
    assert summary["tasks"]["always"].attempts == 2


def test_task_retries_override_scheduler_default():
    s = Scheduler(workers=1, retries=5)
    calls = []

    @s.dregister(retries=0)
    def once():
        calls.append(1)
        raise RuntimeError("no retry")

    s.start()
    assert len(calls) == 1


def test_timed_out_task_fails_and_never_blocks_the_run():
    release = threading.Event()
    s = Scheduler(workers=1, skip_dependents=True)

    @s.dregister(timeout=0.05)
    def stuck():
        release.wait(TIMEOUT)

    @s.dregister(after="stuck")
    def dependent():
        pass

    @s.dregister()
    def other():
        return "ran"

    try:
        summary = s.start()
    finally:
        release.set()
    stuck_result = summary["tasks"]["stuck"]
    assert stuck_result.error_type == "TimeoutError"
    assert "'stuck' timed out after 0.05s" in stuck_result.error
    assert "release.wait" in stuck_result.traceback  # where the task was stuck
    assert summary["skipped"] == ["dependent"]
    assert s.state["results"] == {"other": "ran"}  # one worker, still free after the timeout


def test_timeout_within_limit_passes_and_keeps_result_and_capture():
    s = Scheduler(workers=1, timeout=TIMEOUT, capture=True)

    @s.dregister()
    def quick():
        print("inside")
        return 42

    summary = s.start()
    assert s.state["results"]["quick"] == 42
    assert summary["tasks"]["quick"].stdout == "inside\n"


def test_group_limit_is_never_exceeded():
    s = Scheduler(workers=4, limits={"db": 2})
    lock = threading.Lock()
    active, peak = [0], [0]
    both_in = threading.Barrier(2)

    def db_task():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        both_in.wait(TIMEOUT)  # two group tasks really overlap
        with lock:
            active[0] -= 1

    for i in range(6):
        s.register(db_task, f"db{i}", group="db")
    summary = s.start()
    assert len(summary["passed"]) == 6
    assert peak[0] == 2


def test_group_without_limit_is_exclusive():
    s = Scheduler(workers=3)
    lock = threading.Lock()
    active, peak = [0], [0]

    def task():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        with lock:
            active[0] -= 1

    for i in range(20):
        s.register(task, f"t{i}", group="serial")
    s.start()
    assert peak[0] == 1


def test_task_blocked_by_its_group_never_holds_a_worker_idle():
    """db1 holds the group until `free` has run; with two workers `free` must get the
    second worker although db2 (registered first) is waiting for the group."""
    s = Scheduler(workers=2)
    free_ran = threading.Event()

    @s.dregister(group="db")
    def db1():
        assert free_ran.wait(TIMEOUT), "a group-blocked task held the only other worker"

    @s.dregister(group="db")
    def db2():
        pass

    @s.dregister()
    def free():
        free_ran.set()

    summary = s.start()
    assert sorted(summary["passed"]) == ["db1", "db2", "free"]


def test_async_task_results_state_and_order():
    s = Scheduler(workers=2)

    @s.dregister()
    async def fetch():
        await asyncio.sleep(0)
        return "data"

    @s.dregister(after="fetch", with_state=True)
    async def use(state):
        return state["results"]["fetch"] + "!"

    summary = s.start()
    assert summary["passed"] == ["fetch", "use"]
    assert s.state["results"] == {"fetch": "data", "use": "data!"}


def test_async_task_overlaps_with_others():
    s = Scheduler(workers=2)
    meet = threading.Barrier(2)

    @s.dregister()
    async def async_side():
        await asyncio.to_thread(meet.wait, TIMEOUT)

    @s.dregister()
    def sync_side():
        meet.wait(TIMEOUT)

    assert len(s.start()["passed"]) == 2


def test_async_timeout_cancels_the_coroutine_and_retries_apply():
    s = Scheduler(workers=1)
    cancelled = []
    calls = []

    @s.dregister(timeout=0.05, retries=1)
    async def slow():
        calls.append(1)
        try:
            await asyncio.sleep(TIMEOUT)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise

    summary = s.start()
    assert summary["tasks"]["slow"].error_type == "TimeoutError"
    assert summary["tasks"]["slow"].attempts == 2
    assert len(calls) == 2 and len(cancelled) == 2


def test_async_failure_is_recorded():
    s = Scheduler(workers=1)

    @s.dregister()
    async def broken():
        raise KeyError("missing")

    summary = s.start()
    assert summary["failures"]["broken"]["error_type"] == "KeyError"


def test_policies_from_dmark(tmp_path, monkeypatch):
    path = tmp_path / "policy_mod.py"
    path.write_text(
        "from threaded_order import dmark\n"
        "calls = []\n"
        "@dmark(retries=1, timeout=5, group='g')\n"
        "def flaky():\n"
        "    calls.append(1)\n"
        "    if len(calls) == 1:\n"
        "        raise ValueError('once')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import policy_mod

    s = Scheduler(workers=1)
    register_marked(s, policy_mod)
    summary = s.start()
    assert summary["tasks"]["flaky"].attempts == 2 and summary["passed"] == ["flaky"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"retries": -1}, "retries"),
        ({"retries": True}, "retries"),
        ({"retry_delay": -1}, "retry_delay"),
        ({"timeout": 0}, "timeout"),
        ({"group": ""}, "group"),
    ],
)
def test_bad_policy_values_name_the_task(kwargs, words):
    s = Scheduler()
    with pytest.raises(TaskGraphError, match=f"'t'.*{words}"):
        s.register(lambda: None, "t", **kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"limits": {"db": 0}}, {"retries": -1}, {"timeout": -2}]
)
def test_bad_scheduler_policy_defaults(kwargs):
    with pytest.raises(ValueError):
        Scheduler(**kwargs)


def test_dmark_rejects_nothing_it_cannot_check_later():
    @dmark(retries=2, retry_delay=0.5, timeout=3, group="x")
    def f():
        pass

    assert f.__threaded_order__["retries"] == 2 and f.__threaded_order__["group"] == "x"

