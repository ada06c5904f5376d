"""One timed run of mtrun or pytest-xdist on the generated suite, and whether it was right.

The makespan is read from the tests' own log (first start to last end), the same way for
both runners, so interpreter start-up and collection are left out of it; mtrun's own figure
(the JSON report's ``duration``), pytest's ``in X s`` and the whole process's wall time are
kept beside it. The lower bound of a run comes from the durations its tests really took.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Optional

from threaded_order_cli.testing import mtrun_command, parse_outcomes, strip_ansi

from ..e2e.runners import clean_env
from ..e2e.runners import parse_counts as parse_pytest_counts
from .suite import Suite, Written, lower_bound, order_violations, read_log

TIMEOUT = 300.0
_PYTEST_IN = re.compile(r" in ([\d.]+)s")
_CRITICAL = re.compile(r"^critical path: .*$", re.M)
_SHARD = re.compile(r"^shard \d+/\d+: .*$", re.M)


class Outcome(NamedTuple):
    scenario: str
    workers: int
    makespan: float  # first test start to last test end, from the log
    reported: Optional[float]  # mtrun's JSON duration, or pytest's "in X s"
    wall: float  # the whole process
    bound: float  # max(critical path, busy / workers), from this run's durations
    busy: float  # the sum of the tests' durations
    skew: float  # how late the last worker started its first test
    durations: dict[str, float]  # of each test that ran, in log order
    returncode: int
    counts: dict[str, int]
    problems: list[str]  # empty when the run was right
    note: str  # mtrun's critical-path line, or its shard line

    @property
    def ratio(self) -> float:
        return self.makespan / self.bound if self.bound > 0 else float("nan")

    @property
    def right(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data.update(ratio=self.ratio, right=self.right, tests=len(self.durations))
        del data["durations"]
        return data


def _judge(suite: Suite, log_path: Path, expected: Optional[set[str]], returncode: int,
           counts: dict[str, int], with_edges: bool) -> tuple[list[str], Any]:
    """What is wrong with a run whose every test should pass, and its log."""
    log = read_log(log_path)
    names = set(log.spans)
    problems = []
    if returncode != 0:
        problems.append(f"exit code {returncode}")
    if expected is not None and names != expected:
        problems.append(f"{len(expected - names)} missing, {len(names - expected)} unexpected")
    if log.repeated:
        problems.append(f"{len(log.repeated)} ran twice")
    bad = {k: v for k, v in counts.items() if k != "passed" and v}
    if not counts:
        problems.append("no summary line")
    elif counts.get("passed") != len(names) or bad:
        problems.append(f"counts {counts} for {len(names)} tests run")
    if with_edges:
        violations = order_violations(suite, log)
        if violations:
            problems.append(f"{len(violations)} ran before their dependency: {violations[0]}")
    return problems, log


def _bound(suite: Suite, log: Any, workers: int, with_edges: bool) -> tuple[float, float]:
    seconds = log.durations()
    edges = {n: [d for d in deps if d in seconds] if with_edges else []
             for n, deps in suite.edges().items() if n in seconds}
    return lower_bound(edges, seconds, workers), sum(seconds.values())


def run_mtrun(suite: Suite, written: Written, scenario: str, workers: int,
              args: Sequence[str] = (".",), expected: Optional[set[str]] = None,
              timeout: float = TIMEOUT) -> Outcome:
    """``mtrun ARGS --workers N`` in the suite's folder, with a JSON report beside it."""
    report = written.mtrun_dir.parent / "mtrun-report.json"
    report.unlink(missing_ok=True)
    written.mtrun_log.unlink(missing_ok=True)
    command = mtrun_command(*args, "--workers", str(workers), "--reporter", f"json={report}")
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=written.mtrun_dir, env=clean_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    output = strip_ansi(proc.stdout + proc.stderr)
    counts = parse_outcomes(proc.stdout)
    problems, log = _judge(suite, written.mtrun_log, expected, proc.returncode, counts, True)
    reported = None
    if report.exists():
        document = json.loads(report.read_text(encoding="utf-8"))
        reported = float(document["duration"])
        if document["summary"]["total"] != len(log.spans):
            problems.append(f"JSON report has {document['summary']['total']} tasks")
    else:
        problems.append("no JSON report")
    if problems:
        problems.append("output tail: " + " | ".join(output.splitlines()[-6:]))
    bound, busy = _bound(suite, log, workers, True)
    notes = _CRITICAL.findall(output) + _SHARD.findall(output)
    return Outcome(scenario, workers, log.makespan, reported, wall, bound, busy,
                   log.start_skew(), log.durations(), proc.returncode, counts, problems,
                   "; ".join(notes))


def run_xdist(suite: Suite, written: Written, scenario: str, workers: int, dist: str,
              timeout: float = TIMEOUT) -> Outcome:
    """``pytest -n N --dist DIST`` on the copy without dependencies."""
    written.pytest_log.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n",
               str(workers), "--dist", dist, "."]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=written.pytest_dir, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - start
    output = strip_ansi(proc.stdout + proc.stderr)
    parsed = parse_pytest_counts("pytest", output)
    counts = {k: v for k, v in (parsed or {}).items() if v or k == "passed"}
    everything = {t.name for t in suite.tests}
    problems, log = _judge(suite, written.pytest_log, everything, proc.returncode, counts,
                           False)
    if problems:
        problems.append("output tail: " + " | ".join(output.splitlines()[-6:]))
    found = _PYTEST_IN.findall(output.splitlines()[-1] if output.strip() else "")
    bound, busy = _bound(suite, log, workers, False)
    return Outcome(scenario, workers, log.makespan, float(found[-1]) if found else None, wall,
                   bound, busy, log.start_skew(), log.durations(), proc.returncode, counts,
                   problems, "")
