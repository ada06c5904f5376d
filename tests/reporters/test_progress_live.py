"""The progress bar stays live while nothing happens: the clock and the estimate move during
a long task (rich's refresh thread redraws them), and a line a task prints under the bar
shows when it is written, not at the next task event.

The real-terminal test runs ``mtrun`` in a tmux pane and reads the screen while a task is
held on a handshake file; it is skipped when tmux is not installed (CI installs it).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest
from rich.console import Console

from threaded_order import Scheduler
from threaded_order_cli.testing import mtrun_command
from threaded_order_progress import ProgressReporter
from threaded_order_progress.routing import Router

from ._support import child_env, write_sample

TMUX = shutil.which("tmux")
WAIT = 10.0  # seconds any "until the screen shows X" may take: only a broken bar reaches it
BAR_LINE = re.compile(r" (\d+)/(\d+) +\d+% • .* • (\d:\d\d:\d\d) • ETA (\S+)")


def wait_until(what: str, check: Callable[[], bool], show: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {WAIT:g} s: {what}\n{show()}")
        time.sleep(0.01)


def seconds(clock: str) -> int:
    hours, minutes, secs = (int(x) for x in clock.split(":"))
    return hours * 3600 + minutes * 60 + secs


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def held_run(watch: Callable[[io.StringIO], None], *, capture: bool) -> tuple[str, str]:
    """Run one task that prints a line and then waits until ``watch``, on a thread of its
    own, has looked at the bar's output; return the summary line and that output."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    s = Scheduler(workers=1, capture=capture,
                  plugins=[ProgressReporter(console=console, refresh_interval=0.02)])
    run_seen, started, release = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []
    s.on_task_run(lambda *_: run_seen.set())  # callbacks come after the plugins' hooks

    def held() -> None:
        # Printed once the bar has had the task's last event before its end.
        assert run_seen.wait(WAIT), "no task_run event"
        print("said-while-held")
        started.set()
        assert release.wait(WAIT * 2), "never released"

    def watcher() -> None:
        try:
            assert started.wait(WAIT), "the task never started"
            watch(out)
        except BaseException as error:  # pytest.fail on this thread: hand it over
            failures.append(error)
        finally:
            release.set()

    s.register(held, "held")
    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    summary = s.start()
    thread.join(WAIT)
    if failures:
        raise failures[0]
    return summary["text"].splitlines()[0], out.getvalue()


def test_the_bar_is_redrawn_while_a_task_runs_and_no_event_comes() -> None:
    def watch(out: io.StringIO) -> None:
        def draws() -> int:
            return len(re.findall(r" 0/1 +0% •", out.getvalue()))

        before = draws()  # the redraw for the task's start may still come: ask for 3
        wait_until("three redraws with no task event", lambda: draws() >= before + 3,
                   out.getvalue)

    summary, output = held_run(watch, capture=True)
    assert summary.startswith("==== 1 passed"), summary
    assert " 1/1 100% • 1 passed" in output


def test_a_line_printed_by_a_task_shows_before_the_task_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = TtyStream()
    monkeypatch.setattr(sys, "stdout", stdout)  # a terminal: the bar routes it above itself

    def watch(out: io.StringIO) -> None:
        wait_until("the task's line, while the task still runs",
                   lambda: "said-while-held" in out.getvalue(), out.getvalue)

    summary, output = held_run(watch, capture=False)
    assert summary.startswith("==== 1 passed"), summary
    assert stdout.getvalue() == ""  # it went through the bar's console, once
    assert output.count("said-while-held") == 1


def test_refresh_interval_is_checked() -> None:
    with pytest.raises(ValueError, match="refresh_interval must be a finite number"):
        ProgressReporter(refresh_interval=-1)


