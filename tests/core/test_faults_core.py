"""Hostile tasks, callbacks and plugins against the library: nothing hangs, nothing is lost."""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import threading

import pytest

from threaded_order import Scheduler, TaskGraphError, load_entrypoint_plugins
from threaded_order.plugins import PluginManager, create_plugin_manager

from ._support import TIMEOUT, accounted, noop


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")

    def __repr__(self):
        raise RuntimeError("no repr either")


class ExitsWhenPrinted(Exception):
    def __str__(self):
        raise SystemExit(9)

    __repr__ = __str__


@pytest.mark.parametrize("error", [Unprintable, ExitsWhenPrinted])
@pytest.mark.parametrize("policy", [{}, {"timeout": TIMEOUT}, {"retries": 1}])
def test_an_exception_that_cannot_be_printed_fails_its_task(error, policy):
    s = Scheduler(workers=2, capture=True)

    @s.dregister(**policy)
    def evil():
        raise error

    s.register(noop, "after_evil", after="evil")
    s.register(noop, "other")
    summary = s.start()
    assert summary["failed"] == ["evil"]
    result = summary["tasks"]["evil"]
    assert result.error_type == error.__name__
    assert result.error == f"<unprintable {error.__name__}>"
    assert error.__name__ in result.traceback
    assert sorted(summary["passed"]) == ["after_evil", "other"]


class _Recorder:
    def __init__(self):
        self.done = []

    def threaded_order_task_done(self, name):
        self.done.append(name)


@pytest.mark.parametrize("raised", [Unprintable(), ExitsWhenPrinted(), SystemExit(9),
                                    BaseException("bare")])
def test_a_callback_that_raises_anything_is_isolated(raised):
    recorder = _Recorder()
    s = Scheduler(workers=2, plugins=[recorder])
    for name in "abc":
        s.register(noop, name)

    def callback(name, ok):
        raise raised

    s.on_task_done(callback)
    summary = s.start()
    assert sorted(summary["passed"]) == ["a", "b", "c"]
    assert sorted(recorder.done) == ["a", "b", "c"]
    assert len(summary["plugin_errors"]) == 3
    assert all("\n" not in e for e in summary["plugin_errors"])


def test_a_ctrl_c_in_one_hook_does_not_drop_the_hooks_after_it():
    """Before: the KeyboardInterrupt left the hook and every later hook of that event
    missed the task."""
    recorder = _Recorder()
    b_runs, gate = threading.Event(), threading.Event()

    class Interrupter:
        def threaded_order_task_done(self, name):
            if name == "a":
                signal.raise_signal(signal.SIGINT)
                gate.set()  # b runs through the Ctrl-C, so it passes: one outcome

    s = Scheduler(workers=2, plugins=[recorder, Interrupter()])  # Interrupter runs first
    s.register(lambda: b_runs.set() or gate.wait(TIMEOUT), "b")
    s.register(lambda: b_runs.wait(TIMEOUT), "a")  # ends while b runs
    summary = s.start()
    assert summary["interrupted"] is True
    assert sorted(summary["passed"]) == ["a", "b"]
    assert sorted(recorder.done) == ["a", "b"]


def test_interrupt_with_cancel_from_another_thread_returns_at_once():
    release = threading.Event()
    s = Scheduler(workers=2)
    s.register(lambda: release.wait(TIMEOUT), "stuck")
    s.register(noop, "later", after="stuck")
    s.on_task_run(lambda name, thread: threading.Thread(
        target=s.interrupt, kwargs={"cancel": True}).start())
    try:
        summary = s.start()
    finally:
        release.set()
    assert summary["failed"] == ["stuck"]
    assert summary["failures"]["stuck"]["error_type"] == "CancelledError"
    assert summary["cancelled"] == ["later"] and summary["interrupted"] is True


def test_interrupt_when_nothing_runs_does_nothing():
    s = Scheduler()
    s.interrupt(cancel=True)
    s.register(noop, "a")
    assert s.start()["passed"] == ["a"]


def test_the_sigint_handler_is_restored_after_start():
    before = signal.getsignal(signal.SIGINT)
    s = Scheduler()
    s.register(lambda: signal.getsignal(signal.SIGINT), "seen")
    s.start()
    assert signal.getsignal(signal.SIGINT) is before
    assert s.state["results"]["seen"] is not before  # the relay was in place meanwhile


@pytest.mark.parametrize("bad", [math.inf, math.nan, 1e300, -1, 0, True, "1"])
def test_a_timeout_that_is_not_a_finite_number_of_seconds_is_refused(bad):
    with pytest.raises(ValueError, match="timeout"):
        Scheduler(timeout=bad)
    s = Scheduler()
    with pytest.raises(TaskGraphError, match="timeout"):
        s.register(noop, "a", timeout=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.5])
def test_a_retry_delay_that_is_not_a_number_of_seconds_is_refused(bad):
    s = Scheduler()
    with pytest.raises(TaskGraphError, match="retry_delay"):
        s.register(noop, "a", retries=1, retry_delay=bad)


