"""``python -m benchmarks.scheduling``: critical-path-first scheduling and CI shards, for real.

Each repeat, at each worker count: a run with no history (``--cache-clear``), a run with the
cache that run left, and ``--order=registration``; then pytest-xdist on the copy without
dependencies; then the shards. Medians over repeats. The lower bound of every run is
max(critical path, busy / workers) from the durations its tests really took.
"""

from __future__ import annotations

import argparse
import datetime
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

from .runs import Outcome, run_mtrun, run_xdist
from .shards import Split, median_summary, run_splits, store_durations
from .suite import Spec, Suite, generate, lower_bound, nominal, simulate, write

HERE = Path(__file__).resolve().parents[1]
MTRUN = {"mtrun, no history": ("--cache-clear",), "mtrun, with history": (),
         "mtrun --order=registration": ("--order=registration",)}
TARGET_RATIO = 1.05  # with history, makespan / lower bound
TARGET_SHARD = 1.10  # slowest shard / (total / N)
DURATIONS = ".mtrun-durations.json"
TIMES = "\u00d7"  # the multiplication sign, for the README's tables
PARTS = ("mtrun", "xdist", "shards", "simulate")


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scheduling",
                                description=__doc__.split("\n")[0])
    d = Spec()
    p.add_argument("--quick", action="store_true",
                   help="60 tests of about 1 s at 8 workers, one repeat: a check, not a result")
    p.add_argument("--tests", type=int, default=d.tests)
    p.add_argument("--modules", type=int, default=d.modules)
    p.add_argument("--seconds", type=float, default=d.seconds,
                   help=f"the lower bound at {d.workers} workers, in seconds ({d.seconds})")
    p.add_argument("--sigma", type=float, default=d.sigma)
    p.add_argument("--chained", type=float, default=d.chained)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--workers", type=_ints, default=[8, 16], help="mtrun's (8,16)")
    p.add_argument("--xdist-workers", type=int, default=8)
    p.add_argument("--dists", default="load,worksteal")
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--shard-workers", type=int, default=2,
                   help="workers of each shard's run (2: a small CI machine)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sim-seeds", type=int, default=20,
                   help="seeds of the simulated comparison of orders (20)")
    p.add_argument("--skip", default="", help=f"any of {','.join(PARTS)}")
    p.add_argument("--out", type=Path, help="results JSON (results/scheduling.json; "
                   "with --quick, results/scheduling-quick.json)")
    p.add_argument("--keep", action="store_true", help="keep the generated suite")
    args = p.parse_args(argv)
    if args.quick:
        args.tests, args.modules, args.seconds, args.repeats = 60, 6, 1.0, 1
        args.sim_seeds = min(args.sim_seeds, 3)
    if args.out is None:
        args.out = HERE / "results" / f"scheduling{'-quick' if args.quick else ''}.json"
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - set(PARTS):
        p.error(f"--skip takes any of {','.join(PARTS)}")
    counts = [args.repeats, args.shards, args.shard_workers, args.xdist_workers, args.modules,
              *args.workers]
    if min(counts) < 1 or not args.workers or args.tests < args.modules:
        p.error("--repeats, --shards, --modules and worker counts must be >= 1, and --tests "
                ">= --modules")
    if args.seconds <= 0 or args.sigma < 0 or not 0 <= args.chained < 1:
        p.error("--seconds must be > 0, --sigma >= 0 and --chained in [0, 1)")
    args.dists = [x for x in args.dists.split(",") if x]
    return args


def _log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def simulated(spec: Spec, workers: list[int], seeds: int) -> dict[str, Any]:
    """List scheduling without overhead, ratio to the bound: this suite, and over seeds."""
    orders = {"registration": ("registration", False), "critical path, no history":
              ("critical-path", False), "critical path, known durations":
              ("critical-path", True)}

    def ratios(suite: Suite, w: int) -> dict[str, float]:
        edges, seconds = suite.edges(), nominal(suite)
        bound = lower_bound(edges, seconds, w)
        return {name: simulate(edges, seconds, w, order, seconds if known else None) / bound
                for name, (order, known) in orders.items()}

    this = generate(spec)
    found: dict[str, Any] = {"this_suite": {w: ratios(this, w) for w in workers},
                             "seeds": seeds, "over_seeds": {}}
    for w in sorted({4, *workers}):
        rows = [ratios(generate(spec._replace(seed=s)), w) for s in range(seeds)]
        found["over_seeds"][w] = {name: {"median": statistics.median(r[name] for r in rows),
                                         "max": max(r[name] for r in rows)} for name in orders}
    return found


