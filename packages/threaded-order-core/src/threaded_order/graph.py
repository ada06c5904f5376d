"""The dependency graph: task specs, validation, and the compiled form a run walks."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from types import FunctionType
from typing import Any, Callable, NamedTuple, Optional

from ._text import check_seconds


class TaskGraphError(ValueError):
    """A problem with the graph itself; a ValueError, as in the original API."""


class UnknownDependencyError(TaskGraphError):
    def __init__(self, task: str, missing: list[str], where: str = "") -> None:
        self.task, self.missing = task, missing
        names = ", ".join(repr(m) for m in missing)
        super().__init__(f"task {task!r}{where} depends on unknown {names}")


class CycleError(TaskGraphError):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle))


class NotPicklableError(TaskGraphError):
    """A task or a state value cannot be sent to the executor; raised before the run starts."""


class Task(NamedTuple):
    """One registered callable and what the scheduler needs to know about it."""

    name: str
    func: Callable[..., Any]
    after: tuple[str, ...] = ()
    with_state: bool = False
    tags: tuple[str, ...] = ()
    module: Optional[str] = None
    retries: Optional[int] = None
    retry_delay: Optional[float] = None
    timeout: Optional[float] = None
    group: Optional[str] = None
    priority: int = 0  # higher starts earlier among ready tasks, before critical-path order


def normalize_after(name: str, after: Any) -> tuple[str, ...]:
    """Turn ``after`` into a tuple of names; a lone string is one name, not its characters."""
    if after is None:
        return ()
    if isinstance(after, str):
        after = (after,)
    elif not isinstance(after, (list, tuple)) and not isinstance(after, Iterable):  # ABC: slow
        raise TaskGraphError(f"task {name!r}: after must be a name or a list of names")
    names: dict[str, None] = {}  # ordered and deduplicated in O(k), not O(k^2) as a list
    for dep in after:
        if not isinstance(dep, str):
            raise TaskGraphError(f"task {name!r}: dependency names must be strings, got {dep!r}")
        if dep == name:
            raise TaskGraphError(f"task {name!r} depends on itself")
        names[dep] = None
    return tuple(names)


def is_async(func: Any) -> bool:
    """Whether calling ``func`` makes a coroutine (an ``async def`` task)."""
    if type(func) is FunctionType and not func.__dict__:
        # The common case, checked per task at every compile: a plain function with no
        # attributes (so no coroutine marker, no __wrapped__) is async exactly when its
        # code is. inspect's full check below costs ~10x more.
        return bool(func.__code__.co_flags & inspect.CO_COROUTINE)
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - async callable objects too
    )


class Compiled(NamedTuple):
    """Index-based arrays a run needs, built once in O(V+E) and reused until the graph changes."""

    tasks: list[Task]
    indegree: list[int]
    dependents: list[Sequence[int]]
    is_async: list[bool]
    topo: Sequence[int] = ()  # every index, dependencies before dependents


class DAGraph:
    """Tasks in registration order; edges point from a task to the tasks it waits for."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._compiled: Optional[Compiled] = None

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    @property
    def nodes(self) -> dict[str, Task]:
        return dict(self._tasks)

    def parents_of(self, name: str) -> tuple[str, ...]:
        return self._tasks[name].after

    def children_of(self, name: str) -> list[str]:
        return [t.name for t in self._tasks.values() if name in t.after]

    def add(self, task: Task) -> None:
        """Add one task whose dependencies are already known, so no cycle can form."""
        self._check_new(task)
        if task.after:
            missing = [d for d in task.after if d not in self._tasks]
            if missing:
                raise UnknownDependencyError(task.name, missing)
        self._tasks[task.name] = task
        self._compiled = None

    def add_all(self, tasks: Iterable[Task]) -> None:
        """Add tasks that may refer to each other in any order; all or nothing."""
        added: list[str] = []
        try:
            for task in tasks:
                self._check_new(task)
                self._tasks[task.name] = task
                added.append(task.name)
            for name in added:
                task = self._tasks[name]
                missing = [d for d in task.after if d not in self._tasks]
                if missing:
                    raise UnknownDependencyError(name, missing)
            self._compiled = None
            self.compile()
        except BaseException:
            for name in added:
                del self._tasks[name]
            self._compiled = None
            raise

    def _check_new(self, task: Task) -> None:
        if not isinstance(task.name, str) or not task.name:
            raise TaskGraphError(f"task name must be a non-empty string, got {task.name!r}")
        if task.retries is not None or task.retry_delay is not None or task.timeout is not None:
            _check_policy(task.name, task.retries, task.retry_delay, task.timeout)
        if task.group is not None and (not isinstance(task.group, str) or not task.group):
            raise TaskGraphError(f"task {task.name!r}: group must be a non-empty string")
        if not callable(task.func):
            raise TaskGraphError(f"task {task.name!r}: object must be callable, got {task.func!r}")
        if task.name in self._tasks:
            raise TaskGraphError(f"task {task.name!r} has already been added")

    def compile(self) -> Compiled:
        """Index the graph and check it is acyclic (Kahn's algorithm), once per change."""
        if self._compiled is not None:
            return self._compiled
        tasks = list(self._tasks.values())
        index = {t.name: i for i, t in enumerate(tasks)}
        # Leaves share one empty tuple: a list per task would cost memory and GC time.
        dependents: list[Sequence[int]] = [()] * len(tasks)
        indegree = [len(t.after) for t in tasks]
        for i, t in enumerate(tasks):
            for dep in t.after:
                j = index[dep]
                if dependents[j]:
                    dependents[j].append(i)  # type: ignore[attr-defined]
                else:
                    dependents[j] = [i]
        remaining = indegree[:]
        stack = [i for i, n in enumerate(remaining) if n == 0]
        topo: list[int] = []
        seen = topo.append
        while stack:
            i = stack.pop()
            seen(i)
            for c in dependents[i]:
                remaining[c] -= 1
                if remaining[c] == 0:
                    stack.append(c)
        if len(topo) != len(tasks):
            raise CycleError(_find_cycle(tasks, index, remaining))
        self._compiled = Compiled(tasks, indegree, dependents, [is_async(t.func) for t in tasks],
                                  topo)
        return self._compiled


def _check_policy(name: str, retries: Any, retry_delay: Any, timeout: Any) -> None:
    """Reject values that would make a policy meaningless, naming the task."""
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)
                                or retries < 0):
        raise TaskGraphError(f"task {name!r}: retries must be a whole number >= 0, got {retries!r}")
    for what, value, zero_ok in (("retry_delay", retry_delay, True), ("timeout", timeout, False)):
        if value is not None:
            try:
                check_seconds(value, what, zero_ok=zero_ok)
            except ValueError as exc:
                raise TaskGraphError(f"task {name!r}: {exc}") from None


def _find_cycle(tasks: list[Task], index: dict[str, int], remaining: list[int]) -> list[str]:
    """Walk dependencies among the tasks Kahn could not order until a name repeats."""
    start = next(i for i, n in enumerate(remaining) if n > 0)
    path: list[int] = []
    position: dict[int, int] = {}
    node = start
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = next(index[d] for d in tasks[node].after if remaining[index[d]] > 0)
    cycle = [*path[position[node]:], node]
    # Print it in run order: each task before the one that waits for it.
    return [tasks[i].name for i in reversed(cycle)]
