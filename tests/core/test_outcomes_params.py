"""Parametrized tasks in the library: ids, argnames, errors, async bodies, the outcome
markers on instances, and dependencies on a parametrized task through register_marked."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from threaded_order import (
    PASSED,
    SKIPPED,
    XFAILED,
    Scheduler,
    TaskGraphError,
    dmark,
    register_marked,
    tasks_from_marked,
)


def names(fn: Any) -> list[str]:
    return [t.name for t in tasks_from_marked(fn)]


def test_default_ids_follow_pytest() -> None:
    @dmark(params=["a", 2, 1.5, None, True, "", object(), "a"])
    def t(param: Any) -> None: ...

    assert names(t) == ["t[a0]", "t[2]", "t[1.5]", "t[None]", "t[True]", "t['']",
                        "t[param6]", "t[a1]"]


def test_ids_list_function_and_argnames() -> None:
    @dmark(params=[(1, 2), (3, 4)], argnames="x, y", ids=["low", "high"])
    def t(x: int, y: int) -> int:
        return x + y

    @dmark(params=[(1, 2)], argnames=["x", "y"], ids=lambda v: f"{v[0]}to{v[1]}")
    def u(x: int, y: int) -> int:
        return x * y

    assert names(t) == ["t[low]", "t[high]"] and names(u) == ["u[1to2]"]
    assert [task.func() for task in tasks_from_marked(t)] == [3, 7]
    assert tasks_from_marked(u)[0].func() == 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"params": [1], "ids": ["a", "b"]}, "2 ids for 1 params"),
    ({"params": [(1, 2, 3)], "argnames": "a,b"}, "must have 2 values"),
    ({"params": [1], "argnames": "not an identifier"}, "argnames must be identifiers"),
    ({"ids": ["a"]}, "need params="),
    ({"params": 5}, "params must be a list"),
])
def test_bad_specs_fail_when_decorated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TaskGraphError, match=message):
        @dmark(**kwargs)
        def t(param: Any = None, a: Any = None, b: Any = None) -> None: ...

        tasks_from_marked(t)


def test_async_instances_state_and_outcome_markers() -> None:
    @dmark(params=[1, 2], with_state=True)
    async def t(state: dict[str, Any], param: int) -> int:
        assert "results" in state
        return param * 10

    @dmark(params=["x"], skip="not now")
    def s(param: str) -> None:
        raise AssertionError("skipped bodies never run")

    @dmark(params=["y"], xfail="bug")
    def x(param: str) -> None:
        raise ValueError(param)

    sched = Scheduler(workers=2)
    sched.add_tasks([*tasks_from_marked(t), *tasks_from_marked(s), *tasks_from_marked(x)])
    summary = sched.start()
    assert sched.state["results"]["t[1]"] == 10 and sched.state["results"]["t[2]"] == 20
    statuses = {n: r.status for n, r in summary["tasks"].items()}
    assert statuses == {"t[1]": PASSED, "t[2]": PASSED, "s[x]": SKIPPED, "x[y]": XFAILED}


def test_register_marked_expands_dependencies_on_a_parametrized_task() -> None:
    module = types.ModuleType("params_module_for_test")
    sys.modules[module.__name__] = module
    try:
        exec('''
from threaded_order import dmark

@dmark(params=["a", "b"])
def make(param):
    return param

@dmark(after="make", with_state=True)
def every(state):
    return sorted(k for k in state["results"] if k.startswith("make["))

@dmark(after="make[b]", params=[1], with_state=True)
def one(state, param):
    return state["results"]["make[b]"]
''', module.__dict__)
        sched = Scheduler(workers=2)
        assert register_marked(sched, module) == ["make[a]", "make[b]", "every", "one[1]"]
        summary = sched.start()
        assert summary["tasks"]["every"].after == ("make[a]", "make[b]")
        assert summary["tasks"]["one[1]"].after == ("make[b]",)
        assert sched.state["results"]["every"] == ["make[a]", "make[b]"]
        assert sched.state["results"]["one[1]"] == "b"
    finally:
        del sys.modules[module.__name__]


def test_pytest_parametrize_marks_without_pytest_in_the_library() -> None:
    @dmark()
    @pytest.mark.parametrize("n", [1, pytest.param(2, id="two")])
    def t(n: int) -> int:
        return n

    assert names(t) == ["t[1]", "t[two]"]
    assert [task.func() for task in tasks_from_marked(t)] == [1, 2]
