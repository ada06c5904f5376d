"""The task on the user's own structlog lines: ``task`` bound while each task body runs.

While the reporter is in a run it asks the scheduler to enter a ``TaskScope`` around each
body, on the worker, so ``structlog.contextvars`` holds ``task=<node id>`` and the
``run_id`` for the body (its timeout helper thread and its coroutines too) and not a moment
longer: every structlog logger with ``merge_contextvars`` (structlog's default configuration
has it) carries the task with no decorator. ``bind_task`` is the older, explicit way; it
still works, and is no longer needed.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from typing import Any, Callable, Optional, TypeVar, overload

import structlog

from threaded_order import current_task

F = TypeVar("F", bound=Callable[..., Any])


class TaskScope:
    """For one reporter: ``task=<node id>`` and the ``run_id`` in structlog's context
    variables for the length of each body; afterwards they are as they were before it, so
    what a task binds does not reach the next task on its worker."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields  # the reporter's: the run_id of the run in progress

    @contextlib.contextmanager
    def __call__(self, node: str) -> Iterator[None]:
        saved = structlog.contextvars.get_contextvars()
        structlog.contextvars.bind_contextvars(task=node, run_id=self.fields["run_id"])
        try:
            yield
        finally:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**saved)


@overload
def bind_task(fn: F) -> F: ...
@overload
def bind_task(fn: None = None, *, name: Optional[str] = None) -> Callable[[F], F]: ...


def bind_task(fn: Optional[F] = None, *, name: Optional[str] = None) -> Any:
    """Decorator: every structlog call made by the task carries ``task=<its id>``.

    The id is ``name`` if given, else the running task's node id (``current_task()``), else
    the function's ``__name__``. Each call runs in its own copy of the context, so nothing
    the task binds outlives it. Above or below ``@dmark``. With the structlog reporter in
    the run it is not needed for ``task``, only for that isolation.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            task = name or current_task() or func.__name__
            return contextvars.copy_context().run(_call_bound, task, func, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def _call_bound(task: str, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    structlog.contextvars.bind_contextvars(task=task)
    return func(*args, **kwargs)
