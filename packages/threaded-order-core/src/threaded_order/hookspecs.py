"""Hook specifications of the scheduler: one per callback, with the same arguments and more.

Every hook here is a notification. All of them are called on the scheduler thread (the
thread that called ``Scheduler.start()``), never on a worker, so an implementation needs no
locks. Each implementation is called on its own: one that raises is reported and the others
and the run go on. An implementation names only the arguments it wants, as with pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .results import Summary, TaskResult
    from .scheduler import Scheduler

PROJECT_NAME = "threaded_order"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def threaded_order_scheduler_start(meta: dict[str, Any], scheduler: Scheduler) -> None:
    """Called once before any task starts.

    :param meta: ``total_tasks``, ``workers`` and ``start_time`` (epoch seconds), as the
        original's ``on_scheduler_start`` callback received.
    :param scheduler: the running scheduler, for its graph and state.
    """


@hookspec
def threaded_order_task_start(name: str) -> None:
    """Called when a task is taken from the ready set, before ``task_run``."""


@hookspec
def threaded_order_task_run(name: str, thread: str) -> None:
    """Called when a task begins on a worker thread.

    :param thread: the worker thread's name (``thread_0``, ``thread_1``, ...).
    """


@hookspec
def threaded_order_task_done(name: str, ok: bool, result: TaskResult) -> None:
    """Called once for every task that is accounted for: passed, failed or skipped.

    A dependency's ``task_done`` always comes before its dependent's ``task_start``. A task
    skipped because a dependency failed (or because of ``max_failures``) gets only this hook.

    :param ok: True only when the task passed.
    :param result: the full record: status, duration, times, thread, error type, message and
        traceback, skip reason, attempts and captured output.
    """


@hookspec
def threaded_order_scheduler_done(summary: Summary) -> None:
    """Called once, last, with the summary that ``start()`` returns; also after Ctrl-C."""
