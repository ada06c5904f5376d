"""Ctrl-C: a real SIGINT to an mtrun subprocess, coordinated through its output, never by
sleeping. A task prints a marker and blocks reading stdin until the test writes a line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

import pytest

from ._support import QUIET, TIMEOUT, counts, write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

MODULE = """
    import sys
    from threaded_order import dmark

    @dmark()
    def test_quick():
        pass

    @dmark(after="test_quick")
    def test_block():
        print("BLOCKING", flush=True)
        sys.stdin.readline()

    @dmark(after="test_block")
    def test_never():
        pass
"""
# The scheduler thread starts the workers before it handles Ctrl-C, and a worker may print
# first; this hook runs on the scheduler thread, so its line means Ctrl-C will be handled.
PLUGIN = """
    import sys

    def threaded_order_task_run(name):
        sys.stderr.write(f"RUNNING {name}\\n")
        sys.stderr.flush()
"""


def _default_sigint() -> None:  # pragma: no cover - runs in the child
    # A shell's background job inherits SIGINT ignored, and Python then keeps ignoring it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Mtrun:
    """mtrun in a subprocess with stdin to write to and its output read line by line."""

    def __init__(self, tmp_path, *args: str) -> None:
        write(tmp_path, "test_block.py", MODULE)
        write(tmp_path, "plugins/running_marker.py", PLUGIN)
        path = [str(tmp_path / "plugins"), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, **QUIET, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "threaded_order_cli", "test_block.py", "-p",
             "running_marker", *args],
            cwd=tmp_path, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=_default_sigint,
        )
        self.lines = {"out": queue.Queue(), "err": queue.Queue()}
        self.seen: dict[str, list[str]] = {"out": [], "err": []}
        self.pumps = [threading.Thread(target=self._pump, args=(stream, key), daemon=True)
                      for key, stream in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for pump in self.pumps:
            pump.start()

    def _pump(self, stream, key: str) -> None:
        for line in stream:
            self.lines[key].put(line)
        self.lines[key].put(None)

    def wait_for(self, key: str, text: str) -> None:
        while True:
            try:
                line = self.lines[key].get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no {text!r} on std{key} within {TIMEOUT}s; saw {self.seen}")
            if line is None:
                pytest.fail(f"std{key} closed before {text!r}; saw {self.seen}")
            self.seen[key].append(line)
            if text in line:
                return

    def finish(self) -> tuple[int, str, str]:
        """Exit code and all output; the process must end within the timeout."""
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.stdin.close()
        for pump in self.pumps:
            pump.join(TIMEOUT)
        for key in ("out", "err"):
            while not self.lines[key].empty():
                line = self.lines[key].get()
                if line is not None:
                    self.seen[key].append(line)
        return code, "".join(self.seen["out"]), "".join(self.seen["err"])

    def started_blocking(self, live: bool) -> None:
        if live:
            self.wait_for("out", "BLOCKING")  # the task's own print, live with -s
        self.wait_for("err", "RUNNING test_block")


@pytest.mark.parametrize("options", [["-s"], []], ids=["no-capture", "capture"])
def test_ctrl_c_lets_running_tasks_finish_and_names_those_never_started(tmp_path, options):
    """Also with capture on: the "waiting for" line must reach stderr, not a task buffer."""
    run = Mtrun(tmp_path, *options)
    run.started_blocking(live="-s" in options)
    run.proc.send_signal(signal.SIGINT)
    run.wait_for("err", "interrupted: waiting for 1 running task(s) to finish (test_block)")
    run.proc.stdin.write("go on\n")
    run.proc.stdin.flush()
    code, out, err = run.finish()
    assert code == 2, out + err
    assert "!!! interrupted: 1 task(s) never started: test_never !!!" in out
    assert "Traceback" not in err
    assert counts(out) == (2, 0, 0)


def test_second_ctrl_c_fails_the_running_task_and_exits_promptly(tmp_path):
    """No line is written to stdin: the task stays blocked, mtrun must not wait for it."""
    run = Mtrun(tmp_path, "-s")
    run.started_blocking(live=True)
    run.proc.send_signal(signal.SIGINT)
    run.wait_for("err", "interrupted: waiting for")
    run.proc.send_signal(signal.SIGINT)
    code, out, err = run.finish()
    assert code == 2, out + err
    assert "FAILED test_block - CancelledError" in out
    assert "!!! interrupted: 1 task(s) never started: test_never !!!" in out
    assert "Traceback" not in err
    assert counts(out) == (1, 1, 0)
