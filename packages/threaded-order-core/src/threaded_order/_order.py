"""Which ready task starts first: critical path first, by renumbering the graph.

The engine always starts the ready task with the lowest index. So the order is chosen once
per run, before it starts, by renumbering the compiled graph: a task's new index sorts by
its priority (higher first), then by the longest remaining path from it to the end of the
graph in expected seconds (longer first), then by registration. The engine's hot path is
unchanged: ordering costs O((V + E) log V) once, nothing per task.

Expected seconds: a task's recorded duration; else the median of the recorded durations of
its module; else of the run; else one unit, so with no history at all this is the longest
path counted in tasks. Longest-remaining-path-first list scheduling reaches the lower bound
on test-suite-like graphs (see the README's Performance section).

Also here: after the run, the chain of dependent tasks with the most work (the critical
path: no order could end the run sooner) and how well the workers were used.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from statistics import median
from typing import Any, Optional

from .graph import Compiled

ORDERS = ("critical-path", "registration")


def check_order(order: Any) -> str:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    return str(order)


def expected_seconds(compiled: Compiled,
                     durations: Optional[dict[str, float]]) -> Optional[list[float]]:
    """Each task's expected duration, or None when nothing is known (unit weights)."""
    if not durations:
        return None
    tasks = compiled.tasks
    known = [durations.get(t.name) for t in tasks]
    if all(d is None for d in known):
        return None
    by_module: dict[Optional[str], list[float]] = {}
    for task, seconds in zip(tasks, known):
        if seconds is not None:
            by_module.setdefault(task.module, []).append(seconds)
    module_median = {module: median(values) for module, values in by_module.items()}
    run_median = median(d for d in known if d is not None)
    return [seconds if seconds is not None else module_median.get(task.module, run_median)
            for task, seconds in zip(tasks, known)]


def remaining_paths(compiled: Compiled, weights: Optional[list[float]]) -> list[float]:
    """The longest path from each task to the end of the graph, itself included. Written
    for CPython's speed (``map`` and ``max`` in C): it runs on every ``start()``."""
    dependents = compiled.dependents
    longest = list(weights) if weights is not None else [1.0] * len(compiled.tasks)
    get = longest.__getitem__
    for i in reversed(compiled.topo):
        after = dependents[i]
        if after:
            longest[i] += max(map(get, after))
    return longest


def renumbered(compiled: Compiled, durations: Optional[dict[str, float]]) -> tuple[
        Compiled, Optional[list[int]]]:
    """The graph renumbered into critical-path-first order, and the new order (old index
    of each new one), or the graph itself and None when the order would not change."""
    tasks = compiled.tasks
    prioritised = any(map(_PRIORITY, tasks))
    if not prioritised and not durations and not any(compiled.dependents):
        return compiled, None  # no edges, priorities or durations: every key ties
    longest = remaining_paths(compiled, expected_seconds(compiled, durations))
    count = range(len(tasks))
    if prioritised:
        order = sorted(count, key=lambda i: (-tasks[i].priority, -longest[i]))
    else:  # a plain float key, fetched in C: sorted() is stable, so ties keep registration
        order = sorted(count, key=[-x for x in longest].__getitem__)
    if order == list(count):
        return compiled, None
    position = inverse(order)
    at = position.__getitem__
    dependents: list[Sequence[int]] = [tuple(map(at, d)) if d else ()  # most have none
                                       for d in map(compiled.dependents.__getitem__, order)]
    renamed = Compiled(list(map(tasks.__getitem__, order)),
                       list(map(compiled.indegree.__getitem__, order)), dependents,
                       list(map(compiled.is_async.__getitem__, order)),
                       list(map(at, compiled.topo)))
    return renamed, order


def inverse(order: list[int]) -> list[int]:
    """The inverse permutation (``inverse(order)[order[k]] == k``), sorted in C."""
    return sorted(range(len(order)), key=order.__getitem__)


def critical_path(records: dict[str, Any], ran: list[str]) -> dict[str, Any]:
    """The chain of tasks that bounds the run: the dependency chain with the most seconds
    of work, among the tasks that ran (``ran`` is in completion order, so a task comes
    after its dependencies). Its ``duration`` is that work; the run can end no sooner.

    Written for CPython's speed, since every ``start()`` pays it: only tasks with
    dependencies are visited in Python, the rest are found with ``max`` in C."""
    ended = list(map(records.__getitem__, ran))
    if not ended:
        return {"tasks": [], "duration": 0.0}
    longest = max(ended, key=_DURATION)  # the longest chain of one task
    best, best_seconds = longest.name, longest.duration
    total: dict[str, float] = {}  # seconds of the longest chain that ends at a task
    previous: dict[str, str] = {}  # the task before it in that chain
    total_of, record_of = total.get, records.get
    for record in filter(_AFTER, ended):
        behind, before = 0.0, None
        for dep in record.after:
            seconds = total_of(dep)
            if seconds is None:  # a task without dependencies, or one that never ran
                found = record_of(dep)
                seconds = found.duration if found is not None else 0.0
            if seconds > behind:
                behind, before = seconds, dep
        name = record.name
        total[name] = seconds = record.duration + behind
        if before is not None:
            previous[name] = before
        if seconds > best_seconds:
            best, best_seconds = name, seconds
    chain: list[str] = []
    step: Optional[str] = best
    while step is not None:
        chain.append(step)
        step = previous.get(step)
    chain.reverse()
    return {"tasks": chain, "duration": max(0.0, best_seconds)}


def efficiency(records: dict[str, Any], workers: int, wall: float,
               path: dict[str, Any]) -> dict[str, Any]:
    """How busy the workers were: ``parallel`` is busy / (workers * wall); ``lower_bound``
    is max(critical path, busy / workers), the best any order could do."""
    busy = sum(map(_DURATION, records.values()))  # 0.0 for a task that never ran
    used = min(workers, max(1, len(records)))
    bound = max(path["duration"], busy / used) if records else 0.0
    return {"workers": used, "busy": busy, "wall": wall,
            "parallel": busy / (used * wall) if wall > 0 else 0.0, "lower_bound": bound}


_DURATION, _PRIORITY, _AFTER = (attrgetter("duration"), attrgetter("priority"),
                               attrgetter("after"))
