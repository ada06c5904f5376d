"""Group limits: a group never has more task bodies running than its limit.

Only runs with grouped tasks make one of these, so ungrouped runs pay nothing. Every method
is called with the run's lock held.

A body counts until it really ends: a timed-out body that was abandoned still running keeps
its slot (``hold``) until its runner says it has ended (``unhold``). Tasks that then cannot
start are reported with the name of the task that holds their slot (``stuck_reasons``).
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Optional


class GroupSlots:
    def __init__(self, groups: list[Optional[str]], limits: Optional[dict[str, int]]) -> None:
        self.of = groups  # the group of each task index, or None
        self.limits = dict(limits or {})
        self.running: dict[str, int] = dict.fromkeys(self.limits, 0)
        self.parked: dict[str, list[int]] = {}  # per group, task indexes waiting, a heap
        self.held: set[int] = set()  # tasks whose abandoned body still holds the slot
        # Slots held by bodies an earlier run abandoned, still running: group: task names.
        self.leftovers: dict[str, list[str]] = {}

    def admit(self, index: int) -> bool:
        """Take a slot for task ``index``, or park it until one is free."""
        group = self.of[index]
        if group is None:
            return True
        running = self.running.get(group, 0)
        if running < self.limits.get(group, 1):
            self.running[group] = running + 1
            return True
        heappush(self.parked.setdefault(group, []), index)
        return False

    def leave(self, index: int, ready: list[int]) -> int:
        """Task ``index`` finished: free its slot unless its body still runs; a parked task
        of its group moves to ``ready``. Returns how many tasks became ready."""
        group = self.of[index]
        if group is None or index in self.held:
            return 0
        return self._free(group, ready)

    def hold(self, index: int) -> None:
        if self.of[index] is not None:
            self.held.add(index)

    def unhold(self, index: int, finished: bool, ready: list[int]) -> int:
        """The abandoned body of task ``index`` ended. If the task was already finished its
        slot is freed now; otherwise ``leave`` frees it as usual."""
        if index not in self.held:
            return 0
        self.held.discard(index)
        group = self.of[index]
        return self._free(group, ready) if finished and group is not None else 0

    def occupy(self, group: str, name: str) -> None:
        """A body of an earlier run, still running, takes a slot of ``group``."""
        self.running[group] = self.running.get(group, 0) + 1
        self.leftovers.setdefault(group, []).append(name)

    def vacate(self, group: str, name: str, ready: list[int]) -> int:
        """That body ended: its slot is free. Returns how many tasks became ready."""
        names = self.leftovers.get(group, [])
        if name not in names:
            return 0
        names.remove(name)
        return self._free(group, ready)

    def _free(self, group: str, ready: list[int]) -> int:
        self.running[group] -= 1
        parked = self.parked.get(group)
        if parked:
            heappush(ready, heappop(parked))
            return 1
        return 0

    def stuck_reasons(self, names: list[str], dependents: Sequence[Sequence[int]],
                      records: Sequence[Optional[object]]) -> dict[int, str]:
        """Why tasks left over when nothing runs never started: each waits, directly or
        through its dependencies (``dependents``; ``records`` None for a task with no
        record yet), on a group whose slot a timed-out body still holds. Names those."""
        holders: dict[str, list[str]] = {}
        for index in sorted(self.held):
            holders.setdefault(self.of[index] or "", []).append(names[index])
        for group, leftover in self.leftovers.items():
            holders.setdefault(group, []).extend(leftover)
        reasons = {}
        for group, parked in self.parked.items():
            held = ", ".join(repr(n) for n in holders.get(group, ())) or "?"
            for index in parked:
                reasons[index] = (f"never started: group {group!r} is at its limit, held by "
                                  f"timed-out task {held} whose body is still running")
        stack = list(reasons)
        while stack:
            parent = stack.pop()
            for child in dependents[parent]:
                if child not in reasons and records[child] is None:
                    reasons[child] = f"never started: dependency {names[parent]!r} never started"
                    stack.append(child)
        return reasons
