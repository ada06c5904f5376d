"""Parametrized tasks: one task per value, named ``name[id]``.

``@dmark(params=[...], ids=..., argnames=...)`` and, when pytest is installed and the
function carries them, ``@pytest.mark.parametrize`` marks (read from ``fn.pytestmark``
without importing pytest). Values reach the body as keyword arguments: ``param=value``, or
``a=..., b=...`` with ``argnames="a,b"``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple, Optional

from ._text import safe_str, type_name
from .graph import TaskGraphError, is_async

__all__ = ["Instance", "ParamBody", "instances", "param_body"]


class Instance(NamedTuple):
    id: str
    kwargs: dict[str, Any]


class ParamBody:
    """Calls the function with one instance's arguments. A class, not a closure, so that an
    executor can pickle it."""

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.func, self.kwargs = func, kwargs

    def __call__(self, *args: Any) -> Any:
        return self.func(*args, **self.kwargs)


class AsyncParamBody(ParamBody):
    async def __call__(self, *args: Any) -> Any:
        return await self.func(*args, **self.kwargs)


def param_body(func: Callable[..., Any], kwargs: dict[str, Any]) -> ParamBody:
    return (AsyncParamBody if is_async(func) else ParamBody)(func, kwargs)


def check(name: str, params: Any, ids: Any, argnames: Any) -> Optional[dict[str, Any]]:
    """``dmark``'s arguments, checked when the function is decorated; None without params."""
    if params is None:
        if ids is not None or argnames is not None:
            raise TaskGraphError(f"task {name!r}: ids= and argnames= need params=")
        return None
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        try:
            params = list(params)
        except TypeError:
            raise TaskGraphError(f"task {name!r}: params must be a list of values, got "
                                 f"{type_name(params)}") from None
    names = _argnames(name, argnames if argnames is not None else "param")
    if ids is not None and not callable(ids):
        ids = list(ids)
        if len(ids) != len(params):
            raise TaskGraphError(f"task {name!r}: {len(ids)} ids for {len(params)} params")
    return {"values": list(params), "ids": ids, "argnames": names}


def _argnames(name: str, argnames: Any) -> list[str]:
    names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) \
        else list(argnames)
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise TaskGraphError(f"task {name!r}: argnames must be identifiers, got {argnames!r}")
    return names


def instances(name: str, spec: Optional[dict[str, Any]], fn: Any) -> list[Instance]:
    """Every instance of a task: from ``dmark(params=...)`` and pytest's parametrize marks
    (the product, pytest's order); ``[]`` when it is not parametrized."""
    axes = [_axis(name, m) for m in _pytest_parametrize(fn)]
    if spec is not None:
        axes.append(_axis(name, spec))
    if not axes:
        return []
    found = []
    for combo in itertools.product(*axes):
        kwargs: dict[str, Any] = {}
        for part in combo:
            kwargs.update(part.kwargs)
        found.append(Instance("-".join(part.id for part in combo), kwargs))
    return _unique(found)


def _axis(name: str, spec: dict[str, Any]) -> list[Instance]:
    names, ids = spec["argnames"], spec["ids"]
    axis = []
    for index, value in enumerate(spec["values"]):
        given = None
        if _is_param_set(value):  # pytest.param(..., id=...)
            given, value = value.id, tuple(value.values)
            value = value[0] if len(names) == 1 and len(value) == 1 else value
        if len(names) == 1:
            kwargs = {names[0]: value}
        else:
            if not isinstance(value, (tuple, list)) or len(value) != len(names):
                raise TaskGraphError(f"task {name!r}: param {index} must have "
                                     f"{len(names)} values for argnames {','.join(names)}")
            kwargs = dict(zip(names, value))
        if given is None and ids is not None:
            given = ids(value) if callable(ids) else ids[index]
        axis.append(Instance(_id(given, kwargs, index), kwargs))
    return axis


def _id(given: Any, kwargs: dict[str, Any], index: int) -> str:
    """pytest's ids: the given one; else each plain value as text, others ``argname+N``."""
    if given is not None:
        return safe_str(given)
    parts = []
    for argname, value in kwargs.items():
        if value is None or isinstance(value, (str, int, float, bool, complex)):
            parts.append(safe_str(value) if not isinstance(value, str) else value or "''")
        else:
            parts.append(f"{argname}{index}")
    return "-".join(parts)


def _unique(found: list[Instance]) -> list[Instance]:
    """Repeated ids get a number, as pytest's: ``a0``, ``a1``."""
    counts: dict[str, int] = {}
    for inst in found:
        counts[inst.id] = counts.get(inst.id, 0) + 1
    seen: dict[str, int] = {}
    unique = []
    for inst in found:
        if counts[inst.id] > 1:
            number = seen.get(inst.id, 0)
            seen[inst.id] = number + 1
            inst = inst._replace(id=f"{inst.id}{number}")
        unique.append(inst)
    return unique


def _is_param_set(value: Any) -> bool:
    return type(value).__name__ == "ParameterSet" and hasattr(value, "values") \
        and hasattr(value, "id")


def _pytest_parametrize(fn: Any) -> list[dict[str, Any]]:
    """pytest's ``parametrize`` marks on ``fn``, read as data: pytest is not imported."""
    try:
        marks = list(getattr(fn, "pytestmark", None) or ())
    except Exception:
        return []
    found = []
    for mark in marks:
        if getattr(mark, "name", None) != "parametrize":
            continue
        args, kwargs = list(mark.args), dict(mark.kwargs)
        argnames = args[0] if args else kwargs.get("argnames")
        values = args[1] if len(args) > 1 else kwargs.get("argvalues", ())
        name = getattr(fn, "__name__", "?")
        spec = check(name, list(values), kwargs.get("ids"), argnames)
        if spec is not None:
            found.append(spec)
    return found
