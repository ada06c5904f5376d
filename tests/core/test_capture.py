"""capture=True: each task's stdout, stderr and log records land in its own TaskResult."""

from __future__ import annotations

import logging
import sys
import threading

import pytest

from threaded_order import Scheduler

from ._support import TIMEOUT

log = logging.getLogger("threaded_order_tests.capture")


def _alternating_tasks():
    """Two tasks that print in turn a1, b1, a2, b2 on different threads."""
    turns = [threading.Event() for _ in range(3)]

    def a():
        print("a1")
        sys.stderr.write("a-err\n")
        log.warning("a-log")
        turns[0].set()
        assert turns[1].wait(TIMEOUT)
        print("a2", flush=True)
        turns[2].set()

    def b():
        assert turns[0].wait(TIMEOUT)
        print("b1")
        log.error("b-log")
        turns[1].set()
        assert turns[2].wait(TIMEOUT)
        print("b2")
        sys.stderr.write("b-err\n")

    return a, b


def test_interleaved_tasks_capture_their_own_output(capsys):
    a, b = _alternating_tasks()
    s = Scheduler(workers=2, capture=True)
    s.register(a, "a")
    s.register(b, "b")
    threads = {}
    s.on_task_run(lambda name, thread: threads.__setitem__(name, thread))
    s.on_task_done(lambda name, ok: print(f"callback saw {name}"))
    summary = s.start()
    assert summary["failed"] == [], summary["failures"]
    assert threads["a"] != threads["b"]
    ta, tb = summary["tasks"]["a"], summary["tasks"]["b"]
    assert (ta.stdout, ta.stderr) == ("a1\na2\n", "a-err\n")
    assert (tb.stdout, tb.stderr) == ("b1\nb2\n", "b-err\n")
    assert "a-log" in ta.log and "b-log" not in ta.log and "WARNING" in ta.log
    assert "b-log" in tb.log and "a-log" not in tb.log and "ERROR" in tb.log
    out, err = capsys.readouterr()
    # Output of the scheduler thread (callbacks) is not a task's: it passes through.
    assert "callback saw a" in out and "callback saw b" in out
    assert "a1" not in out and "b1" not in out and "a-err" not in err


def test_output_of_a_failing_task_is_captured():
    def noisy_failure():
        print("about to fail")
        raise RuntimeError("failed")

    s = Scheduler(workers=1, capture=True)
    s.register(noisy_failure, "noisy")
    result = s.start()["tasks"]["noisy"]
    assert result.status == "failed" and result.stdout == "about to fail\n"


def test_the_real_streams_are_restored_after_the_run():
    before = (sys.stdout, sys.stderr)
    handlers = list(logging.getLogger().handlers)
    s = Scheduler(workers=2, capture=True)
    s.register(lambda: print("x"), "a")
    s.start()
    assert (sys.stdout, sys.stderr) == before
    assert logging.getLogger().handlers == handlers


def test_streams_are_restored_when_start_raises(monkeypatch):
    monkeypatch.setenv("THREADED_ORDER_STRICT_PLUGINS", "1")
    before = (sys.stdout, sys.stderr)

    class Raising:
        def threaded_order_task_done(self, name):
            raise RuntimeError("strict")

    s = Scheduler(workers=1, capture=True, plugins=[Raising()])
    s.register(lambda: print("x"), "a")
    with pytest.raises(RuntimeError, match="strict"):
        s.start()
    assert (sys.stdout, sys.stderr) == before


def test_without_capture_output_goes_to_the_real_streams(capsys):
    s = Scheduler(workers=1)
    s.register(lambda: print("visible"), "a")
    result = s.start()["tasks"]["a"]
    assert result.stdout == ""
    assert "visible" in capsys.readouterr().out
