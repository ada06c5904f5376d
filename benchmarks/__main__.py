"""Command line: ``uv run --group bench python -m benchmarks [--quick] [...]``.

Prints the tables, writes JSON (default benchmarks/results/latest.json) and a PNG chart.
dask and matplotlib come from the ``bench`` dependency group; without them the dask
runner and the chart are skipped with a message, and the rest still runs.
Whole mtrun runs are measured apart: ``python -m benchmarks.e2e`` (against pytest and
pytest-xdist) and ``python -m benchmarks.scheduling`` (scheduling order and CI shards).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Optional

from . import graphs, measure, report
from .original import DEFAULT_VERSION, Original
from .runners import available

HERE = Path(__file__).resolve().parent
ALL_RUNNERS = ("ours", "ours-cp", "handrolled", "dask", "original")


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x]


def _names(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes and 3 repeats: a check in about a minute, not a result")
    p.add_argument("--sizes", type=_ints, help="no-op graph sizes (default 200,1000,2000,5000)")
    p.add_argument("--kinds", type=_names, default=list(graphs.KINDS),
                   help=f"graph kinds (default {','.join(graphs.KINDS)})")
    p.add_argument("--repeats", type=int,
                   help="interleaved repeats per scenario (default 7; scale probes: at most 5)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--runners", type=_names, default=list(ALL_RUNNERS),
                   help=f"which runners (default {','.join(ALL_RUNNERS)})")
    p.add_argument("--sleep-ms", type=float, default=10.0, help="sleep body length (10)")
    p.add_argument("--sleep-size", type=int,
                   help="tasks in the sleep graphs; the chain gets a quarter (default 200)")
    p.add_argument("--scale-sizes", type=_ints,
                   help="small,large task counts for the scale probes (default 2000,100000)")
    p.add_argument("--skip", type=_names, default=[], help="any of noop,sleep,scale")
    p.add_argument("--original-version", default=DEFAULT_VERSION)
    p.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    p.add_argument("--chart", type=Path, default=HERE / "results" / "chart.png")
    p.add_argument("--no-chart", action="store_true")
    args = p.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([200, 1000] if quick else [200, 1000, 2000, 5000])
    args.repeats = args.repeats or (3 if quick else 7)
    args.sleep_size = args.sleep_size or (80 if quick else 200)
    args.scale_sizes = args.scale_sizes or ([2000, 20000] if quick else [2000, 100000])
    unknown = set(args.runners) - set(ALL_RUNNERS) | set(args.kinds) - set(graphs.KINDS)
    if unknown or len(args.scale_sizes) != 2:
        p.error(f"unknown runner or kind {sorted(unknown)}, or --scale-sizes is not two numbers")
    return args


def sleep_specs(kinds: list[str], size: int) -> list[str]:
    return [f"{k}:{max(2, size // 4) if k == 'chain' else size}" for k in kinds]


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    args = parse_args(argv)
    log = measure.log
    runners, why = available([r for r in args.runners if r != "original"])
    for name, reason in why.items():
        log(f"skipping {name}: {reason}")
    original = None
    if "original" in args.runners:
        log(f"preparing the original threaded-order=={args.original_version} "
            "in benchmarks/.cache ...")
        original = Original(args.original_version)
        if original.python is None:
            log(f"skipping original: {original.problem}")
            original = None
        else:
            log(f"  original threaded-order {original.version} ready")
    started = time.time()
    from threaded_order import __version__ as ours_version

    meta: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "python": platform.python_version(), "platform": platform.platform(),
        "cpus": os.cpu_count(), "workers": args.workers, "repeats": args.repeats,
        "sleep_ms": args.sleep_ms, "runners": runners + (["original"] if original else []),
        "skipped": why, "ours_version": ours_version,
        "original_version": original.version if original else None,
    }
    if "dask" in runners:
        import dask

        meta["dask_version"] = dask.__version__
    measure.warm_up(runners, args.workers)
    data: dict[str, Any] = {"meta": meta, "noop": [], "sleep": [], "scale": None}
    if "noop" not in args.skip:
        log("no-op graphs")
        data["noop"] = measure.noop_runs(args.kinds, args.sizes, runners, args.workers,
                                         args.repeats, original)
    if "sleep" not in args.skip:
        log("sleep graphs")
        data["sleep"] = measure.sleep_runs(sleep_specs(args.kinds, args.sleep_size), runners,
                                           args.workers, args.repeats, args.sleep_ms / 1000,
                                           original)
    if "scale" not in args.skip and "ours" in runners:
        log("scale")
        small, large = args.scale_sizes
        data["scale"] = measure.scale_runs(small, large, args.workers, min(args.repeats, 5))
    data["targets"] = report.targets(data["noop"], data["sleep"], data["scale"])
    meta["seconds"] = round(time.time() - started, 1)
    print(f"\nthreaded-order {ours_version} benchmarks: {args.workers} workers, median of "
          f"{args.repeats} interleaved repeats, Python {meta['python']}, {meta['cpus']} CPUs\n")
    if data["noop"]:
        print(report.noop_table(data["noop"]), end="\n\n")
    if data["sleep"]:
        print(report.sleep_table(data["sleep"], args.sleep_ms), end="\n\n")
    if data["scale"]:
        print(report.scale_table(data["scale"]), end="\n\n")
    print(report.targets_table(data["targets"]))
    report.write_json(args.out, data)
    print(f"\nwrote {args.out}")
    if not args.no_chart and data["noop"]:
        try:
            report.chart(args.chart, data["noop"], args.workers)
            print(f"wrote {args.chart}")
        except ImportError as exc:
            log(f"no chart: matplotlib is not installed ({exc}); use `uv run --group bench`")
    return data


if __name__ == "__main__":
    main()
