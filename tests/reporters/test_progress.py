"""The progress reporter: a live bar on a terminal, silent elsewhere, and output from
print, logging and the terminal reporter kept whole above it.

The real-terminal tests run ``mtrun`` inside tmux and read the screen back; they are
skipped when tmux is not installed (CI installs it).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from threaded_order import Scheduler
from threaded_order.reporting import ReporterError
from threaded_order_cli.testing import TIMEOUT, mtrun_command
from threaded_order_progress import ProgressReporter

from ._support import child_env, describe, mtrun, python, write_sample

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
BAR = "━"
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

CHATTY = '''\
import logging

from threaded_order import dmark

log = logging.getLogger("chatty")


def chat(name):
    for i in range(8):
        print(f"line-from {name} #{i}")
        log.info(f"logged-by {name} #{i}")


@dmark()
def test_a():
    chat("test_a")


@dmark()
def test_b():
    chat("test_b")


@dmark(after=["test_a"])
def test_c():
    chat("test_c")
    raise ValueError("c broke")


@dmark(after=["test_c"])
def test_d():
    chat("test_d")


@dmark(after=["test_b"])
def test_e():
    chat("test_e")


@dmark(after=["test_b", "test_a"])
def test_f():
    chat("test_f")
'''


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal_console(width: int = 100) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system=None), out


def sample_scheduler(*plugins: Any, capture: bool = True) -> Scheduler:
    s = Scheduler(workers=2, skip_dependents=True, capture=capture, plugins=plugins)
    s.register(lambda: None, "ok")

    def bad() -> None:
        raise ValueError("boom")

    s.register(bad, "bad")
    s.register(lambda: None, "after_bad", after="bad")
    return s


def test_draws_on_a_terminal_and_quiets_the_terminal_reporter() -> None:
    console, out = terminal_console()
    reporter = ProgressReporter(console=console, refresh_interval=0)
    s = sample_scheduler(reporter)
    summary = s.start()
    assert summary["text"].startswith("==== 1 passed, 1 failed, 1 skipped")
    assert reporter.threaded_order_cli_claims_terminal() is True  # mtrun's dots go
    text = out.getvalue()
    final = text.rsplit("\r\x1b[2K", 1)[-1]  # the last redraw of the live display
    assert "3/3 100% • 1 passed, 1 failed, 1 skipped" in final
    assert "ETA" not in final and "thread_" not in final
    assert re.search(r"thread_\d  (ok|bad)", text)  # running tasks were shown meanwhile


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    reporter = ProgressReporter(console=Console(file=out, width=100))
    s = sample_scheduler(reporter)
    s.start()
    assert out.getvalue() == ""
    assert reporter.threaded_order_cli_claims_terminal() is False


@pytest.fixture
def log_handler() -> Iterator[logging.StreamHandler]:  # type: ignore[type-arg]
    """A logging handler, to be pointed at a terminal-like stream by the test."""
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("[%(threadName)s] %(message)s"))
    logger = logging.getLogger("progress-test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_print_and_logging_go_above_the_bar_and_are_put_back(
        log_handler: logging.StreamHandler, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    # Set here, not in a fixture: pytest puts its own sys.stdout back between phases.
    stdout = TtyStream()
    monkeypatch.setattr(sys, "stdout", stdout)
    log_handler.setStream(stdout)
    console, out = terminal_console(width=120)
    log = logging.getLogger("progress-test")
    s = Scheduler(workers=2, plugins=[ProgressReporter(console=console)])

    def chat(name: str) -> None:
        for i in range(20):
            print(f"print {name} {i}", end="")
            print()
            log.info(f"log {name} {i}")

    for name in ("a", "b", "c"):
        s.register(lambda name=name: chat(name), name)
    # An unfinished line is printed when the bar stops.
    s.register(lambda: print("unfinished last", end=""), "last", after=["a", "b", "c"])
    s.start()
    assert sys.stdout is stdout and log_handler.stream is stdout
    assert stdout.getvalue() == ""  # everything went through the bar's console
    # The screen's text, one line per line written: control sequences dropped.
    lines = CONTROL.sub("", out.getvalue().replace("\r", "\n")).splitlines()
    for name in ("a", "b", "c"):
        for i in range(20):
            assert lines.count(f"print {name} {i}") == 1
            assert len([x for x in lines if x.endswith(f"] log {name} {i}")]) == 1
    assert lines.count("unfinished last") == 1
    assert all(re.fullmatch(r"print [abc] \d+", x) for x in lines if x.startswith("print"))


def test_bad_dest() -> None:
    with pytest.raises(ReporterError, match="progress reporter: DEST must be stderr"):
        ProgressReporter("bar.txt")
    assert ProgressReporter("-").console.file is sys.stdout


def test_mtrun_off_a_terminal_changes_nothing(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "progress", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    assert re.search(r"^[.Fs]{4} \[100%\]$", done.stdout, re.M), describe(done)
    assert BAR not in done.stdout + done.stderr


def test_example_runs_off_a_terminal() -> None:
    done = python(str(ROOT / "examples" / "progress_bar.py"))
    assert done.ret == 0, describe(done)
    assert "==== 6 passed, 0 failed, 0 skipped" in done.stdout
    assert done.stderr.count(" completed") == 6


# -- in a real terminal -------------------------------------------------------------


def run_in_tmux(tmp_path: Path, command: list[str], cwd: Path, width: int = 150,
                height: int = 40) -> tuple[int, list[str]]:
    """Run ``command`` in a fresh tmux server; return its exit code and the whole screen
    (scrollback included) once it has finished."""
    assert TMUX is not None
    script = tmp_path / f"run-{uuid.uuid4().hex[:8]}.sh"
    script.write_text(
        f"cd {shlex.quote(str(cwd))}\n"
        f"{shlex.join(command)}\n"
        'echo "__DONE__ $?"\n'
        "exec cat\n",  # keep the pane open, without sleeping, until the server is killed
        encoding="utf-8",
    )
    tmux = [TMUX, "-L", f"reporters-{os.getpid()}-{uuid.uuid4().hex[:8]}", "-f", os.devnull]
    subprocess.run([*tmux, "new-session", "-d", "-x", str(width), "-y", str(height),
                    f"bash {shlex.quote(str(script))}"], env=child_env(), check=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        screen = ""
        while time.monotonic() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-J", "-S", "-"],
                                    capture_output=True, text=True, check=True).stdout
            match = re.search(r"^__DONE__ (\d+)$", screen, re.M)
            if match:
                return int(match.group(1)), screen.rstrip("\n").splitlines()
            time.sleep(0.1)
        pytest.fail(f"no __DONE__ line on the screen in time:\n{screen}")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


@needs_tmux
def test_mtrun_in_a_real_terminal_with_log_and_no_capture(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_chatty.py", CHATTY)
    code, lines = run_in_tmux(tmp_path, mtrun_command(
        "--skip-deps", "--log", "-s", "--color", "no", "--reporter", "progress",
        "test_chatty.py"), cwd=tmp_path)
    screen = "\n".join(lines)
    assert code == 1, screen
    assert lines[-2].startswith("==== 4 passed, 1 failed, 1 skipped in "), screen
    # One bar is left, the final one; nothing of the live display is left behind.
    bars = [x for x in lines if BAR in x]
    assert len(bars) == 1, screen
    assert re.search(r" 6/6 100% • 4 passed, 1 failed, 1 skipped • \d:\d\d:\d\d$", bars[0])
    assert not [x for x in lines if re.fullmatch(r"\s+thread_\d+\s+test_\w+", x)], screen
    # Every line the tasks printed or logged is there once, whole.
    ran = ["test_a", "test_b", "test_c", "test_e", "test_f"]
    printed = [x for x in lines if "line-from" in x]
    logged = [x for x in lines if "logged-by" in x]
    assert sorted(printed) == sorted(f"line-from {t} #{i}" for t in ran for i in range(8))
    assert len(logged) == 40, screen
    assert all(re.fullmatch(r"\S+ \S+ \[thread_\d\] INFO logged-by test_[a-f] #\d", x)
               for x in logged), screen
    # The terminal reporter's per-task lines (--log) went above the bar too.
    results = [x for x in lines if re.fullmatch(r"\[(thread_\d|-)\] test_\w \.+ \w+ \[ *\d+%\]", x)]
    assert len(results) == 6, screen
    assert not [x for x in lines if re.fullmatch(r"[.Fs]+ \[100%\]", x)], screen


@needs_tmux
def test_example_in_a_real_terminal(tmp_path: Path) -> None:
    code, lines = run_in_tmux(tmp_path, [sys.executable, str(ROOT / "examples" /
                                                             "progress_bar.py")], cwd=tmp_path)
    screen = "\n".join(lines)
    assert code == 0, screen
    bars = [x for x in lines if BAR in x]
    assert len(bars) == 1 and " 6/6 100% • 6 passed, 0 failed, 0 skipped" in bars[0], screen
    assert len([x for x in lines if re.fullmatch(r".* \[thread_\d\] INFO \w completed", x)]) == 6
    assert lines[-2].startswith("==== 6 passed, 0 failed, 0 skipped in "), screen
