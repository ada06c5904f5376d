"""Binding a task's own structlog calls to its task name, on the worker thread.

Tasks run on worker threads that the core reuses from task to task, so a plain
``bind_contextvars(task=...)`` inside a task would leak into the next task on that
thread. ``bind_task`` runs each call in a fresh copy of the worker's context instead.
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable, Optional, TypeVar, overload

import structlog

F = TypeVar("F", bound=Callable[..., Any])

# The task name of each registered function of the running scheduler, filled by the
# StructlogReporter on the scheduler thread before any worker starts (so workers only
# read it). It lets ``bind_task`` use mtrun's "path.py::name" names when they differ from
# the function's own name.
TASK_NAMES: dict[Callable[..., Any], str] = {}


@overload
def bind_task(fn: F) -> F: ...
@overload
def bind_task(fn: None = None, *, name: Optional[str] = None) -> Callable[[F], F]: ...


def bind_task(fn: Optional[F] = None, *, name: Optional[str] = None) -> Any:
    """Decorator: every structlog call made by the task carries ``task=<its name>``.

    The name is ``name`` if given, else the task's registered name while a
    ``StructlogReporter`` is in the run, else the function's ``__name__``. Each call runs
    in its own copy of the context, so nothing bound inside the task outlives it. Put it
    above or below ``@dmark``.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            task = name or TASK_NAMES.get(wrapper) or func.__name__
            return contextvars.copy_context().run(_call_bound, task, func, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def _call_bound(task: str, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    structlog.contextvars.bind_contextvars(task=task)
    return func(*args, **kwargs)
