"""Smoke test of the scheduling benchmark on a tiny suite: correctness only, never timing.

Its figures are only worth anything if the generated suite is what it claims (seeded,
chained inside modules, scaled) and every run, shard and split really ran each test once,
in dependency order, with the counts read right.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.scheduling.cli import main
from benchmarks.scheduling.runs import run_mtrun, run_xdist
from benchmarks.scheduling.shards import by_file_count
from benchmarks.scheduling.suite import (
    Log,
    Spec,
    critical_path,
    generate,
    lower_bound,
    module_source,
    nominal,
    order_violations,
    simulate,
    write,
)

TINY = Spec(tests=12, modules=3, seconds=0.05, seed=3)


def test_the_suite_is_seeded_chained_inside_modules_and_scaled() -> None:
    suite = generate(Spec())
    assert suite == generate(Spec()) and suite != generate(Spec(seed=15))
    assert len(suite.tests) == 400 and len(suite.files) == 20
    assert len({t.name for t in suite.tests}) == 400
    chained = [t for t in suite.tests if t.after]
    assert len(chained) == 120
    names = [t.name for t in suite.tests]
    module = {t.name: t.module for t in suite.tests}
    assert all(module[t.after] == t.module and names.index(t.after) < names.index(t.name)
               for t in chained if t.after)
    assert lower_bound(suite.edges(), nominal(suite), 8) == pytest.approx(6.0, rel=1e-3)


def test_both_copies_compile_and_only_mtrun_has_dependencies(tmp_path: Path) -> None:
    suite = generate(TINY)
    tests = [t for t in suite.tests if t.module == suite.files[0]]
    log = tmp_path / "x.log"
    as_mtrun, as_pytest = (module_source(tests, r, log) for r in ("mtrun", "pytest"))
    for source in (as_mtrun, as_pytest):
        compile(source, "<generated>", "exec")
    assert as_mtrun.count("@dmark(") == len(tests)
    assert "after=" not in as_pytest and "dmark" not in as_pytest


def test_simulation_and_bounds_on_graphs_with_known_answers() -> None:
    chain = {"a": [], "b": ["a"], "c": ["b"]}
    seconds = {"a": 1.0, "b": 2.0, "c": 3.0}
    assert critical_path(chain, seconds) == 6.0
    assert simulate(chain, seconds, 4, "registration") == 6.0
    flat: dict[str, list[str]] = {n: [] for n in "abcde"}
    ones = dict.fromkeys("abcde", 1.0)
    assert lower_bound(flat, ones, 2) == 2.5
    assert simulate(flat, ones, 2, "registration") == 3.0
    # the long test registered last: registration order pays for it, critical path does not
    late = {"a": 1.0, "b": 1.0, "c": 2.0}
    apart: dict[str, list[str]] = {n: [] for n in late}
    assert simulate(apart, late, 2, "registration") == 3.0
    assert simulate(apart, late, 2, "critical-path", late) == 2.0
    suite = generate(TINY)
    for w in (1, 2, 4):
        bound = lower_bound(suite.edges(), nominal(suite), w)
        assert simulate(suite.edges(), nominal(suite), w, "critical-path") >= bound - 1e-9


def test_a_wrong_run_is_reported(tmp_path: Path) -> None:
    suite = generate(TINY)
    written = write(suite, tmp_path)
    first, second = suite.tests[0], suite.tests[1]
    out_of_order = Log({first.name: (5.0, 6.0), second.name: (1.0, 2.0)}, [], {})
    chained = second._replace(after=first.name)
    assert order_violations(suite._replace(tests=[first, chained]), out_of_order)
    expected = {t.name for t in suite.tests} | {"test_not_in_the_suite"}
    outcome = run_mtrun(suite, written, "check", 4, (".",), expected)
    assert not outcome.right and "1 missing" in outcome.problems[0]


def test_the_benchmark_end_to_end_on_a_tiny_suite(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    data = main(["--tests", "12", "--modules", "3", "--seconds", "0.05", "--seed", "3",
                 "--workers", "2", "--repeats", "1", "--skip", "xdist", "--shards", "2",
                 "--shard-workers", "2", "--sim-seeds", "2", "--out", str(out)])
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert {r["scenario"] for r in saved["rows"]} == {
        "mtrun, no history", "mtrun, with history", "mtrun --order=registration"}
    for row in data["rows"]:
        assert row["right"], row["problems"]
        assert row["counts"] == {"passed": 12, "failed": 0, "skipped": 0}
        assert row["bound_s"] > 0 and row["makespan_s"] > 0
    assert [s["method"] for s in data["shards"]] == ["--shard K/N", "file count"]
    for split in data["shards"]:
        assert split["right"] and split["partition"], split["problems"]
        assert sum(split["tests"]) == 12
    assert len(data["targets"]) == 3


def test_file_count_split_covers_every_file_once() -> None:
    suite = generate(Spec(tests=40, modules=7, seconds=0.1))
    groups = by_file_count(suite, 3)
    assert sorted(f for g in groups for f in g) == suite.files
    assert [len(g) for g in groups] == [3, 2, 2]


def test_xdist_runs_the_copy_without_dependencies(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    suite = generate(TINY)
    written = write(suite, tmp_path)
    outcome = run_xdist(suite, written, "xdist", 2, "worksteal")
    assert outcome.right, outcome.problems
    assert outcome.counts == {"passed": 12} and len(outcome.durations) == 12
