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

from .results import SKIPPED, TaskResult

STILL_RUNNING = "not started: its body from an earlier start() timed out and is still running"


class Leftovers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}  # task name: bodies still running
        self.groups: dict[str, Optional[str]] = {}  # task name: its group
        self.run: Optional[StillRunning] = None  # the run attached now, told of ends

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
                run.ended(name, group)

        return ended

    def attach(self, run: StillRunning) -> dict[str, tuple[Optional[str], int]]:
        """A run starts: the bodies of earlier runs still running, as task name:
        (its group, how many); from now on their ends go to ``run.ended``."""
        with self.lock:
            self.run = run
            return {name: (self.groups.get(name), count)
                    for name, count in self.running.items()}

    def detach(self, run: Any) -> None:
        """Run ``run`` (an ``_engine.Run``) is over."""
        with self.lock:
            if self.run is not None and self.run.run is run:
                self.run = None


class StillRunning:
    """One run's view of the bodies earlier runs left running: task name: how many.

    The count only shrinks during the run, so ``unless_running`` reads it without the lock:
    a stale answer only skips a task whose old body has just ended. ``run`` is the
    ``_engine.Run``; everything else here takes its lock.
    """

    def __init__(self, run: Any, leftovers: Leftovers) -> None:
        self.run = run
        self.count: dict[str, int] = {}
        with run.lock:  # a body that ends meanwhile waits for this (see ``ended``)
            for name, (group, count) in leftovers.attach(self).items():
                self.count[name] = count
                if group and run.groups is not None:
                    for _ in range(count):
                        run.groups.occupy(group, name)

    def unless_running(self, execute: Callable[[int, str], TaskResult], index: int,
                       thread_name: str) -> TaskResult:
        """Never a second copy of a body: a task whose body from an earlier run is still
        running is skipped, and its dependents with it."""
        task = self.run.tasks[index]
        if task.name in self.count:
            return TaskResult(task.name, SKIPPED, skip_reason=STILL_RUNNING,
                              error=STILL_RUNNING, module=task.module, tags=task.tags,
                              after=task.after)
        return execute(index, thread_name)

    def ended(self, name: str, group: Optional[str]) -> None:
        """A body an earlier run left running has ended (called from any thread)."""
        run = self.run
        with run.lock:
            count = self.count.get(name)
            if count is None:
                return
            if count > 1:
                self.count[name] = count - 1
            else:
                del self.count[name]
            if group and run.groups is not None and \
                    run.groups.vacate(group, name, run.ready) and run.idle:
                run.wakeup.notify()