def test_a_timed_out_body_keeps_its_group_slot_until_it_really_ends():
    """limits={"db": 1}: the second db task starts only after the first body has ended,
    not when the first task timed out."""
    release = threading.Event()
    inside = []
    lock = threading.Lock()
    overlap = []

    next_started = threading.Event()

    def body(name, wait):
        def run():
            with lock:
                inside.append(name)
                overlap.append(len(inside))
            if wait:
                release.wait(TIMEOUT)
            else:
                next_started.set()
            with lock:
                inside.remove(name)
        return run

    def free():
        """Ends the slow body once its task has timed out, and keeps the run going until
        the slot it held is free again and "next" has started."""
        release.set()
        next_started.wait(TIMEOUT)

    s = Scheduler(workers=3, limits={"db": 1})
    s.register(body("slow", True), "slow", group="db", timeout=0.05)
    s.register(body("next", False), "next", group="db")
    s.register(free, "free", after="slow")
    summary = s.start()
    assert summary["failures"]["slow"]["error_type"] == "TimeoutError"
    assert "next" in summary["passed"] and "free" in summary["passed"]
    assert max(overlap) == 1


def test_tasks_behind_a_slot_held_for_ever_are_reported_not_started():
    release = threading.Event()
    s = Scheduler(workers=2, limits={"db": 1})
    s.register(lambda: release.wait(TIMEOUT), "stuck", group="db", timeout=0.05)
    s.register(noop, "waits", group="db")
    s.register(noop, "behind", after="waits")
    s.register(noop, "free")
    try:
        summary = s.start()
    finally:
        release.set()
    assert summary["failed"] == ["stuck"] and summary["passed"] == ["free"]
    assert sorted(summary["skipped"]) == ["behind", "waits"]
    reason = summary["tasks"]["waits"].skip_reason
    assert "'stuck'" in reason and "'db'" in reason and "still running" in reason
    assert "'waits'" in summary["tasks"]["behind"].skip_reason
    assert sorted(accounted(summary)) == ["behind", "free", "stuck", "waits"]


def test_a_timed_out_body_is_never_retried_while_it_still_runs():
    release = threading.Event()
    copies = []
    lock = threading.Lock()
    running = [0]

    def stuck():
        with lock:
            running[0] += 1
            copies.append(running[0])
        release.wait(TIMEOUT)
        with lock:
            running[0] -= 1

    s = Scheduler(workers=2)
    s.register(stuck, "stuck", retries=3, timeout=0.05)
    try:
        summary = s.start()
    finally:
        release.set()
    assert copies == [1]
    result = summary["tasks"]["stuck"]
    assert result.error_type == "TimeoutError" and "not retried" in result.error


def test_an_async_task_that_blocks_instead_of_awaiting_times_out():
    release = threading.Event()
    s = Scheduler(workers=1)

    async def blocks():
        release.wait(TIMEOUT)  # blocks the loop: wait_for alone can never cancel it

    async def awaits():
        await asyncio.sleep(TIMEOUT)

    s.register(blocks, "blocks", timeout=0.05)
    s.register(awaits, "awaits", timeout=0.05)
    try:
        summary = s.start()
    finally:
        release.set()
    assert sorted(summary["failed"]) == ["awaits", "blocks"]
    assert summary["failures"]["blocks"]["error_type"] == "TimeoutError"


def test_writes_to_stdout_buffer_are_captured(capfd):
    s = Scheduler(workers=1, capture=True)

    def raw():
        sys.stdout.buffer.write(b"raw bytes\n")
        sys.stdout.buffer.flush()
        print("text", flush=True)

    s.register(raw, "raw")
    summary = s.start()
    assert summary["passed"] == ["raw"]
    assert summary["tasks"]["raw"].stdout == "raw bytes\ntext\n"


class CliOnly:
    """A plugin of another area (mtrun's), without optionalhook, as README recipes write."""

    def threaded_order_cli_addoption(self, add_option):
        pass

    def threaded_order_task_done(self, name):
        self.seen = name


def test_a_bare_scheduler_accepts_hooks_of_areas_it_does_not_know():
    plugin = CliOnly()
    s = Scheduler(plugins=[plugin])
    s.register(noop, "a")
    assert s.start()["passed"] == ["a"] and plugin.seen == "a"


def test_a_misspelled_core_hook_is_still_refused():
    class Typo:
        def threaded_order_task_dnoe(self, name):
            pass

    s = Scheduler(plugins=[Typo()])
    s.register(noop, "a")
    with pytest.raises(Exception, match="threaded_order_task_dnoe"):
        s.start()


def test_installed_plugins_with_cli_hooks_load_into_a_bare_scheduler():
    """The example plugin distribution implements mtrun hooks; the library must cope."""
    pm = create_plugin_manager()
    loaded = load_entrypoint_plugins(pm)
    assert any(p.name == "hello" for p in loaded)
    s = Scheduler(plugin_manager=pm)
    s.register(noop, "a")
    assert s.start()["passed"] == ["a"]


def test_a_plugin_that_exits_at_import_is_a_warning(tmp_path, monkeypatch):
    (tmp_path / "exits_plugin.py").write_text("raise SystemExit(3)\n")
    dist = tmp_path / "exits_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: exits-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[threaded_order]\nexits = exits_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    warnings = []
    loaded = load_entrypoint_plugins(PluginManager(), warn=warnings.append)
    assert "exits" not in [p.name for p in loaded]
    assert len(warnings) == 1 and "SystemExit" in warnings[0] and "\n" not in warnings[0]
