"""Scheduler construction and task registration: the 1.4.0 API, its errors and add_tasks."""

from __future__ import annotations

import os

import pytest

from threaded_order import (
    CycleError,
    Scheduler,
    Task,
    TaskGraphError,
    UnknownDependencyError,
    default_workers,
)

from ._support import noop


def test_default_workers_is_cpu_count_capped_at_eight():
    expected = min(8, os.cpu_count() or 1)
    assert default_workers == expected
    assert Scheduler().workers == expected


@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, "2", True, False])
def test_bad_worker_count_raises_value_error(bad):
    with pytest.raises(ValueError, match="workers"):
        Scheduler(workers=bad)


@pytest.mark.parametrize("bad", [0, -2, 1.0, True])
def test_bad_max_failures_raises_value_error(bad):
    with pytest.raises(ValueError, match="max_failures"):
        Scheduler(workers=1, max_failures=bad)


def test_graph_errors_are_value_errors():
    """Callers of 1.4.0 catch ValueError; every graph error must still be one."""
    assert issubclass(TaskGraphError, ValueError)
    assert issubclass(UnknownDependencyError, TaskGraphError)
    assert issubclass(CycleError, TaskGraphError)


def test_register_rejects_non_callable_naming_the_task():
    s = Scheduler(workers=1)
    with pytest.raises(ValueError, match="'job'"):
        s.register(42, "job")
    assert "job" not in s.graph


def test_register_rejects_duplicate_name():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    with pytest.raises(ValueError, match="'a'"):
        s.register(noop, "a")
    assert len(s.graph) == 1


def test_register_rejects_unknown_dependencies_naming_the_missing_ones():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    with pytest.raises(UnknownDependencyError) as info:
        s.register(noop, "b", after=["a", "ghost", "phantom"])
    message = str(info.value)
    assert "'b'" in message and "'ghost'" in message and "'phantom'" in message
    assert "'a'" not in message
    assert info.value.missing == ["ghost", "phantom"]
    assert "b" not in s.graph


def test_register_rejects_self_dependency():
    s = Scheduler(workers=1)
    with pytest.raises(ValueError, match="'a'"):
        s.register(noop, "a", after="a")
    assert "a" not in s.graph


@pytest.mark.parametrize("bad_name", ["", None, 3])
def test_register_rejects_bad_names(bad_name):
    with pytest.raises(ValueError):
        Scheduler(workers=1).register(noop, bad_name)


def test_after_string_is_one_dependency_not_its_characters():
    s = Scheduler(workers=1)
    for name in ("a", "b", "ab"):
        s.register(noop, name)
    s.register(noop, "c", after="ab")
    assert s.graph.parents_of("c") == ("ab",)
    # With only "a" and "b" known, "ab" is a missing name, not two satisfied ones.
    t = Scheduler(workers=1)
    t.register(noop, "a")
    t.register(noop, "b")
    with pytest.raises(UnknownDependencyError, match="'ab'"):
        t.register(noop, "c", after="ab")


def test_register_tags_string_is_one_tag():
    """tags="slow" is one tag, as after="a" is one dependency."""
    s = Scheduler(workers=1)
    s.register(noop, "a", tags="slow")
    s.add_tasks([Task("b", noop, tags="fast")])
    assert s.graph.nodes["a"].tags == ("slow",)
    assert s.graph.nodes["b"].tags == ("fast",)


def test_with_state_passes_the_state_and_without_passes_nothing():
    s = Scheduler(workers=1)
    seen = []
    s.register(lambda state: seen.append(state), "stateful", with_state=True)
    s.register(lambda *args: seen.append(args), "plain")
    summary = s.start()
    assert summary["failed"] == []
    assert seen[0] is s.state
    assert seen[1] == ()


def test_dregister_registers_under_function_name_and_stays_callable():
    s = Scheduler(workers=1)

    @s.dregister()
    def build():
        return "built"

    @s.dregister(after="build", with_state=True)
    def check(state):
        return state["results"]["build"] + " and checked"

    assert s.graph.parents_of("check") == ("build",)
    assert s.graph.nodes["check"].with_state is True
    assert build() == "built"
    assert build.__name__ == "build"
    assert build.__original__() == "built"
    assert check({"results": {"build": "x"}}) == "x and checked"
    s.start()
    assert s.state["results"] == {"build": "built", "check": "built and checked"}


