"""The measurements: interleaved repeats, medians, and the scale and memory probes.

Repeats of different runners are interleaved (in a rotating order) so that a noisy
neighbour or a CPU frequency change hits every runner alike; medians resist outliers.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from graphlib import TopologicalSorter
from typing import Any, Callable, Optional

from . import graphs
from .original import Original, capped
from .runners import RUNNERS, Timing, make_sleep, noop

# The original polls every 0.1 s, so it is ~100x slower and its noise does not matter.
ORIGINAL_REPEATS = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interleave(jobs: dict[str, Callable[[], Timing]], repeats: int) -> dict[str, list[Timing]]:
    """Run each job ``repeats`` times, rotating which runner goes first each round."""
    names = list(jobs)
    out: dict[str, list[Timing]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            out[name].append(jobs[name]())
    return out


def _row(spec: str, graph: graphs.Graph, runner: str, timings: list[Timing],
         **extra: Any) -> dict[str, Any]:
    run = statistics.median(t.run_s for t in timings)
    build = statistics.median(t.build_s for t in timings)
    return {
        "spec": spec, "kind": spec.split(":")[0], "tasks": graph.size, "runner": runner,
        "run_s": [t.run_s for t in timings], "build_s": [t.build_s for t in timings],
        "median_run_s": run, "median_build_s": build,
        "run_us_per_task": run / graph.size * 1e6,
        "total_us_per_task": (run + build) / graph.size * 1e6, **extra,
    }


def warm_up(runners: list[str], workers: int) -> None:
    """Imports, thread pools and caches: paid once here, not in the first scenario."""
    graph = graphs.make("layered:200")
    for name in runners:
        RUNNERS[name](graph, [noop] * graph.size, workers)


def noop_runs(kinds: list[str], sizes: list[int], runners: list[str], workers: int,
              repeats: int, original: Optional[Original]) -> list[dict[str, Any]]:
    """No-op bodies: what each runner costs per task (and per level on a chain)."""
    rows = []
    for kind in kinds:
        for size in sizes:
            spec = f"{kind}:{size}"
            graph = graphs.make(spec)
            funcs = [noop] * graph.size
            jobs = {name: _bind(RUNNERS[name], graph, funcs, workers) for name in runners}
            log(f"  noop {spec} ({', '.join(runners)}) x{repeats}")
            for name, timings in interleave(jobs, repeats).items():
                rows.append(_row(spec, graph, name, timings))
        if original is not None and original.python is not None:
            spec = capped(f"{kind}:{max(sizes)}")
            graph = graphs.make(spec)
            few = min(repeats, ORIGINAL_REPEATS)
            log(f"  noop {spec} (original, capped) x{few}")
            timings = [original.measure(graph, workers) for _ in range(few)]
            row = _row(spec, graph, "original", timings, measured_at=spec)
            rows.append(row)
            for size in sizes:  # per-task cost is flat in N for a poller: scale it
                full = graphs.make(f"{kind}:{size}")
                est = row["run_us_per_task"] * full.size / 1e6
                rows.append({"spec": f"{kind}:{size}", "kind": kind, "tasks": full.size,
                             "runner": "original", "estimate": True, "measured_at": spec,
                             "median_run_s": est, "run_us_per_task": row["run_us_per_task"],
                             "median_build_s": None, "total_us_per_task": None})
    return rows


def sleep_runs(specs: list[str], runners: list[str], workers: int, repeats: int,
               seconds: float, original: Optional[Original]) -> list[dict[str, Any]]:
    """Equal sleeps: makespan against a lower bound (see graphs.unit_lower_bound)."""
    rows = []
    body = make_sleep(seconds)
    for spec in specs:
        graph = graphs.make(spec)
        bound = graphs.unit_lower_bound(graph, workers) * seconds
        simple = graphs.simple_lower_bound(graph, workers) * seconds
        funcs = [body] * graph.size
        jobs = {name: _bind(RUNNERS[name], graph, funcs, workers) for name in runners}
        log(f"  sleep {spec} ({', '.join(runners)}) x{repeats}, bound {bound:.3f}s")
        for name, timings in interleave(jobs, repeats).items():
            row = _row(spec, graph, name, timings, bound_s=bound, simple_bound_s=simple)
            row["efficiency"] = bound / row["median_run_s"]
            rows.append(row)
        if original is not None and original.python is not None:
            small = capped(spec)
            g = graphs.make(small)
            few = min(repeats, ORIGINAL_REPEATS)
            log(f"  sleep {small} (original, capped) x{few}")
            timings = [original.measure(g, workers, seconds) for _ in range(few)]
            b = graphs.unit_lower_bound(g, workers) * seconds
            row = _row(spec, g, "original", timings, bound_s=b, measured_at=small)
            row["efficiency"] = b / row["median_run_s"]
            rows.append(row)
    return rows


def _bind(fn: Callable[..., Timing], *args: Any) -> Callable[[], Timing]:
    return lambda: fn(*args)


# -- scale: registration, run cost and memory at 100,000 tasks ---------------------------


def register_ours(graph: graphs.Graph) -> float:
    """Register every task + compile (the cycle check), as ``start()`` does. The Scheduler's
    own construction (about a millisecond, mostly its plugin manager) is a fixed cost, not
    a per-task one, so it is left out here; the end-to-end no-op figures include it."""
    from threaded_order import Scheduler

    names = graph.names
    afters = [[names[d] for d in ds] or None for ds in graph.deps]
    scheduler = Scheduler(workers=4)
    gc.collect()
    t0 = time.perf_counter()
    register = scheduler.register
    for name, after in zip(names, afters):
        register(noop, name, after=after)
    scheduler.graph.compile()
    return time.perf_counter() - t0


def register_handrolled(graph: graphs.Graph) -> float:
    """TopologicalSorter.add for every task, then prepare() (its cycle check)."""
    names = graph.names
    deps = [[names[d] for d in ds] for ds in graph.deps]
    gc.collect()
    t0 = time.perf_counter()
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, ds in zip(names, deps):
        sorter.add(name, *ds)
    sorter.prepare()
    return time.perf_counter() - t0


def scale_runs(small: int, large: int, workers: int, repeats: int,
               kind: str = "layered") -> dict[str, Any]:
    """Per-task cost of registration and of running, small against large, and memory."""
    out: dict[str, Any] = {"small": small, "large": large, "registration_graph": kind}
    reg: dict[str, list[float]] = {}
    gs = {n: graphs.make(f"{kind}:{n}") for n in (small, large)}
    log(f"  registration {kind}:{small} and {kind}:{large} x{repeats}")
    for _ in range(repeats):
        for n, g in gs.items():
            reg.setdefault(f"ours:{n}", []).append(register_ours(g) / g.size)
            reg.setdefault(f"handrolled:{n}", []).append(register_handrolled(g) / g.size)
    out["register_us_per_task"] = {k: statistics.median(v) * 1e6 for k, v in reg.items()}
    out["register_us_per_task_all"] = {k: [x * 1e6 for x in v] for k, v in reg.items()}
    run: dict[int, list[float]] = {small: [], large: []}
    log(f"  run independent:{small} and independent:{large} x{repeats}")
    for _ in range(repeats):
        for n in (small, large):
            g = graphs.make(f"independent:{n}")
            run[n].append(RUNNERS["ours"](g, [noop] * n, workers).run_s / n)
    out["run_us_per_task"] = {str(n): statistics.median(v) * 1e6 for n, v in run.items()}
    out["run_us_per_task_all"] = {str(n): [x * 1e6 for x in v] for n, v in run.items()}
    log(f"  memory independent:{large} (tracemalloc)")
    out["peak_bytes_per_task"] = peak_bytes_per_task(large, workers)
    return out


def peak_bytes_per_task(n: int, workers: int) -> float:
    """tracemalloc's peak over register + start of ``n`` no-op tasks, per task."""
    from threaded_order import Scheduler

    names = [f"t{i}" for i in range(n)]
    gc.collect()
    tracemalloc.start()
    try:
        scheduler = Scheduler(workers=workers)
        for name in names:
            scheduler.register(noop, name)
        summary = scheduler.start()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if len(summary["passed"]) != n:
        raise RuntimeError("memory run did not pass every task")
    return peak / n
