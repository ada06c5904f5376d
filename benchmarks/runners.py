"""The runners compared, each timed as build (registration) and run, in this process.

Every runner gets the same graph and one callable per task, so a no-op body measures
scheduling overhead alone. Callables take ``*args`` because dask passes dependency results.
"""

from __future__ import annotations

import gc
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from graphlib import TopologicalSorter
from typing import Any, Callable, NamedTuple, Optional

from .graphs import Graph

Body = Callable[..., Any]


class Timing(NamedTuple):
    build_s: float
    run_s: float


def noop(*_args: Any) -> None:
    """The no-op body: what is left of a run is the runner's own overhead."""


def make_sleep(seconds: float) -> Body:
    def sleep(*_args: Any) -> None:
        time.sleep(seconds)

    return sleep


def run_ours(graph: Graph, funcs: list[Body], workers: int,
             order: str = "registration") -> Timing:
    """threaded-order: register every task, then ``start()``."""
    from threaded_order import Scheduler

    names = graph.names
    afters = [[names[d] for d in ds] or None for ds in graph.deps]
    gc.collect()
    t0 = time.perf_counter()
    scheduler = Scheduler(workers=workers, order=order)
    register = scheduler.register
    for func, name, after in zip(funcs, names, afters):
        register(func, name, after=after)
    t1 = time.perf_counter()
    summary = scheduler.start()
    t2 = time.perf_counter()
    if len(summary["passed"]) != graph.size:
        raise RuntimeError(f"threaded-order passed {len(summary['passed'])} of {graph.size}")
    return Timing(t1 - t0, t2 - t1)


def run_ours_critical_path(graph: Graph, funcs: list[Body], workers: int) -> Timing:
    """threaded-order in mtrun's default order, with no history: the longest remaining
    path first (in task counts), against ``ours`` (registration order) for its cost."""
    return run_ours(graph, funcs, workers, order="critical-path")


def run_handrolled(graph: Graph, funcs: list[Body], workers: int) -> Timing:
    """What users write: graphlib's TopologicalSorter feeding a ThreadPoolExecutor."""
    names = graph.names
    deps = [[names[d] for d in ds] for ds in graph.deps]
    by_name = dict(zip(names, funcs))
    gc.collect()
    t0 = time.perf_counter()
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name, ds in zip(names, deps):
        sorter.add(name, *ds)
    t1 = time.perf_counter()
    sorter.prepare()
    finished = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: dict[Any, str] = {}
        while sorter.is_active():
            for name in sorter.get_ready():
                running[pool.submit(by_name[name])] = name
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()
                sorter.done(running.pop(future))
                finished += 1
    t2 = time.perf_counter()
    if finished != graph.size:
        raise RuntimeError(f"hand-rolled finished {finished} of {graph.size}")
    return Timing(t1 - t0, t2 - t1)


def run_dask(graph: Graph, funcs: list[Body], workers: int) -> Timing:
    """dask's threaded scheduler on a plain graph dict, asking for every key."""
    import dask.threaded

    names = graph.names
    deps = [[names[d] for d in ds] for ds in graph.deps]
    gc.collect()
    t0 = time.perf_counter()
    dsk = {name: (func, *ds) for name, func, ds in zip(names, funcs, deps)}
    t1 = time.perf_counter()
    out = dask.threaded.get(dsk, names, num_workers=workers)
    t2 = time.perf_counter()
    if len(out) != graph.size:
        raise RuntimeError(f"dask returned {len(out)} of {graph.size}")
    return Timing(t1 - t0, t2 - t1)


RUNNERS: dict[str, Callable[[Graph, list[Body], int], Timing]] = {
    "ours": run_ours,
    "ours-cp": run_ours_critical_path,
    "handrolled": run_handrolled,
    "dask": run_dask,
}


def available(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """The runners that can run here, and why each of the others cannot."""
    ok, why = [], {}
    for name in names:
        if name == "dask":
            try:
                import dask.threaded  # noqa: F401
            except ImportError as exc:
                why[name] = f"dask is not installed ({exc}); use `uv run --group bench`"
                continue
        ok.append(name)
    return ok, why


class Recorder:
    """Task bodies that log their start and end, to check a runner honoured the graph."""

    def __init__(self, size: int, seconds: Optional[float] = None) -> None:
        self.events: list[tuple[int, int]] = []
        self.seconds = seconds
        self.funcs: list[Body] = [self._body(i) for i in range(size)]

    def _body(self, index: int) -> Body:
        def body(*_args: Any) -> None:
            self.events.append((index, 0))
            if self.seconds:
                time.sleep(self.seconds)
            self.events.append((index, 1))

        return body

    def problems(self, graph: Graph) -> list[str]:
        """Empty when every task ran once, each after all of its dependencies ended."""
        return check_order(graph, self.events)


def check_order(graph: Graph, events: list[tuple[int, int]]) -> list[str]:
    where: dict[tuple[int, int], int] = {}
    problems = []
    for position, event in enumerate(events):
        if event in where:
            problems.append(f"task {event[0]} {'ended' if event[1] else 'started'} twice")
        where[event] = position
    for i, ds in enumerate(graph.deps):
        if (i, 0) not in where or (i, 1) not in where:
            problems.append(f"task {i} did not run to the end")
            continue
        problems.extend(
            f"task {i} started before its dependency {d} ended"
            for d in ds
            if where.get((d, 1), len(events)) > where[(i, 0)]
        )
    return problems[:10]