def run_all(args: argparse.Namespace, suite: Suite, written: Any) -> dict[str, Any]:
    everything = {t.name for t in suite.tests}
    outcomes: list[Outcome] = []
    splits: list[Split] = []
    history: list[Outcome] = []
    for rep in range(1, args.repeats + 1):
        if "mtrun" not in args.skip:
            for w in args.workers:
                for scenario, extra in MTRUN.items():
                    if extra == ("--cache-clear",):  # and no committed durations either
                        (written.mtrun_dir / DURATIONS).unlink(missing_ok=True)
                    outcomes.append(run_mtrun(suite, written, scenario, w, (".", *extra),
                                              everything))
                    _show(rep, args.repeats, outcomes[-1])
        if "xdist" not in args.skip:
            for dist in args.dists:
                outcomes.append(run_xdist(suite, written, f"pytest-xdist --dist {dist}",
                                          args.xdist_workers, dist))
                _show(rep, args.repeats, outcomes[-1])
        if "shards" not in args.skip:
            history.append(store_durations(suite, written, max(args.workers)))
            _show(rep, args.repeats, history[-1])
            for split in run_splits(suite, written, args.shards, args.shard_workers):
                splits.append(split)
                for shard in split.shards:
                    _show(rep, args.repeats, shard)
    return {"outcomes": outcomes, "splits": splits, "history": history}


def _show(rep: int, repeats: int, o: Outcome) -> None:
    verdict = "ok" if o.right else "WRONG: " + "; ".join(o.problems)
    _log(f"[{rep}/{repeats}] {o.scenario:<28} {o.workers:>3} workers  makespan "
         f"{o.makespan:6.2f} s  bound {o.bound:6.2f} s  {o.ratio:5.3f}x  {verdict}")


def summarize(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.scenario, o.workers), []).append(o)
    rows = []
    for (scenario, workers), runs in groups.items():
        reported = [o.reported for o in runs if o.reported is not None]
        rows.append({
            "scenario": scenario, "workers": workers, "runs": len(runs),
            "makespan_s": statistics.median(o.makespan for o in runs),
            "makespans_s": [o.makespan for o in runs],
            "bound_s": statistics.median(o.bound for o in runs),
            "ratio": statistics.median(o.ratio for o in runs),
            "ratios": [o.ratio for o in runs],
            "reported_s": statistics.median(reported) if reported else None,
            "wall_s": statistics.median(o.wall for o in runs),
            "skew_s": statistics.median(o.skew for o in runs),
            "right": all(o.right for o in runs),
            "counts": runs[0].counts, "problems": [p for o in runs for p in o.problems],
            "notes": [o.note for o in runs if o.note][:1],
        })
    return rows


