"""Helpers for plugin authors: run ``mtrun`` and look at what it did, like pytest's pytester.

    from threaded_order_cli.testing import run_mtrun

    def test_my_plugin(tmp_path):
        (tmp_path / "test_x.py").write_text("from threaded_order import dmark\\n"
                                            "@dmark()\\ndef test_ok(): pass\\n")
        result = run_mtrun(tmp_path / "test_x.py", cwd=tmp_path)
        assert result.ret == 0
        result.assert_outcomes(passed=1)
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple, Optional, Union

_SUMMARY = re.compile(r"^=+ (\d+) passed, (\d+) failed, (\d+) skipped in [\d.]+s =+$", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RunResult(NamedTuple):
    """Exit code and output of one mtrun run."""

    ret: int
    stdout: str
    stderr: str

    def outcomes(self) -> dict[str, int]:
        """The counts from the final summary line; empty when there is none."""
        matches = _SUMMARY.findall(_ANSI.sub("", self.stdout))
        if not matches:
            return {}
        passed, failed, skipped = (int(g) for g in matches[-1])
        return {"passed": passed, "failed": failed, "skipped": skipped}

    def assert_outcomes(self, passed: int = 0, failed: int = 0, skipped: int = 0) -> None:
        expected = {"passed": passed, "failed": failed, "skipped": skipped}
        actual = self.outcomes()
        assert actual == expected, f"{actual} != {expected}\n--- stdout\n{self.stdout}\n" \
                                   f"--- stderr\n{self.stderr}"


def run_mtrun(
    *args: Union[str, Path],
    cwd: Optional[Union[str, Path]] = None,
    env: Optional[dict[str, str]] = None,
    in_process: bool = False,
    timeout: float = 120,
) -> RunResult:
    """Run mtrun with ``args``, in a subprocess (the default, fully isolated) or in-process
    (faster; the target modules stay imported)."""
    argv = [str(a) for a in args]
    if in_process:
        return _in_process(argv, cwd, env or {})
    command = [sys.executable, "-m", "threaded_order_cli", *argv]
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return RunResult(done.returncode, done.stdout, done.stderr)


def _in_process(argv: list[str], cwd: Optional[Union[str, Path]],
                env: dict[str, str]) -> RunResult:
    from .main import run

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    # env applies here too (THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD...), restored afterwards.
    saved = {key: os.environ.get(key) for key in env}
    try:
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: Any = run(argv)
    finally:
        os.chdir(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return RunResult(int(code), out.getvalue(), err.getvalue())
