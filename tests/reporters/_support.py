"""Helpers shared by the reporter tests: a sample test module and a real ``mtrun`` in a
subprocess, with the installed reporters loaded as a user gets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

from threaded_order_cli.testing import TIMEOUT, RunResult, mtrun_env, run_mtrun

DATA = Path(__file__).parent / "data"
JUNIT_XSD = DATA / "junit-10.xsd"

# Two pass, one fails, one is skipped because of it (with --skip-deps). The failing task
# prints an ANSI colour code and a bell, which XML cannot hold.
SAMPLE = '''\
import logging
import sys

from threaded_order import dmark, tag


@dmark()
@tag("fast")
def test_ok():
    print("out from ok")
    print("err from ok", file=sys.stderr)
    logging.getLogger("sample").warning("log from ok")


@dmark(after=["test_ok"], with_state=True)
def test_uses_state(state):
    assert "results" in state


@dmark()
def test_fails():
    print("\\x1b[31mred\\x1b[0m and a bell \\x07")
    raise AssertionError("expected <failure> & more")


@dmark(after=["test_fails"])
def test_after_failure():
    pass
'''
SAMPLE_NAMES = ["test_ok", "test_uses_state", "test_fails", "test_after_failure"]
SAMPLE_STATUS = {"test_ok": "passed", "test_uses_state": "passed", "test_fails": "failed",
                 "test_after_failure": "skipped"}

# Variables that would change what rich or the plugin loader does in the child: removed.
ENV: dict[str, Optional[str]] = {
    **dict.fromkeys(("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS",
                     "LINES", "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD",
                     "THREADED_ORDER_STRICT_PLUGINS")),
    "PYTHONIOENCODING": "utf-8",
}


def write_sample(directory: Path, name: str = "test_sample.py", text: str = SAMPLE) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child_env() -> dict[str, str]:
    """The environment of a child process that is not mtrun (an example, tmux)."""
    return mtrun_env(ENV)


def mtrun(*args: str, cwd: Path, env: Optional[dict[str, str]] = None) -> RunResult:
    """Run the installed ``mtrun`` for real: entry points, option parsing and all."""
    return run_mtrun(*args, cwd=cwd, env={**ENV, **(env or {})})


def python(*args: str) -> RunResult:
    """``python ARGS`` with the same environment: a probe, or an example that is not mtrun."""
    done = subprocess.run([sys.executable, *args], env=child_env(), capture_output=True,
                          encoding="utf-8", timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return RunResult(done.returncode, done.stdout, done.stderr)


def describe(done: RunResult) -> str:
    return f"exit {done.ret}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
