"""A timed-out body that outlives its run: the next ``start()`` of the same scheduler never
starts a second copy of it, and counts its group slot as taken until it really ends."""

from __future__ import annotations

import threading

from threaded_order import PASSED, SKIPPED, Scheduler

from ._support import noop

WAIT = 30.0  # seconds: a generous bound for a handshake, never a timing assertion


def _until(condition) -> None:
    """Wait (not a timing assertion) until ``condition()`` holds."""
    tick = threading.Event()
    for _ in range(int(WAIT / 0.005)):
        if condition():
            return
        tick.wait(0.005)
    raise AssertionError("condition never held")


class Stuck:
    """A body that blocks past its timeout until the test lets it go."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.started += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.gate.wait(WAIT)
        finally:
            with self.lock:
                self.running -= 1


def _ended(s: Scheduler) -> bool:
    return not s._leftovers.running


def test_a_body_still_running_is_not_started_again_by_the_next_run():
    stuck = Stuck()
    s = Scheduler(workers=2)
    s.register(stuck, "stuck", timeout=0.05)
    s.register(noop, "after_stuck", after="stuck")
    s.register(noop, "other")
    first = s.start()
    assert first["tasks"]["stuck"].error_type == "TimeoutError"
    second = s.start()  # the first body still blocks on its gate
    assert stuck.started == 1 and stuck.most == 1
    result = second["tasks"]["stuck"]
    assert result.status == SKIPPED
    assert "its body from an earlier start() timed out and is still running" in \
        result.skip_reason
    assert second["tasks"]["after_stuck"].status == SKIPPED
    assert second["tasks"]["other"].status == PASSED
    stuck.gate.set()
    _until(lambda: _ended(s))
    stuck.gate.clear()
    stuck.gate.set()  # the next body passes at once
    third = s.start()
    assert stuck.started == 2
    assert third["tasks"]["stuck"].status == PASSED
    assert third["tasks"]["after_stuck"].status == PASSED


def test_its_group_slot_stays_taken_until_it_ends_then_frees_in_the_run():
    stuck = Stuck()
    seen: dict[str, bool] = {}
    s = Scheduler(workers=3, limits={"db": 1})
    s.register(stuck, "stuck", timeout=0.05, group="db")
    first = s.start()
    assert first["tasks"]["stuck"].error_type == "TimeoutError"

    def migrate() -> None:  # in the group: must wait for the old body to end
        seen["old body ended before"] = _ended(s)

    def unblock() -> None:  # outside the group: ends the old body, then waits for its end
        stuck.gate.set()
        _until(lambda: _ended(s))

    s.register(migrate, "migrate", group="db")
    s.register(unblock, "unblock")
    second = s.start()
    assert second["tasks"]["migrate"].status == PASSED
    assert seen == {"old body ended before": True}
    assert stuck.most == 1  # "stuck" was skipped, or ran after its old body: never two at once
    assert second["tasks"]["stuck"].status in (SKIPPED, PASSED)


def test_a_group_slot_held_past_the_run_makes_its_waiters_skipped_with_a_reason():
    stuck = Stuck()
    s = Scheduler(workers=2, limits={"db": 1})
    s.register(stuck, "stuck", timeout=0.05, group="db")
    s.start()
    s.register(noop, "migrate", group="db")
    second = s.start()  # nothing ends the old body during this run
    assert stuck.started == 1  # not a second copy holding the slot either
    migrate = second["tasks"]["migrate"]
    assert migrate.status == SKIPPED
    assert "held by timed-out task 'stuck' whose body is still running" in migrate.skip_reason
    stuck.gate.set()
    _until(lambda: _ended(s))
    third = s.start()
    assert third["tasks"]["migrate"].status == PASSED
