"""``--shard K/N``: split the selected tasks across N CI machines without splitting a
dependency chain.

Each weakly connected component of the graph (tasks joined by ``after=``, either way) stays
in one shard, so every shard is closed under dependencies and no task runs twice across
shards. Components are placed longest first, each on the shard with the least expected work
so far (LPT); ties go to the lowest shard, and equal components keep registration order, so
the same inputs always give the same shards. A component bigger than ``total / N`` makes its
shard the slowest: split such a chain by hand if it matters.
"""

from __future__ import annotations

import re
from statistics import median
from typing import TYPE_CHECKING, NamedTuple, Optional

from .config import UsageError

if TYPE_CHECKING:
    from threaded_order import Task

__all__ = ["Shard", "describe", "expected", "parse", "select", "split"]

_SPEC = re.compile(r"^(\d+)/(\d+)$")


class Shard(NamedTuple):
    k: int  # 1-based, as on the command line
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def parse(text: Optional[str]) -> Optional[Shard]:
    if text is None:
        return None
    match = _SPEC.match(text.strip())
    if match is None:
        raise UsageError(f"--shard {text!r}: expected K/N, such as 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: K must be between 1 and N ({count})")
    return Shard(index, count)


def expected(tasks: list[Task], known: dict[str, float]) -> list[float]:
    """Each task's expected seconds: its own (``known``, by task name); else its module's
    median; else the run's; else one unit."""
    by_module: dict[Optional[str], list[float]] = {}
    for task in tasks:
        if task.name in known:
            by_module.setdefault(task.module, []).append(known[task.name])
    everything = [s for values in by_module.values() for s in values]
    overall = median(everything) if everything else 1.0
    modules = {m: median(v) for m, v in by_module.items()}
    return [known.get(t.name, modules.get(t.module, overall)) for t in tasks]


def _components(tasks: list[Task]) -> list[list[int]]:
    """Indexes of each weakly connected component, each in registration order, the
    components in the order of their first task."""
    index = {t.name: i for i, t in enumerate(tasks)}
    parent = list(range(len(tasks)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, task in enumerate(tasks):
        for dep in task.after:
            j = index.get(dep)
            if j is not None:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(tasks)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def split(tasks: list[Task], count: int, seconds: list[float]) -> list[list[Task]]:
    """The ``count`` shards of ``tasks`` (each in registration order)."""
    components = _components(tasks)
    weights = [sum(seconds[i] for i in c) for c in components]
    order = sorted(range(len(components)), key=lambda c: (-weights[c], components[c][0]))
    loads = [0.0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for c in order:
        target = min(range(count), key=lambda s: (loads[s], s))
        loads[target] += weights[c]
        members[target].extend(components[c])
    return [[tasks[i] for i in sorted(m)] for m in members]


def describe(shard: Shard, mine: list[Task], total: int, seconds: float) -> str:
    return (f"shard {shard}: {len(mine)} of {total} tasks, about {seconds:.2f} s expected")


def select(shard: Shard, tasks: list[Task], known: dict[str, float]) -> tuple[list[Task], str]:
    """This shard's tasks, and the header line that says what it holds."""
    seconds = expected(tasks, known)
    parts = split(tasks, shard.n, seconds)
    mine = parts[shard.k - 1]
    if not mine:
        raise UsageError(f"--shard {shard}: this shard is empty: the {len(tasks)} selected "
                         f"tasks form fewer than {shard.n} independent groups", 5)
    names = {t.name for t in mine}
    total = sum(s for t, s in zip(tasks, seconds) if t.name in names)
    return mine, describe(shard, mine, len(tasks), total)
