"""``python -m benchmarks.e2e``: time every runner on every suite, interleaved, and report.

Runners take turns within each repeat (in a rotating order), so load from other processes
on a shared machine falls on all of them alike; the ratio to serial pytest is taken within
the same run for that reason. A run only counts as correct if its summary line says every
test passed, which is how xdist's broken dependency chains show up.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from . import startup
from .runners import Outcome, Runner, run_once, runners_for, wrong
from .suites import SUITES, Suite, Written, write_suite

# mtrun / serial pytest, wall time, same run
TARGETS = {"trivial": 0.5, "io": 0.2, "chains": 0.25}
# a no-autoload figure is worth a mention when it differs by more than this (and 20 ms)
MEANINGFUL = 0.10


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.e2e", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="one repeat, no warm-up, no secondary variants, no start-up report")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per runner (3)")
    p.add_argument("--out", type=Path, help="also write the results as JSON here")
    p.add_argument("--suites", default=",".join(SUITES),
                   help=f"comma-separated subset of {', '.join(SUITES)}")
    p.add_argument("--keep", action="store_true", help="keep the generated suites")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    args.suites = [s.strip() for s in args.suites.split(",") if s.strip()]
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        p.error(f"unknown suite(s): {', '.join(unknown)}")
    return args


def _require_plugins() -> None:
    missing = [m for m in ("xdist", "pytest_dependency") if importlib.util.find_spec(m) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: run with `uv run --group bench python -m "
                 "benchmarks.e2e`")


def _log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run_all(written: dict[str, Written], plan: dict[str, list[Runner]], repeats: int,
            warmup: bool) -> dict[str, dict[str, list[Outcome]]]:
    """Every runner on every suite ``repeats`` times, runners interleaved within a repeat."""
    if warmup:  # compile the test files to .pyc once for each runner, untimed
        for suite, runners in plan.items():
            for runner in runners:
                run_once(runner, written[suite])
    outcomes: dict[str, dict[str, list[Outcome]]] = {
        s: {r.key: [] for r in runners} for s, runners in plan.items()}
    for rep in range(repeats):
        for suite, runners in plan.items():
            shift = rep % len(runners)
            for runner in runners[shift:] + runners[:shift]:
                outcome = run_once(runner, written[suite])
                outcomes[suite][runner.key].append(outcome)
                _log(f"[{rep + 1}/{repeats}] {suite:<8} {runner.key:<18} "
                     f"{outcome.seconds:7.3f} s  {outcome.counts}")
    return outcomes


def summarize(written: dict[str, Written],
              outcomes: dict[str, dict[str, list[Outcome]]]) -> dict[str, Any]:
    """Medians, ratios to serial pytest, and the worst count error of each runner."""
    report: dict[str, Any] = {}
    for suite, by_runner in outcomes.items():
        expected = written[suite].expected
        base = statistics.median(o.seconds for o in by_runner["pytest"])
        rows = {}
        for key, runs in by_runner.items():
            times = [o.seconds for o in runs]
            problems = [wrong(o, expected) for o in runs]
            worst_at = max(range(len(runs)), key=lambda i: sum(problems[i].values()))
            worst = problems[worst_at]
            median = statistics.median(times)
            rows[key] = {
                "median_s": median, "min_s": min(times), "max_s": max(times),
                "times_s": times, "ratio_vs_pytest": median / base,
                "counts": runs[worst_at].counts, "returncodes": [o.returncode for o in runs],
                "correct": not any(problems), "wrong": worst,
                "tail": runs[worst_at].tail if worst else None,
            }
        report[suite] = {"expected_passed": expected, "runners": rows}
    return report


def targets(report: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for suite, limit in TARGETS.items():
        if suite not in report:
            continue
        row = report[suite]["runners"]["mtrun"]
        found[suite] = {"limit": limit, "ratio": row["ratio_vs_pytest"],
                        "correct": row["correct"],
                        "met": row["correct"] and row["ratio_vs_pytest"] <= limit}
    return found


def no_autoload_notes(report: dict[str, Any]) -> list[str]:
    notes = []
    for suite, data in report.items():
        rows = data["runners"]
        if "mtrun no-autoload" not in rows:
            continue
        a, b = rows["mtrun"]["median_s"], rows["mtrun no-autoload"]["median_s"]
        diff, low = a - b, rows["mtrun"]["min_s"] - rows["mtrun no-autoload"]["min_s"]
        # medians and minimums must both differ, the same way: one slow run is not a finding
        meaningful = all(abs(d) > 0.02 and abs(d) > MEANINGFUL * a for d in (diff, low)) \
            and (diff > 0) == (low > 0)
        notes.append(f"  {suite:<8} with plugins {a:.3f} s, THREADED_ORDER_DISABLE_PLUGIN_"
                     f"AUTOLOAD=1 {b:.3f} s ({diff * 1000:+.0f} ms"
                     f"{', meaningful' if meaningful else ', within noise'})")
    return notes


def format_table(report: dict[str, Any]) -> list[str]:
    # pass/fail/skip: the counts of the runner's worst run (its first when all were right)
    head = (f"{'suite':<8} {'runner':<18} {'median s':>9} {'min':>7} {'max':>7} "
            f"{'x pytest':>8}  {'pass/fail/skip':>15}  counts")
    lines = [head, "-" * len(head)]
    for suite, data in report.items():
        for key, row in data["runners"].items():
            c = row["counts"]
            pfs = f"{c['passed']}/{c['failed']}/{c['skipped']}" if c else "?"
            verdict = "ok" if row["correct"] else "WRONG " + ", ".join(
                f"{n} {k}" for k, n in row["wrong"].items())
            lines.append(f"{suite:<8} {key:<18} {row['median_s']:9.3f} {row['min_s']:7.3f} "
                         f"{row['max_s']:7.3f} {row['ratio_vs_pytest']:7.2f}x  {pfs:>15}  "
                         f"{verdict}")
    return lines


def machine() -> dict[str, Any]:
    return {"python": sys.version.split()[0], "executable": sys.executable,
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    _require_plugins()
    root = Path(tempfile.mkdtemp(prefix="mtrun-e2e-"))
    try:
        written = {name: write_suite(SUITES[name], root) for name in args.suites}
        plan = {name: runners_for(name, args.quick) for name in args.suites}
        _log(f"suites written to {root}; {args.repeats} repeat(s)")
        outcomes = run_all(written, plan, args.repeats, warmup=not args.quick)
        report = summarize(written, outcomes)
        found = targets(report)
        start = None
        if not args.quick:
            tiny = write_suite(Suite("tiny", 5, files=1), root).mtrun_dir
            start = startup.measure(tiny)
    finally:
        if args.keep:
            _log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    m = machine()
    load = ", load average " + " ".join(f"{x:.1f}" for x in m["load_average"]) \
        if m["load_average"] else ""
    lines = [f"Python {m['python']} ({m['executable']}), {m['cpus']} CPUs{load}",
             f"median wall seconds of {args.repeats} run(s), ratio to serial pytest in this run",
             *format_table(report), ""]
    lines.append("targets (mtrun / pytest; mtrun's counts must be correct):")
    for suite, t in found.items():
        lines.append(f"  {suite:<8} {t['ratio']:.2f}x <= {t['limit']:.2f}x  "
                     f"{'MET' if t['met'] else 'MISSED'}"
                     + ("" if t["correct"] else " (counts wrong)"))
    notes = no_autoload_notes(report)
    if notes:
        lines += ["", "installed plugins vs none (mtrun):", *notes]
    if start is not None:
        lines += ["", *startup.format_report(start)]
    print("\n".join(lines))
    if args.out:
        data = {"machine": machine(), "repeats": args.repeats, "quick": args.quick,
                "suites": report, "targets": found, "startup": start,
                "specs": {n: SUITES[n]._asdict() for n in args.suites}}
        args.out.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        _log(f"wrote {args.out}")