class PipeTerminal(io.TextIOBase):
    """The write end of a pipe that says it is a terminal."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, text: str) -> int:
        os.write(self.fd, text.encode())
        return len(text)

    def isatty(self) -> bool:
        return True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_writes_past_a_lock_held_at_the_fork() -> None:
    read_end, write_end = os.pipe()
    lock = threading.Lock()
    router = Router(Console(file=io.StringIO(), force_terminal=True), lock)
    proxy = router.proxy_for(PipeTerminal(write_end))
    assert proxy is not None
    with lock:  # as if the refresh thread were redrawing at the moment of the fork
        pid = os.fork()
        if pid == 0:  # the child: print a line, then go, whatever happens
            try:
                proxy.write("from-the-child\n")
            finally:
                os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + WAIT
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung on the bar's lock")
        time.sleep(0.01)
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.read() == b"from-the-child\n"


# -- in a real terminal -------------------------------------------------------------

HELD = '''\
import os
import time

from threaded_order import dmark


def wait_for_file(path):  # the handshake: the test creates the file
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"no {{path}}"
        time.sleep(0.01)


@dmark()
def test_quick():
    pass


@dmark(after=["test_quick"])
def test_held():
    wait_for_file({speak!r})
    print("held-task-says-hello", flush=True)
    wait_for_file({release!r})


@dmark(after=["test_held"])
def test_last():
    pass
'''


class Pane:
    """One tmux server with one pane running a command; ``screen()`` reads it back."""

    def __init__(self, tmp_path: Path, command: list[str], width: int = 150,
                 height: int = 30) -> None:
        assert TMUX is not None
        script = tmp_path / f"run-{uuid.uuid4().hex[:8]}.sh"
        script.write_text(
            f"cd {shlex.quote(str(tmp_path))}\n{shlex.join(command)}\n"
            'echo "__DONE__ $?"\nexec cat\n',  # the pane stays open until the server goes
            encoding="utf-8")
        self.tmux = [TMUX, "-L", f"progress-{os.getpid()}-{uuid.uuid4().hex[:8]}",
                     "-f", os.devnull]
        subprocess.run([*self.tmux, "new-session", "-d", "-x", str(width), "-y", str(height),
                        f"bash {shlex.quote(str(script))}"], env=child_env(), check=True,
                       timeout=WAIT)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-J", "-S", "-"],
                              capture_output=True, text=True, check=True, timeout=WAIT).stdout

    def wait_for(self, what: str, pattern: str) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def check() -> bool:
            match = re.search(pattern, self.screen(), re.M)
            if match:
                found.append(match)
            return match is not None

        wait_until(what, check, self.screen)
        return found[0]

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=WAIT)


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_clock_eta_and_output_move_while_a_task_is_held_in_a_real_terminal(
        tmp_path: Path) -> None:
    speak, release = tmp_path / "speak", tmp_path / "release"
    write_sample(tmp_path, "test_held.py", HELD.format(speak=str(speak), release=str(release)))
    pane = Pane(tmp_path, mtrun_command("-s", "--color", "no", "--reporter", "progress",
                                        "test_held.py"))
    try:
        # The bar has had test_held's start, the last event before test_held ends.
        pane.wait_for("test_held running", r"^\s+thread_\d+\s+\S*test_held$")
        pane.wait_for("the bar, 1 of 3 done", r" 1/3 +\d+% •")
        speak.write_text("go", encoding="utf-8")
        # The line shows while the task is still held: it cannot end before `release`.
        pane.wait_for("the held task's line", r"^held-task-says-hello$")
        first = pane.wait_for("the bar, 1 of 3 done", BAR_LINE.pattern)
        assert first.group(1, 2) == ("1", "3"), pane.screen()
        clock, eta = first.group(3, 4)
        assert eta != "-:--:--", pane.screen()  # one task done: there is an estimate
        # A later screen, with no task starting or ending in between (nothing can end
        # before `release` exists).
        later = pane.wait_for(
            "the clock and the estimate moving",
            rf" 1/3 +\d+% • .* • (?!{clock} )(\d:\d\d:\d\d) • ETA (?!{re.escape(eta)}$)\S+$")
        assert seconds(later.group(1)) > seconds(clock), pane.screen()
        release.write_text("go", encoding="utf-8")
        done = pane.wait_for("the end of the run", r"^__DONE__ (\d+)$")
        screen = pane.screen()
    finally:
        pane.close()
    assert done.group(1) == "0", screen
    lines = screen.splitlines()
    assert lines.count("held-task-says-hello") == 1, screen
    bars = [x for x in lines if "━" in x]
    assert len(bars) == 1 and " 3/3 100% • 3 passed, 0 failed, 0 skipped" in bars[0], screen
