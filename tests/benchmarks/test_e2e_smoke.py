"""Smoke test of the end-to-end benchmark on tiny suites: correctness only, never timing.

The benchmark's figures are only worth anything if every runner really ran the same suite
and its summary was read right, so this checks counts, exit codes and dependency order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.e2e.runners import (
    Outcome,
    Runner,
    parse_counts,
    run_once,
    runners_for,
    wrong,
)
from benchmarks.e2e.suites import Suite, order_violations, write_module, write_suite
from threaded_order_cli.testing import TIMEOUT

TRIVIAL = Suite("trivial", 20, files=2)
CHAINS = Suite("chains", 20, sleep=0.002, chains=4, files=4)
MTRUN = Runner("mtrun", "mtrun", ("--workers", "4"))
PYTEST = Runner("pytest", "pytest")


@pytest.fixture(scope="module")
def suites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("e2e")
    return {s.name: write_suite(s, root, record=True) for s in (TRIVIAL, CHAINS)}


def _log(written: object, runner: str, fresh: bool = False) -> Path:
    """The start/end log the generated tests append to; ``fresh`` empties it first."""
    log = written.mtrun_dir.parent / f"{runner}.log"  # type: ignore[attr-defined]
    if fresh:
        log.unlink(missing_ok=True)
    return log


def _check_all_passed(outcome: Outcome, expected: int) -> None:
    assert outcome.returncode == 0, outcome.tail
    assert outcome.counts is not None, outcome.tail
    assert outcome.counts["passed"] == expected, outcome.tail
    assert wrong(outcome, expected) == {}


def test_generated_files_carry_the_same_edges() -> None:
    tests = [("test_c0_000", None), ("test_c0_001", "test_c0_000")]
    as_pytest = write_module(CHAINS, "pytest", tests)
    as_mtrun = write_module(CHAINS, "mtrun", tests)
    assert '@pytest.mark.dependency(depends=["test_c0_000"])' in as_pytest.replace("'", '"')
    assert '@dmark(after=["test_c0_000"])' in as_mtrun.replace("'", '"')
    for source in (as_pytest, as_mtrun):
        compile(source, "<generated>", "exec")


@pytest.mark.parametrize("name", ["trivial", "chains"])
def test_mtrun_runs_every_task_in_dependency_order(suites: dict, name: str) -> None:
    written = suites[name]
    _log(written, "mtrun", fresh=True)
    _check_all_passed(run_once(MTRUN, written, timeout=TIMEOUT), written.expected)
    assert order_violations(_log(written, "mtrun"), written.suite) == []


def test_pytest_runs_the_trivial_suite(suites: dict) -> None:
    written = suites["trivial"]
    _check_all_passed(run_once(PYTEST, written, timeout=TIMEOUT), written.expected)


def test_pytest_dependency_runs_the_chains_in_order(suites: dict) -> None:
    pytest.importorskip("pytest_dependency")
    written = suites["chains"]
    _log(written, "pytest", fresh=True)
    _check_all_passed(run_once(PYTEST, written, timeout=TIMEOUT), written.expected)
    assert order_violations(_log(written, "pytest"), written.suite) == []


def test_xdist_counts_are_read_and_wrong_skips_reported(suites: dict) -> None:
    pytest.importorskip("xdist")
    pytest.importorskip("pytest_dependency")
    written = suites["chains"]
    outcome = run_once(Runner("xdist -n 2", "pytest", ("-n", "2")), written, timeout=TIMEOUT)
    assert outcome.returncode == 0, outcome.tail
    counts = outcome.counts
    assert counts is not None, outcome.tail
    assert counts["passed"] + counts["skipped"] == written.expected
    assert wrong(outcome, written.expected).get("skipped", 0) == counts["skipped"]


def test_summary_lines_are_parsed() -> None:
    assert parse_counts("pytest", "....\n25 passed, 175 skipped in 1.46s\n") == {
        "passed": 25, "failed": 0, "skipped": 175, "errors": 0}
    assert parse_counts("pytest", "= 1 failed, 2 passed, 1 error in 0.10s =") == {
        "passed": 2, "failed": 1, "skipped": 0, "errors": 1}
    mtrun = "hello\n==== 3 passed, 1 failed, 2 skipped in 0.01s ====\n"
    assert parse_counts("mtrun", mtrun) == {"passed": 3, "failed": 1, "skipped": 2, "errors": 0}
    assert parse_counts("mtrun", "mtrun: error: boom\n") is None
    bad = Outcome(0.1, 1, {"passed": 3, "failed": 1, "skipped": 2, "errors": 0}, "")
    assert wrong(bad, 7) == {"failed": 1, "skipped": 2, "missing": 1, "exit": 1}


def test_runner_plan_follows_the_issue() -> None:
    io = {r.key: r for r in runners_for("io")}
    assert io["mtrun"].args == ("--workers", "16")
    assert "xdist -n 8" in io and "xdist -n 8" not in {r.key for r in runners_for("chains")}
    assert {r.key: r for r in runners_for("chains")}["mtrun"].args == ("--workers", "8")
    assert {r.key: r for r in runners_for("trivial")}["mtrun"].args == ()
    assert "mtrun no-autoload" not in {r.key for r in runners_for("io", quick=True)}


# Start-up is most of mtrun's time on small suites: none of these may load unless selected.
NEVER_AT_START = ("rich", "structlog", "dask", "distributed", "matplotlib", "numpy",
                  "importlib.metadata", "importlib_metadata", "threaded_order_json.reporter",
                  "threaded_order_junit.reporter", "threaded_order_junit.report",
                  "threaded_order_structlog.reporter",
                  "threaded_order_progress.reporter", "threaded_order_dask.executor",
                  "asyncio", "multiprocessing", "threaded_order._remote")
_MODULES_AFTER = (
    "import contextlib, io, json, sys\n"
    "from threaded_order_cli.main import run\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    code = run(sys.argv[1:])\n"
    "print(json.dumps([code, sorted(sys.modules)]))\n"
)


@pytest.mark.parametrize("args", [["--version"], ["."]], ids=["version", "run"])
def test_mtrun_start_up_imports_nothing_heavy(suites: dict, args: list[str]) -> None:
    import json
    import subprocess

    from benchmarks.e2e.runners import clean_env

    proc = subprocess.run([sys.executable, "-c", _MODULES_AFTER, *args], capture_output=True,
                          text=True, cwd=suites["trivial"].mtrun_dir, env=clean_env(),
                          timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    code, modules = json.loads(proc.stdout.splitlines()[-1])
    assert code == 0
    loaded = [m for m in modules if m in NEVER_AT_START or m.split(".")[0] in NEVER_AT_START]
    assert loaded == []
