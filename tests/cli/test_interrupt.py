"""Ctrl-C: a real SIGINT to an mtrun subprocess, coordinated through its output, never by
sleeping. A task prints a marker and blocks reading stdin until the test writes a line."""

from __future__ import annotations

import signal
import sys

import pytest

from threaded_order_cli.testing import MtrunProcess, spawn_mtrun

from ._support import QUIET, counts, write

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


def start(tmp_path, *args: str) -> MtrunProcess:
    """mtrun on MODULE with the marker plugin; its stdin releases test_block."""
    write(tmp_path, "test_block.py", MODULE)
    write(tmp_path, "plugins/running_marker.py", PLUGIN)
    return spawn_mtrun("test_block.py", "-p", "running_marker", *args, cwd=tmp_path,
                       env=QUIET, pythonpath=tmp_path / "plugins")


def started_blocking(run: MtrunProcess, live: bool) -> None:
    if live:
        run.wait_for("BLOCKING", "stdout")  # the task's own print, live with -s
    run.wait_for("RUNNING test_block")


@pytest.mark.parametrize("options", [["-s"], []], ids=["no-capture", "capture"])
def test_ctrl_c_lets_running_tasks_finish_and_names_those_never_started(tmp_path, options):
    """Also with capture on: the "waiting for" line must reach stderr, not a task buffer."""
    with start(tmp_path, *options) as run:
        started_blocking(run, live="-s" in options)
        run.send_signal(signal.SIGINT)
        run.wait_for("interrupted: waiting for 1 running task(s) to finish (test_block)")
        run.send_line("go on")
        result = run.finish()
    assert result.ret == 2, result.stdout + result.stderr
    assert "!!! interrupted: 1 task(s) never started: test_never !!!" in result.stdout
    assert "Traceback" not in result.stderr
    assert counts(result) == (2, 0, 0)


def test_second_ctrl_c_fails_the_running_task_and_exits_promptly(tmp_path):
    """No line is written to stdin: the task stays blocked, mtrun must not wait for it."""
    with start(tmp_path, "-s") as run:
        started_blocking(run, live=True)
        run.send_signal(signal.SIGINT)
        run.wait_for("interrupted: waiting for")
        run.send_signal(signal.SIGINT)
        result = run.finish()
    assert result.ret == 2, result.stdout + result.stderr
    assert "FAILED test_block - CancelledError" in result.stdout
    assert "!!! interrupted: 1 task(s) never started: test_never !!!" in result.stdout
    assert "Traceback" not in result.stderr
    assert counts(result) == (1, 1, 0)
