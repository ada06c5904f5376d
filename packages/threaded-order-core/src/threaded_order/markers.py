"""Markers that attach task metadata to functions, and registration of a module's marked tasks."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any, Callable, Optional, TypeVar, Union

from . import _params
from .graph import Task, normalize_after
from .outcomes import SkipBody, xfail_body

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
    priority: int = 0,
    skip: Union[bool, str] = False,
    skipif: Any = False,
    reason: Optional[str] = None,
    xfail: Union[bool, str] = False,
    strict: bool = False,
    params: Optional[Iterable[Any]] = None,
    ids: Union[Iterable[Any], Callable[[Any], Any], None] = None,
    argnames: Union[str, Sequence[str], None] = None,
) -> Callable[[F], F]:
    """Mark a function as a task without registering it; ``mtrun`` and ``register_marked``
    pick it up. The function itself is returned, so it stays callable and inspectable.

    ``retries``, ``retry_delay``, ``timeout`` and ``group`` are the task's policies.
    ``skip=True | "reason"`` and ``skipif=condition`` (with ``reason=``) skip it without
    running it; ``xfail=True | "reason"`` expects it to fail: a failure is xfailed, a pass
    is xpassed, or a failure ``[XPASS(strict)]`` when ``strict=True``.
    ``params=[...]`` makes one task per value, ``name[id]`` (``ids``: a list, or a function
    of the value), called with ``param=value``, or with ``argnames="a,b"`` as ``a=, b=``.
    """
    skip_reason = _skip_reason(skip, skipif, reason)
    xfail_reason = _xfail_reason(xfail, reason)

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise TypeError(f"dmark can only mark a function, got {fn!r}")
        name = getattr(fn, "__name__", repr(fn))
        spec = _params.check(name, params, ids, argnames)
        setattr(fn, MARK_ATTR, {
            "after": list(normalize_after(name, after)),
            "with_state": bool(with_state),
            "orig_name": name,
            "retries": retries,
            "retry_delay": retry_delay,
            "timeout": timeout,
            "group": group,
            "priority": priority,
            "skip": skip_reason,
            "xfail": xfail_reason,
            "strict": bool(strict),
            "params": spec,
        })
        return fn

    return decorate


def _skip_reason(skip: Any, skipif: Any, reason: Optional[str]) -> Optional[str]:
    if reason is not None and not isinstance(reason, str):
        raise TypeError(f"dmark: reason must be a string, got {reason!r}")
    if isinstance(skip, str):
        return skip or reason or "skipped"
    if not isinstance(skip, bool):
        raise TypeError(f"dmark: skip must be True or a reason, got {skip!r}")
    if skip:
        return reason or "skipped"
    if skipif:  # evaluated once, when the module is imported, as pytest's skipif
        return reason or "skipif condition is true"
    return None


def _xfail_reason(xfail: Any, reason: Optional[str]) -> Optional[str]:
    if isinstance(xfail, str):
        return xfail or reason or ""
    if not isinstance(xfail, bool):
        raise TypeError(f"dmark: xfail must be True or a reason, got {xfail!r}")
    return (reason or "") if xfail else None


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
    """The Task that a marked function describes (see ``tasks_from_marked`` for a
    parametrized one)."""
    return _task(fn, getattr(fn, MARK_ATTR), name, module, fn)


def tasks_from_marked(fn: Callable[..., Any], module: Optional[str] = None,
                      name: Optional[str] = None) -> list[Task]:
    """The tasks a marked function describes: one, or one per parameter, ``name[id]``
    (``name``: the function's name when it was marked, unless given)."""
    mark = getattr(fn, MARK_ATTR)
    name = name or mark["orig_name"]
    found = _params.instances(name, mark.get("params"), fn)
    if not found:
        return [_task(fn, mark, name, module, fn)]
    return [_task(fn, mark, f"{name}[{inst.id}]", module, _params.param_body(fn, inst.kwargs))
            for inst in found]


def _task(fn: Callable[..., Any], mark: dict[str, Any], name: Optional[str],
          module: Optional[str], body: Callable[..., Any]) -> Task:
    if mark.get("skip") is not None:
        body = SkipBody(body, mark["skip"])
    elif mark.get("xfail") is not None:
        body = xfail_body(body, mark["xfail"], mark.get("strict", False))
    return Task(
        name or mark["orig_name"], body, tuple(mark["after"]), mark["with_state"],
        tuple(getattr(fn, TAGS_ATTR, ())), module, mark.get("retries"),
        mark.get("retry_delay"), mark.get("timeout"), mark.get("group"),
        mark.get("priority", 0),
    )


def register_marked(scheduler: Any, module: ModuleType) -> list[str]:
    """Register a module's marked functions on ``scheduler``, in source order.

    Dependencies may name functions defined further down. Unknown names and cycles raise
    before anything is registered. Returns the names registered.
    """
    tasks = [t for fn in marked_functions(module)
             for t in tasks_from_marked(fn, module=module.__name__)]
    tasks = expand_after(tasks)
    scheduler.add_tasks(tasks)
    return [t.name for t in tasks]


def expand_after(tasks: list[Task]) -> list[Task]:
    """A dependency on a parametrized task's bare name means all of its instances."""
    names = {t.name for t in tasks}
    by_base: dict[str, list[str]] = {}
    for t in tasks:
        base, bracket, _ = t.name.partition("[")
        if bracket and t.name.endswith("]"):
            by_base.setdefault(base, []).append(t.name)
    if not by_base:
        return tasks
    expanded = []
    for t in tasks:
        after: dict[str, None] = {}
        for dep in t.after:
            deps = [dep] if dep in names else by_base.get(dep, [dep])
            after.update((d, None) for d in deps if d != t.name)
        expanded.append(t._replace(after=tuple(after)))
    return expanded
