"""Seeded benchmark graphs, and a lower bound on the makespan of unit tasks.

Every graph lists its tasks in a topological order (each task's dependencies have smaller
indices), so every runner can register them front to back, as the original API requires.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

KINDS = ("independent", "chain", "fan", "layered", "suite")


class Graph(NamedTuple):
    """A DAG by index: ``deps[i]`` are the tasks that task ``i`` waits for, all below ``i``."""

    spec: str
    deps: tuple[tuple[int, ...], ...]

    @property
    def size(self) -> int:
        return len(self.deps)

    @property
    def names(self) -> list[str]:
        return [f"t{i}" for i in range(len(self.deps))]

    @property
    def edges(self) -> int:
        return sum(len(d) for d in self.deps)


def parse_spec(spec: str) -> tuple[str, int]:
    kind, _, size = spec.partition(":")
    if kind not in KINDS or not size.isdigit() or int(size) < 1:
        raise ValueError(f"graph spec must be KIND:N with KIND in {KINDS}, got {spec!r}")
    return kind, int(size)


def make(spec: str, seed: int = 1) -> Graph:
    """Build the graph ``KIND:N``; the same spec and seed always give the same graph."""
    kind, n = parse_spec(spec)
    rng = random.Random(f"{seed}:{spec}")
    deps: list[tuple[int, ...]]
    if kind == "independent":
        deps = [() for _ in range(n)]
    elif kind == "chain":
        deps = [()] + [(i - 1,) for i in range(1, n)]
    elif kind == "fan":
        deps = _fan(n)
    elif kind == "layered":
        deps = _layered(n, rng)
    else:
        deps = _suite(n, rng)
    return Graph(spec, tuple(deps))


def _fan(n: int) -> list[tuple[int, ...]]:
    """One source, ``n`` middle tasks, one sink: ``n + 2`` tasks in all."""
    middle = [(0,)] * n
    return [(), *middle, tuple(range(1, n + 1))]


def _layered(n: int, rng: random.Random) -> list[tuple[int, ...]]:
    """About sqrt(n)/2 layers of random width; each task waits for 1-3 of the layer above."""
    layers = max(2, min(n, round(math.sqrt(n) / 2)))
    cuts = sorted(rng.sample(range(1, n), layers - 1)) if n > layers else list(range(1, n))
    bounds = [0, *cuts, n]
    deps: list[tuple[int, ...]] = []
    for k in range(len(bounds) - 1):
        lo, hi = bounds[k], bounds[k + 1]
        for _ in range(lo, hi):
            if k == 0:
                deps.append(())
                continue
            above = range(bounds[k - 1], lo)
            deps.append(tuple(sorted(rng.sample(above, min(len(above), rng.randint(1, 3))))))
    return deps


def _suite(n: int, rng: random.Random) -> list[tuple[int, ...]]:
    """Like a test suite: ~90% independent tests, the rest in chains of 2-5."""
    deps: list[tuple[int, ...]] = []
    while len(deps) < n:
        if rng.random() < 0.03:
            length = min(rng.randint(2, 5), n - len(deps))
            first = len(deps)
            deps.append(())
            deps.extend((first + j - 1,) for j in range(1, length))
        else:
            deps.append(())
    return deps


def depths_and_heights(graph: Graph) -> tuple[list[int], list[int]]:
    """Longest path (in tasks, inclusive) ending at / starting from each task."""
    n = graph.size
    depth = [1] * n
    height = [1] * n
    for i, ds in enumerate(graph.deps):
        for d in ds:
            depth[i] = max(depth[i], depth[d] + 1)
    for i in range(n - 1, -1, -1):
        for d in graph.deps[i]:
            height[d] = max(height[d], height[i] + 1)
    return depth, height


def unit_lower_bound(graph: Graph, workers: int) -> int:
    """A lower bound, in task lengths, on the makespan of equal-length tasks on ``workers``.

    For every ``a, b >= 1``: a task whose depth is at least ``a`` cannot start before
    ``a - 1`` units (its chain of predecessors runs one after another), and a task whose
    height is at least ``b`` must end by ``T - (b - 1)`` (its chain of successors follows).
    So all tasks with depth >= a and height >= b run inside a window of ``T - a - b + 2``
    units on ``workers`` workers, giving ``T >= a + b - 2 + ceil(count / workers)``. The
    maximum over ``a, b`` is returned. ``a = b = 1`` gives total work / workers; a task on a
    longest path gives the critical path. It is exact for independent, chain and fan graphs;
    for layered graphs (where the true optimum is NP-hard in general) it is only a bound,
    so a measured efficiency of 1.0 may be unreachable there.
    """
    depth, height = depths_and_heights(graph)
    longest = max(depth)
    # grid[a][b] = number of tasks with depth == a and height == b, then suffix sums.
    grid = [[0] * (longest + 2) for _ in range(longest + 2)]
    for d, h in zip(depth, height):
        grid[d][h] += 1
    best = 0
    below = [0] * (longest + 2)  # column sums over depths >= a, built from the bottom up
    for a in range(longest, 0, -1):
        row = grid[a]
        count = 0
        for b in range(longest, 0, -1):
            below[b] += row[b]
            count += below[b]
            if count:
                best = max(best, a + b - 2 + -(-count // workers))
    return best


def simple_lower_bound(graph: Graph, workers: int) -> int:
    """max(critical path, ceil(total work / workers)), in task lengths."""
    depth, _ = depths_and_heights(graph)
    return max(max(depth), -(-graph.size // workers))
