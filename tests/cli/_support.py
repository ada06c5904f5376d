"""Helpers shared by the CLI tests: every run is a real ``mtrun`` subprocess, started by
``threaded_order_cli.testing`` (which has TIMEOUT and ANSI too)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Optional, Union

from threaded_order_cli.testing import ANSI, TIMEOUT, RunResult, parse_outcomes, run_mtrun

__all__ = ["ANSI", "QUIET", "TIMEOUT", "assert_error", "counts", "mtrun", "section", "write"]

# Installed plugins (other teams' reporters, work in progress) must not disturb assertions;
# the tests about autoloading turn it back on. COLUMNS pins the width of rules and --log lines.
QUIET = {"THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "80"}


def write(folder: Path, name: str, source: str) -> Path:
    """Write a dedented source file (creating folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def mtrun(*args: Union[str, Path], cwd: Path, env: Optional[dict[str, str]] = None,
          autoload: bool = False, pythonpath: Union[Path, tuple[Path, ...]] = (),
          script: bool = False) -> RunResult:
    """``run_mtrun`` in ``cwd`` with QUIET: installed plugins stay off unless ``autoload``."""
    return run_mtrun(*args, cwd=cwd, env={**QUIET, **(env or {})}, autoload=autoload,
                     pythonpath=pythonpath, script=script)


def counts(result: Union[RunResult, str]) -> tuple[int, int, int]:
    """(passed, failed, skipped) from the summary line, which must be stdout's last line."""
    stdout = result if isinstance(result, str) else result.stdout
    found = parse_outcomes(stdout, final=True)
    assert found, f"no summary line at the end:\n{stdout}\n{getattr(result, 'stderr', '')}"
    return found["passed"], found["failed"], found["skipped"]


def assert_error(result: RunResult, code: int, *fragments: Union[str, re.Pattern]) -> str:
    """One line ``mtrun: error: ...`` on stderr, no traceback, this exit code; the line.
    Each fragment is a substring of the line, or a compiled pattern found in it."""
    assert result.ret == code, f"exit {result.ret}, wanted {code}\n{result.stderr}{result.stdout}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"wanted one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("mtrun: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        found = fragment.search(lines[0]) if isinstance(fragment, re.Pattern) else \
            fragment in lines[0]
        assert found, f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def section(stdout: str, title: str) -> str:
    """The text under a ``____ title ____`` rule, up to the next rule of '_' or '='."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"_+ {re.escape(title)} _+",
                                                                   line))
    end = next((i for i in range(start + 1, len(lines))
                if re.fullmatch(r"(_+|=+) .+ (_+|=+)", lines[i])), len(lines))
    return "\n".join(lines[start + 1:end])

