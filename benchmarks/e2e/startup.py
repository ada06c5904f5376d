"""mtrun's start-up: wall time of tiny commands and ``-X importtime``'s costliest imports.

On a shared machine one importtime run is noise; the minimum over several runs of each
module's figure is what that import costs when nothing else gets in the way.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

from .runners import MTRUN, NO_AUTOLOAD, clean_env

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
_ENTRY_POINTS = (
    "import time; t = time.perf_counter(); import importlib.metadata as m; "
    "t1 = time.perf_counter(); m.entry_points(group='threaded_order'); "
    "t2 = time.perf_counter(); print(t1 - t, t2 - t1)"
)


def parse_importtime(stderr: str) -> dict[str, tuple[int, int, int]]:
    """module -> (self us, cumulative us, depth) from one ``-X importtime`` run."""
    found = {}
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if m:
            found[m[4]] = (int(m[1]), int(m[2]), len(m[3]) // 2)
    return found


def importtime(args: list[str], cwd: Optional[Path] = None, runs: int = 5,
               env: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Per module, the minimum self and cumulative microseconds over ``runs`` runs."""
    best: dict[str, list[int]] = {}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=cwd,
                              env=clean_env(env), capture_output=True, text=True, check=False)
        for name, (self_us, cum_us, depth) in parse_importtime(proc.stderr).items():
            old = best.setdefault(name, [self_us, cum_us, depth])
            old[0], old[1] = min(old[0], self_us), min(old[1], cum_us)
    top_level = sorted(((v[1], k) for k, v in best.items() if v[2] == 0), reverse=True)
    by_self = sorted(((v[0], k) for k, v in best.items()), reverse=True)
    return {
        "total_ms": sum(c for c, _ in top_level) / 1000,
        "top_level_ms": [(k, c / 1000) for c, k in top_level[:12]],
        "self_ms": [(k, s / 1000) for s, k in by_self[:12]],
        "cumulative_ms": {k: v[1] / 1000 for k, v in best.items() if k in _WATCHED},
    }


# packages whose cumulative cost is worth showing on its own
_WATCHED = {"click", "pluggy", "threaded_order", "threaded_order_cli", "asyncio",
            "importlib.metadata", "importlib.util", "rich", "structlog", "json", "logging",
            "inspect", "platform", "multiprocessing", "concurrent.futures", "pickle",
            "threaded_order._remote", "threaded_order_cli.executors", "dask",
            "threaded_order_json", "threaded_order_junit", "threaded_order_structlog",
            "threaded_order_progress", "hello_plugin", "_distutils_hack"}


def wall(args: list[str], cwd: Optional[Path] = None, runs: int = 7,
         env: tuple[tuple[str, str], ...] = ()) -> dict[str, float]:
    """Median and minimum seconds of ``python ARGS`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=cwd, env=clean_env(env),
                       capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times)}


def entry_point_scan(runs: int = 5) -> dict[str, float]:
    """Milliseconds to import importlib.metadata and to scan the entry points (minimum)."""
    imports, scans = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _ENTRY_POINTS], capture_output=True,
                             text=True, check=True, env=clean_env()).stdout.split()
        imports.append(float(out[0]))
        scans.append(float(out[1]))
    return {"import_ms": min(imports) * 1000, "scan_ms": min(scans) * 1000}


def measure(tiny_suite: Path, runs: int = 5) -> dict[str, Any]:
    """Everything the report says about start-up; ``tiny_suite`` is a folder of a few tasks."""
    version = [*MTRUN[1:], "--version"]
    tiny = [*MTRUN[1:], "."]
    no_autoload = ((NO_AUTOLOAD, "1"),)
    return {
        "wall_s": {
            "python -c pass": wall(["-c", "pass"], runs=runs + 2),
            "mtrun --version": wall(version, runs=runs + 2),
            "mtrun --version (no autoload)": wall(version, runs=runs + 2, env=no_autoload),
            "mtrun tiny run": wall(tiny, cwd=tiny_suite, runs=runs + 2),
            "mtrun tiny run (no autoload)": wall(tiny, cwd=tiny_suite, runs=runs + 2,
                                                 env=no_autoload),
            "pytest --version": wall(["-m", "pytest", "--version"], runs=runs + 2),
        },
        "importtime_version": importtime(version, runs=runs),
        "importtime_tiny_run": importtime(tiny, cwd=tiny_suite, runs=runs),
        "entry_points": entry_point_scan(runs),
    }


def format_report(data: dict[str, Any]) -> list[str]:
    lines = ["start-up (seconds: median / min)"]
    for label, t in data["wall_s"].items():
        lines.append(f"  {label:<32} {t['median']:.3f} / {t['min']:.3f}")
    ep = data["entry_points"]
    lines.append(f"  importlib.metadata: import {ep['import_ms']:.1f} ms, "
                 f"entry_points(group=...) {ep['scan_ms']:.1f} ms (min)")
    for key, title in (("importtime_version", "mtrun --version"),
                       ("importtime_tiny_run", "mtrun tiny run")):
        it = data[key]
        lines.append(f"-X importtime, {title}: {it['total_ms']:.1f} ms of imports (min per module)")
        lines.append("  top-level imports (cumulative ms): " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in it["top_level_ms"][:8]))
        lines.append("  costliest by self time (ms): " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in it["self_ms"][:8]))
        watched = sorted(it["cumulative_ms"].items(), key=lambda kv: -kv[1])
        lines.append("  packages (cumulative ms): " + ", ".join(
            f"{name} {ms:.1f}" for name, ms in watched))
    return lines
