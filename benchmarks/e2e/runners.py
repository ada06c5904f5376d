"""How each runner is invoked on a suite, timed, and how its summary line is read back.

Every runner is a fresh process of this same interpreter, so start-up, imports, collection
and reporting are all in the figure, as they are for a user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import NamedTuple, Optional

from .suites import Written

PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
MTRUN = (sys.executable, "-m", "threaded_order_cli")
NO_AUTOLOAD = "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD"
# mtrun's worker count per suite, as the issue sets them (None: mtrun's default)
MTRUN_WORKERS = {"trivial": None, "io": 16, "chains": 8}

_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")
_PYTEST_SUMMARY = re.compile(r"\d+ (passed|failed|skipped|errors?)\b.* in [\d.]+s")
_MTRUN_SUMMARY = re.compile(r"=+ (\d+) passed, (\d+) failed, (\d+) skipped in [\d.]+s =+")


class Runner(NamedTuple):
    key: str
    kind: str  # "pytest" or "mtrun": which summary line to read
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


class Outcome(NamedTuple):
    """One timed run: wall seconds, exit code, and the counts its summary line gave."""

    seconds: float
    returncode: int
    counts: Optional[dict[str, int]]
    tail: str


def runners_for(suite: str, quick: bool = False) -> list[Runner]:
    """The runners compared on ``suite``; ``quick`` leaves out the secondary variants."""
    found = [Runner("pytest", "pytest"), Runner("xdist -n 2", "pytest", ("-n", "2"))]
    if suite == "io" and not quick:
        found.append(Runner("xdist -n 8", "pytest", ("-n", "8")))
    workers = MTRUN_WORKERS.get(suite)
    args = ("--workers", str(workers)) if workers else ()
    found.append(Runner("mtrun", "mtrun", args))
    if not quick:
        found.append(Runner("mtrun no-autoload", "mtrun", args, ((NO_AUTOLOAD, "1"),)))
        # the cost of critical-path-first order (the default) with no history
        found.append(Runner("mtrun --order registration", "mtrun",
                            (*args, "--order", "registration")))
    return found


def command(runner: Runner, target: str = ".") -> list[str]:
    base = PYTEST if runner.kind == "pytest" else MTRUN
    return [*base, *runner.args, target]


def clean_env(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """This environment without what would change a runner's behaviour behind its back."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "THREADED_ORDER_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def run_once(runner: Runner, written: Written, timeout: float = 300.0) -> Outcome:
    """Run ``runner`` on its copy of the suite, from inside that folder, and time it."""
    folder = written.pytest_dir if runner.kind == "pytest" else written.mtrun_dir
    env = clean_env(runner.env)
    start = time.perf_counter()
    proc = subprocess.run(command(runner), cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    counts = parse_counts(runner.kind, output)
    return Outcome(seconds, proc.returncode, counts, "\n".join(output.splitlines()[-15:]))


def parse_counts(kind: str, output: str) -> Optional[dict[str, int]]:
    """passed/failed/skipped (and errors) from the runner's last summary line, or None."""
    lines = output.splitlines()
    if kind == "mtrun":
        for line in reversed(lines):
            m = _MTRUN_SUMMARY.search(line)
            if m:
                return {"passed": int(m[1]), "failed": int(m[2]), "skipped": int(m[3]),
                        "errors": 0}
        return None
    for line in reversed(lines):
        if _PYTEST_SUMMARY.search(line):
            counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
            for n, word in _PYTEST_COUNT.findall(line):
                key = "errors" if word.startswith("error") else word
                counts[key] = counts.get(key, 0) + int(n)
            return counts
    return None


def wrong(outcome: Outcome, expected: int) -> dict[str, int]:
    """What is wrong with a run whose every test should pass: non-zero means incorrect."""
    if outcome.counts is None:
        return {"unparsed": 1}
    c = outcome.counts
    reported = c["passed"] + c["skipped"] + c["failed"] + c["errors"]
    bad = {"skipped": c["skipped"], "failed": c["failed"], "errors": c["errors"],
           "missing": max(0, expected - reported), "exit": int(outcome.returncode != 0)}
    return {k: v for k, v in bad.items() if v}