def test_dregister_with_unknown_dependency_raises_at_decoration():
    s = Scheduler(workers=1)
    with pytest.raises(UnknownDependencyError, match="'nope'"):

        @s.dregister(after=["nope"])
        def lonely():
            pass

    assert "lonely" not in s.graph


def test_add_tasks_allows_forward_references():
    s = Scheduler(workers=1)
    s.add_tasks([Task("c", noop, ("b",)), Task("b", noop, "a"), Task("a", noop)])
    assert s.graph.parents_of("b") == ("a",)
    assert s.start()["ran"] == ["a", "b", "c"]


def test_add_tasks_unknown_dependency_registers_nothing():
    s = Scheduler(workers=1)
    s.register(noop, "existing")
    with pytest.raises(UnknownDependencyError, match="'ghost'"):
        s.add_tasks([Task("x", noop), Task("y", noop, ("x", "ghost"))])
    assert list(s.graph.nodes) == ["existing"]


def test_add_tasks_cycle_raises_cycle_error_and_registers_nothing():
    s = Scheduler(workers=1)
    s.register(noop, "existing")
    with pytest.raises(CycleError) as info:
        s.add_tasks([Task("a", noop, ("b",)), Task("b", noop, ("a", "existing"))])
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b"} and len(cycle) == 3
    assert str(info.value) == "dependency cycle: " + " -> ".join(cycle)
    assert list(s.graph.nodes) == ["existing"]
    # The graph is still usable: the rejected batch left no trace.
    s.add_tasks([Task("a", noop, ("existing",))])
    assert s.start()["passed"] == ["existing", "a"]


def test_cycle_is_reported_in_run_order():
    """Each name in the message is followed by the task that waits for it."""
    s = Scheduler(workers=1)
    with pytest.raises(CycleError) as info:
        s.add_tasks([Task("a", noop, ("c",)), Task("b", noop, ("a",)), Task("c", noop, ("b",))])
    cycle = info.value.cycle
    waits_for = {"a": "c", "b": "a", "c": "b"}
    assert len(cycle) == 4 and cycle[0] == cycle[-1]
    for before, after in zip(cycle, cycle[1:]):
        assert waits_for[after] == before


def test_add_tasks_duplicate_in_batch_registers_nothing():
    s = Scheduler(workers=1)
    with pytest.raises(ValueError, match="'a'"):
        s.add_tasks([Task("a", noop), Task("b", noop), Task("a", noop)])
    assert len(s.graph) == 0


def test_add_tasks_duplicate_of_registered_task_keeps_the_original():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    with pytest.raises(ValueError, match="'a'"):
        s.add_tasks([Task("z", noop), Task("a", noop)])
    assert list(s.graph.nodes) == ["a"]
    assert s.graph.nodes["a"].func is noop


def test_add_tasks_rejects_non_callable_and_self_dependency():
    s = Scheduler(workers=1)
    with pytest.raises(ValueError, match="'x'"):
        s.add_tasks([Task("ok", noop), Task("x", "not callable")])
    with pytest.raises(ValueError, match="'y'"):
        s.add_tasks([Task("ok", noop), Task("y", noop, ("y",))])
    assert len(s.graph) == 0


def test_graph_children_and_parents():
    s = Scheduler(workers=1)
    s.register(noop, "a")
    s.register(noop, "b", after="a")
    s.register(noop, "c", after=["a", "b"])
    assert s.graph.children_of("a") == ["b", "c"]
    assert s.graph.parents_of("c") == ("a", "b")
    assert "a" in s.graph and "zz" not in s.graph


@pytest.mark.parametrize("name", ["", None, 3])
def test_add_tasks_rejects_names_that_are_not_strings(name):
    s = Scheduler()
    with pytest.raises(TaskGraphError, match="non-empty string"):
        s.add_tasks([Task(name, noop)])
    assert len(s.graph) == 0
