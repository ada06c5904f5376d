"""Ctrl-C: a real SIGINT to a subprocess, plus in-process checks of the same paths."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from threaded_order import Scheduler, exit_status

from ._support import TIMEOUT, noop

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals and fds")

SCRIPT = """
import json, logging, os, sys
from threaded_order import Scheduler, exit_status

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
control = os.fdopen(int(sys.argv[1]))
w_input = os.fdopen(int(sys.argv[2]))
twice = sys.argv[3] == "twice"


def sync(tag, token):
    # On the scheduler thread. The test sends SIGINT when it sees the tag, then the token:
    # the signal breaks this read, or is handled the moment the read returns. Either way
    # the KeyboardInterrupt is raised here, never lost in the gap before a blocking wait.
    print(tag, flush=True)
    while True:
        line = control.readline()
        if not line or line.strip() == token:
            return


s = Scheduler(workers=2)
s.register(lambda: sys.stdin.readline().strip(), "a")
s.register(lambda: w_input.readline().strip(), "w")
s.register(lambda: "b", "b", after="a")
s.register(lambda: "c", "c", after="b")
s.register(lambda: "d", "d")
s.on_task_run(lambda name, thread: name == "w" and sync("both-running", "1"))
s.on_task_done(lambda name, ok: name == "w" and twice and sync("w-done", "2"))
fired = []
s.on_scheduler_done(lambda summary: fired.append(summary["interrupted"]))
summary = s.start()
report = {key: summary[key] for key in ("passed", "failed", "skipped", "cancelled",
                                        "interrupted", "failures")}
