"""The task context: which task the running code belongs to.

``current_task()`` returns the node id of the task whose body is running (``module::name``,
or the bare name of a task without a module), or None outside any task. The engine sets it
in a ``ContextVar`` before each body, so it holds in that body's threads and coroutines:
workers run in a copy of the context of the caller of ``start()``, so ``ContextVar``
values set before ``start()`` reach every task, and a timeout's helper thread and an
``async`` body's task inherit the worker's context. Log processors (structlog's, a
``logging.Filter``) can use it to tag lines with the test that wrote them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Optional

from .results import node_id

__all__ = ["current_task"]

class _Slot:
    """What a worker is running. The ``ContextVar`` holds one slot per worker thread, set
    once; the engine only stores each task in it (``ContextVar.set`` per task would cost
    a no-op task several percent)."""

    __slots__ = ("task",)

    def __init__(self, task: Any = None) -> None:
        self.task = task


_slot: ContextVar[Optional[_Slot]] = ContextVar("threaded_order_task", default=None)


def worker_slot() -> _Slot:
    """A new slot for this worker thread's context (the engine calls it once per worker)."""
    slot = _Slot()
    _slot.set(slot)
    return slot


def pin() -> None:
    """In a copied context: keep the current task even when the worker moves on (a timed-out
    body's helper thread runs in such a context)."""
    slot = _slot.get()
    if slot is not None:
        _slot.set(_Slot(slot.task))


def current_task() -> Optional[str]:
    """The running task's node id, or None outside a task."""
    slot = _slot.get()
    task = slot.task if slot is not None else None
    if task is None:
        return None
    return node_id(task.name, task.module)