def targets(rows: list[dict[str, Any]], shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [{"target": f"with history at {r['workers']} workers: makespan <= "
                        f"{TARGET_RATIO}x lower bound", "value": r["ratio"],
              "worst": max(r["ratios"]), "met": r["right"] and r["ratio"] <= TARGET_RATIO}
             for r in rows if r["scenario"] == "mtrun, with history"]
    found += [{"target": f"{s['method']}: slowest shard's work <= {TARGET_SHARD}x total/N",
               "value": s["slowest_work_ratio"], "worst": None,
               "met": s["right"] and s["slowest_work_ratio"] <= TARGET_SHARD}
              for s in shards]
    return found


def markdown(rows: list[dict[str, Any]], shards: list[dict[str, Any]]) -> list[str]:
    lines = ["| scenario | workers | makespan | lower bound | ratio to lower bound | "
             "counts right |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | {r['workers']} | {r['makespan_s']:.2f} s | "
                     f"{r['bound_s']:.2f} s | {r['ratio']:.3f}{TIMES} | "
                     f"{'yes' if r['right'] else 'NO'} |")
    if shards:
        lines += ["", "| shards | tests per shard | work per shard (s) | slowest ÷ (total/N) "
                  "| slowest ÷ fastest | wall per shard (s) | slowest wall ÷ ideal "
                  "| counts right |",
                  "|---|---|---|---|---|---|---|---|"]
        for s in shards:
            lines.append(
                f"| {s['method']} | {' / '.join(str(round(n)) for n in s['tests'])} | "
                f"{' / '.join(f'{x:.1f}' for x in s['work_s'])} | "
                f"{s['slowest_work_ratio']:.3f}{TIMES} | {s['work_spread']:.2f}{TIMES} | "
                f"{' / '.join(f'{x:.1f}' for x in s['wall_s'])} | "
                f"{s['slowest_wall_ratio']:.3f}{TIMES} | "
                f"{'yes' if s['right'] else 'NO'} |")
    return lines


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    args = parse_args(argv)
    if "xdist" not in args.skip and importlib.util.find_spec("xdist") is None:
        _log("skipping pytest-xdist: it is not installed (use `uv run --group bench`)")
        args.skip.add("xdist")
    spec = Spec(args.tests, args.modules, args.sigma, args.chained, args.seconds,
                8, args.seed)
    suite = generate(spec)
    data: dict[str, Any] = {"meta": {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.scheduling", *(argv or sys.argv[1:])]),
        "python": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "load_average": list(os.getloadavg()),
        "spec": spec._asdict(), "repeats": args.repeats,
        "nominal_total_s": sum(nominal(suite).values()),
        "nominal_bound_s": {w: lower_bound(suite.edges(), nominal(suite), w)
                            for w in args.workers},
    }}
    if "simulate" not in args.skip:
        data["simulated"] = simulated(spec, args.workers, args.sim_seeds)
    root = Path(tempfile.mkdtemp(prefix="mtrun-scheduling-"))
    try:
        written = write(suite, root)
        _log(f"suite of {len(suite.tests)} tests written to {root}")
        raw = run_all(args, suite, written)
    finally:
        if args.keep:
            _log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    rows = summarize(raw["outcomes"])
    by_method: dict[str, list[dict[str, Any]]] = {}
    for split in raw["splits"]:
        by_method.setdefault(split.method, []).append(split.summary(suite))
    shards = [median_summary(v) for v in by_method.values()]
    data.update(rows=rows, shards=shards, targets=targets(rows, shards),
                shard_runs=[s for v in by_method.values() for s in v],
                runs=[o.as_dict() for o in raw["outcomes"]],
                history_runs=[o.as_dict() for o in raw["history"]])
    data["meta"]["load_average_after"] = list(os.getloadavg())
    print("\n".join(report_lines(data)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return data


def report_lines(data: dict[str, Any]) -> list[str]:
    meta = data["meta"]
    lines = [f"{meta['spec']['tests']} tests in {meta['spec']['modules']} modules, "
             f"{meta['nominal_total_s']:.1f} s of sleep; Python {meta['python']}, "
             f"{meta['cpus']} CPUs, median of {meta['repeats']} repeat(s)", ""]
    lines += markdown(data["rows"], data["shards"])
    lines += ["", "targets:"]
    for t in data["targets"]:
        worst = f" (worst {t['worst']:.3f}x)" if t["worst"] is not None else ""
        lines.append(f"  {t['target']}: {t['value']:.3f}x{worst}  "
                     f"{'MET' if t['met'] else 'MISSED'}")
    sim = data.get("simulated")
    if sim:
        lines += ["", f"simulated list scheduling, no overhead (ratio to the lower bound; "
                      f"median / max over {sim['seeds']} seeds):"]
        for w, by_order in sim["over_seeds"].items():
            lines.append(f"  {w:>2} workers: " + ", ".join(
                f"{name} {v['median']:.3f} / {v['max']:.3f}" for name, v in by_order.items()))
    return lines
