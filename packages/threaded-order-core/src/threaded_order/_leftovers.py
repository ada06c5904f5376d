"""Bodies that outlive their run: a timed-out body abandoned still running keeps running
after its ``start()`` returns. The next ``start()`` of the same scheduler must not start a
second copy of it, nor count its group as free.

``Leftovers`` belongs to the scheduler and outlives runs. Each run attaches to it: it gets
the bodies still running (by task name, with their group), and from then on hears when one
ends. Attaching and the end of a body take the same lock, so a body that ends while a run
starts is either in the run's list or reported to that run, never lost.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional


class Leftovers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}  # task name: bodies still running
        self.groups: dict[str, Optional[str]] = {}  # task name: its group
        self.run: Any = None  # the run attached now, told when a body ends

    def abandoned(self, name: str, group: Optional[str]) -> Callable[[], None]:
        """A body of task ``name`` was left running; call the result once when it ends."""
        with self.lock:
            self.running[name] = self.running.get(name, 0) + 1
            self.groups[name] = group
        done = threading.Lock()

        def ended() -> None:
            if not done.acquire(blocking=False):  # once only, from whichever thread
                return
            with self.lock:
                left = self.running.get(name, 0) - 1
                if left > 0:
                    self.running[name] = left
                else:
                    self.running.pop(name, None)
                    self.groups.pop(name, None)
                run = self.run
            if run is not None:
                run.leftover_ended(name, group)

        return ended

    def attach(self, run: Any) -> dict[str, tuple[Optional[str], int]]:
        """Run ``run`` starts: the bodies of earlier runs still running, as task name:
        (its group, how many); from now on their ends go to ``run``."""
        with self.lock:
            self.run = run
            return {name: (self.groups.get(name), count)
                    for name, count in self.running.items()}

    def detach(self, run: Any) -> None:
        with self.lock:
            if self.run is run:
                self.run = None