report["scheduler_done"] = fired
report["exit_status"] = exit_status(summary)
report["results"] = s.state["results"]
print("SUMMARY " + json.dumps(report), flush=True)
os._exit(0)  # a may still be blocked on stdin; do not wait for it
"""


class Child:
    """The script in a subprocess; its output lines are read into queues by threads."""

    def __init__(self, tmp_path, mode):
        script = tmp_path / "interrupted_run.py"
        script.write_text(textwrap.dedent(SCRIPT))
        control_r, self.control = os.pipe()
        w_r, self.w_input = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(control_r), str(w_r), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            pass_fds=(control_r, w_r),
        )
        os.close(control_r)
        os.close(w_r)
        self.lines = {"out": queue.Queue(), "err": queue.Queue()}
        self.seen = {"out": [], "err": []}
        for key, stream in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._pump, args=(stream, key), daemon=True).start()

    def _pump(self, stream, key):
        for line in stream:
            self.lines[key].put(line)
        self.lines[key].put(None)

    def wait_for(self, key, text):
        while True:
            try:
                line = self.lines[key].get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no {text!r} on std{key}; saw {self.seen}")
            if line is None:
                pytest.fail(f"std{key} closed before {text!r}; saw {self.seen}")
            self.seen[key].append(line)
            if text in line:
                return line

    def ctrl_c(self, token):
        os.kill(self.proc.pid, signal.SIGINT)
        try:
            os.write(self.control, f"{token}\n".encode())
        except BrokenPipeError:
            pass  # the signal broke the read at once and the child has already exited

    def finish_w(self):
        os.write(self.w_input, b"w-finished\n")

    def finish_a(self):
        self.proc.stdin.write("a-finished\n")
        self.proc.stdin.flush()

    def summary(self):
        line = self.wait_for("out", "SUMMARY ")
        return json.loads(line.split("SUMMARY ", 1)[1])

    def close(self):
        for fd in (self.control, self.w_input):
            try:
                os.close(fd)
            except OSError:
                pass  # already closed by an earlier close()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def child(tmp_path):
    processes = []

    def spawn(mode):
        processes.append(Child(tmp_path, mode))
        return processes[-1]

    yield spawn
    for process in processes:
        process.close()


@posix_only
def test_sigint_waits_for_running_tasks_and_cancels_the_rest(child):
    run = child("once")
    run.wait_for("out", "both-running")
    run.ctrl_c("1")
    warning = run.wait_for("err", "interrupted: waiting for")
    assert "2 running task(s)" in warning and "(a, w)" in warning
    run.finish_w()
    run.finish_a()
    report = run.summary()
    assert sorted(report["passed"]) == ["a", "w"]
    assert report["results"] == {"a": "a-finished", "w": "w-finished"}
    assert report["failed"] == [] and report["skipped"] == []
    assert sorted(report["cancelled"]) == ["b", "c", "d"]
    assert report["interrupted"] is True
    assert report["scheduler_done"] == [True]
    assert report["exit_status"] == 2
    assert run.close() == 0


@posix_only
def test_a_second_sigint_stops_waiting_and_fails_the_running_task(child):
    run = child("twice")
    run.wait_for("out", "both-running")
    run.ctrl_c("1")
    run.wait_for("err", "interrupted: waiting for")
    run.finish_w()
    run.wait_for("out", "w-done")
    run.ctrl_c("2")
    report = run.summary()  # a is still blocked on stdin: start() did not wait for it
    assert report["passed"] == ["w"]
    assert report["failed"] == ["a"]
    assert report["failures"]["a"]["error_type"] == "CancelledError"
    assert sorted(report["cancelled"]) == ["b", "c", "d"]
    assert report["interrupted"] is True and report["scheduler_done"] == [True]
    assert report["exit_status"] == 2
    assert run.close() == 0


# In-process: a callback sends the process a real SIGINT at a chosen moment. While start()
# runs on the main thread its relay turns the signal into an event; nothing is raised.


def _ctrl_c():
    signal.raise_signal(signal.SIGINT)


class _OnWarning(logging.Handler):
    """Does something when the scheduler logs its 'interrupted: waiting for' line."""

    def __init__(self, action):
        super().__init__()
        self.action = action

    def emit(self, record):
        if "interrupted: waiting for" in record.getMessage():
            self.action()


@pytest.fixture
def on_warning():
    logger = logging.getLogger("threaded_order")
    handlers = []

    def install(action):
        handler = _OnWarning(action)
        logger.addHandler(handler)
        handlers.append(handler)

    yield install
    for handler in handlers:
        logger.removeHandler(handler)


def _interrupted_scheduler(release: threading.Event):
    s = Scheduler(workers=2)
    s.register(lambda: release.wait(TIMEOUT) and "done", "a")
    s.register(noop, "b", after="a")
    fired = []

    def ctrl_c(name, thread):
        if name == "a":
            _ctrl_c()

    s.on_task_run(ctrl_c)
    s.on_scheduler_done(lambda summary: fired.append(summary["interrupted"]))
    return s, fired


def _start(s):
    try:
        return s.start()
    except KeyboardInterrupt:  # must not escape: it would end the whole pytest session
        pytest.fail("start() raised KeyboardInterrupt instead of returning the summary")


def test_first_interrupt_in_process_lets_the_running_task_finish(on_warning):
    release = threading.Event()
    s, fired = _interrupted_scheduler(release)
    on_warning(release.set)
    summary = _start(s)
    assert summary["passed"] == ["a"] and s.state["results"]["a"] == "done"
    assert summary["cancelled"] == ["b"] and summary["interrupted"] is True
    assert summary["tasks"]["b"].status == "cancelled"
    assert fired == [True] and exit_status(summary) == 2


def test_second_interrupt_right_as_the_warning_is_logged_still_returns(on_warning):
    """The second Ctrl-C may land while the warning is written: start() must still return."""
    release = threading.Event()
    s, fired = _interrupted_scheduler(release)

    on_warning(_ctrl_c)
    try:
        summary = _start(s)
    finally:
        release.set()
    assert summary["failed"] == ["a"]
    assert summary["failures"]["a"]["error_type"] == "CancelledError"
    assert summary["cancelled"] == ["b"] and fired == [True]


def test_a_task_cancelled_by_the_second_interrupt_stores_no_late_result(on_warning):
    """It is reported failed; when its thread ends later it must not write into the state."""
    release = threading.Event()
    threads = []
    s = Scheduler(workers=1)

    def a():
        threads.append(threading.current_thread())
        release.wait(TIMEOUT)
        return "late value"

    s.register(a, "a")
    s.on_task_run(lambda name, thread: _ctrl_c())
    on_warning(_ctrl_c)
    try:
        summary = _start(s)
    finally:
        release.set()
    threads[0].join(TIMEOUT)
    assert not threads[0].is_alive()
    assert summary["failures"]["a"]["error_type"] == "CancelledError"
    assert s.state["results"] == {}


def test_ctrl_c_while_workers_start_is_handled_not_raised(monkeypatch, on_warning):
    """A Ctrl-C that lands while the workers are being started still gives a summary: the
    task already running finishes, the one after it never starts."""
    from threaded_order import _engine as engine

    real_start = engine.Run.start_workers
    running, gate = threading.Event(), threading.Event()

    def start_then_interrupt(run):
        started = real_start(run)
        assert running.wait(TIMEOUT)  # "first" runs, so the Ctrl-C has one outcome
        _ctrl_c()
        return started

    monkeypatch.setattr(engine.Run, "start_workers", start_then_interrupt)
    on_warning(gate.set)  # "first" ends once the scheduler says it waits for it
    s = Scheduler(workers=1)
    s.register(lambda: running.set() or gate.wait(TIMEOUT), "first")
    s.register(noop, "second", after="first")
    summary = _start(s)
    assert summary["interrupted"] is True
    assert summary["passed"] == ["first"] and summary["cancelled"] == ["second"]
