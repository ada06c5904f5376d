"""Markers that attach task metadata to functions, and registration of a module's marked tasks."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, Callable, Optional, TypeVar

from .graph import Task, normalize_after

F = TypeVar("F", bound=Callable[..., Any])

MARK_ATTR = "__threaded_order__"
TAGS_ATTR = "__threaded_order_tags__"


def dmark(
    after: Any = None,
    with_state: bool = False,
    *,
    retries: Optional[int] = None,
    retry_delay: Optional[float] = None,
    timeout: Optional[float] = None,
    group: Optional[str] = None,
) -> Callable[[F], F]:
    """Mark a function as a task without registering it; ``mtrun`` and ``register_marked``
    pick it up. The function itself is returned, so it stays callable and inspectable.

    ``retries``, ``retry_delay``, ``timeout`` and ``group`` are the task's policies.
    """

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"dmark can only mark a function, got {fn!r}")
        name = getattr(fn, "__name__", repr(fn))
        setattr(fn, MARK_ATTR, {
            "after": list(normalize_after(name, after)),
            "with_state": bool(with_state),
            "orig_name": name,
            "retries": retries,
            "retry_delay": retry_delay,
            "timeout": timeout,
            "group": group,
        })
        return fn

    return decorate


def tag(*tags: str) -> Callable[[F], F]:
    """Give a function tags for ``mtrun --tags``; stacks above or below ``dmark``."""
    for t in tags:
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"tags must be non-empty strings, got {t!r}")

    def decorate(fn: F) -> F:
        existing = tuple(getattr(fn, TAGS_ATTR, ()))
        setattr(fn, TAGS_ATTR, existing + tuple(t.strip() for t in tags if t.strip() not in
                                                   existing))
        return fn

    return decorate


def marked_functions(module: ModuleType) -> list[Callable[..., Any]]:
    """The module's own marked functions, in source order (not those it imported)."""
    found: dict[int, Callable[..., Any]] = {}  # by id: an alias (test_b = test_a) is one task
    for value in list(vars(module).values()):
        try:  # a module-level object whose attribute lookup raises is not a task
            if getattr(value, MARK_ATTR, None) is None or not callable(value):
                continue
            if getattr(value, "__module__", None) != module.__name__:
                continue
        except Exception:
            continue
        found[id(value)] = value
    return sorted(found.values(), key=_source_line)


def _source_line(fn: Any) -> int:
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return code.co_firstlineno if code is not None else 0


def task_from_marked(fn: Callable[..., Any], name: Optional[str] = None,
                     module: Optional[str] = None) -> Task:
    """The Task that a marked function describes."""
    mark = getattr(fn, MARK_ATTR)
    return Task(
        name or mark["orig_name"], fn, tuple(mark["after"]), mark["with_state"],
        tuple(getattr(fn, TAGS_ATTR, ())), module, mark.get("retries"),
        mark.get("retry_delay"), mark.get("timeout"), mark.get("group"),
    )


def register_marked(scheduler: Any, module: ModuleType) -> list[str]:
    """Register a module's marked functions on ``scheduler``, in source order.

    Dependencies may name functions defined further down. Unknown names and cycles raise
    before anything is registered. Returns the names registered.
    """
    tasks = [task_from_marked(fn, module=module.__name__) for fn in marked_functions(module)]
    scheduler.add_tasks(tasks)
    return [t.name for t in tasks]
