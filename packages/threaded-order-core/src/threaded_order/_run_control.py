"""The scheduler thread's side of a run: it waits on the run's event queue and turns events
into hook calls, and it handles interrupts (Ctrl-C, ``Scheduler.interrupt``). Workers never
run this code. A mixin of ``_engine.Run``, which owns the state it reads (see the fields
declared below, and the locking rules in ``_engine.py``).
"""

from __future__ import annotations

import threading
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, Callable, Optional

from .results import FAILED, TaskResult

if TYPE_CHECKING:
    from ._mutex import Mutex
    from ._workers import WorkerStarts

_START, _DONE, _END, _INTERRUPT = 0, 1, 2, 3  # the kinds of event on the queue


class RunControl:
    tasks: Any
    lock: Mutex
    events: SimpleQueue[tuple[Any, ...]]
    running: dict[int, str]
    ran: list[str]
    stop_reason: Optional[str]
    workers: WorkerStarts
    wakeup: threading.Condition

    def _finalize(self) -> None:
        raise NotImplementedError

    def _record(self, index: int, result: TaskResult) -> None:
        raise NotImplementedError

    def events_until_end(self, on_start: Callable[..., None], on_done: Callable[..., None],
                         on_interrupt: Callable[[Optional[bool]], None]) -> None:
        """Block on the event queue and dispatch until the run ends. No timeouts.

        Interrupts (a signal, ``Scheduler.interrupt``) arrive here as events too, so a
        signal never lands inside this bookkeeping.
        """
        get = self.events.get
        while True:
            event = get()
            kind = event[0]
            if kind == _DONE:
                on_done(event[1])
            elif kind == _START:
                on_start(event[1], event[2])
            elif kind == _INTERRUPT:
                on_interrupt(event[1])
            else:
                return

    def request_interrupt(self, cancel: Optional[bool]) -> None:
        """Queue an interrupt for the scheduler thread: None is one Ctrl-C, False stops new
        work, True also cancels running tasks. Safe from a signal handler (a reentrant
        ``SimpleQueue.put``, nothing else)."""
        self.events.put((_INTERRUPT, cancel))

    def finish_empty(self) -> None:
        """End a run that started no worker (no tasks)."""
        with self.lock:
            self._finalize()

    def interrupt(self) -> None:
        """First Ctrl-C: start nothing new; running tasks finish and count as usual."""
        with self.lock:
            self.stop_reason = "interrupted"
            if not self.running:
                self._finalize()
            else:
                self.wakeup.notify_all()

    def cancel_running(self) -> None:
        """Second Ctrl-C: record the running tasks as failed and stop waiting for them."""
        with self.lock:
            self.workers.wait_quiet()  # a worker may be starting another; it takes a moment
            for index in sorted(self.running):
                task = self.tasks[index]
                result = TaskResult(
                    task.name, FAILED, thread=self.running[index], error_type="CancelledError",
                    error="cancelled by interrupt while running", attempts=1,
                    module=task.module, tags=task.tags, after=task.after,
                )
                self._record(index, result)
                self.ran.append(task.name)
            self.running.clear()
            self.stop_reason = "interrupted"
            self._finalize()

    def running_names(self) -> list[str]:
        with self.lock:
            return [self.tasks[i].name for i in sorted(self.running)]
