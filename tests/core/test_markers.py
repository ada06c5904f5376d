"""dmark/tag metadata and register_marked on a real module imported from disk."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap

import pytest

from threaded_order import (
    CycleError,
    Scheduler,
    UnknownDependencyError,
    dmark,
    register_marked,
    tag,
)

_ids = itertools.count()


@pytest.fixture
def write_module(tmp_path, monkeypatch):
    """Write source to a uniquely named module on sys.path and import it for real."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names = []

    def write(source: str, stem: str = "marked"):
        name = f"{stem}_{next(_ids)}_{tmp_path.name.replace('-', '_')}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_dmark_only_attaches_metadata_and_returns_the_function():
    def build(state):
        return state

    marked = dmark(after="compile", with_state=True)(build)
    assert marked is build
    assert build.__threaded_order__["after"] == ["compile"]
    assert build.__threaded_order__["with_state"] is True
    assert build({"x": 1}) == {"x": 1}


def test_tag_and_dmark_stack_in_either_order():
    @tag("slow", "db")
    @dmark(after=["a"])
    def one():
        return 1

    @dmark(after=["a"])
    @tag("slow", "db")
    def two():
        return 2

    for fn in (one, two):
        assert fn.__threaded_order__["after"] == ["a"]
        assert fn.__threaded_order_tags__ == ("slow", "db")
    assert one() == 1 and two() == 2


def test_tag_accumulates_without_duplicates():
    @tag("a", "b")
    @tag("b", "c")
    def fn():
        pass

    assert fn.__threaded_order_tags__ == ("b", "c", "a")


@pytest.mark.parametrize("bad", ["", "   ", 3, None])
def test_tag_rejects_empty_or_non_string_tags(bad):
    with pytest.raises(ValueError):
        tag(bad)


def test_dmark_rejects_non_callables_and_self_dependency():
    with pytest.raises(TypeError):
        dmark()(42)

    def selfish():
        pass

    with pytest.raises(ValueError, match="'selfish'"):
        dmark(after="selfish")(selfish)


def test_marked_functions_are_not_registered_by_marking():
    s = Scheduler(workers=1)

    @dmark()
    def lone():
        pass

    assert len(s.graph) == 0


def test_register_marked_uses_source_order_forward_refs_and_skips_imports(write_module):
    helper = write_module(
        """
        from threaded_order import dmark

        @dmark()
        def imported_task():
            return "should not run"
        """,
        stem="helper",
    )
    module_name = write_module(
        f"""
        from threaded_order import dmark, tag
        from {helper} import imported_task

        @dmark(after=["second"])
        @tag("slow")
        def first():
            return "first"

        def plain():
            return "not a task"

        @tag("fast", "unit")
        @dmark()
        def second():
            return "second"

        @dmark(after="first", with_state=True)
        def third(state):
            return state["results"]["first"] + "+third"
        """
    )
    module = importlib.import_module(module_name)
    s = Scheduler(workers=1)
    assert register_marked(s, module) == ["first", "second", "third"]
    assert list(s.graph.nodes) == ["first", "second", "third"]
    nodes = s.graph.nodes
    assert nodes["first"].after == ("second",)
    assert nodes["first"].tags == ("slow",)
    assert nodes["second"].tags == ("fast", "unit")
    assert nodes["third"].with_state is True
    assert {t.module for t in nodes.values()} == {module_name}

    summary = s.start()
    assert summary["ran"] == ["second", "first", "third"]
    assert s.state["results"]["third"] == "first+third"
    assert summary["tasks"]["first"].tags == ("slow",)
    assert summary["tasks"]["first"].module == module_name
    assert module.first() == "first"  # still a plain callable


def test_an_alias_of_a_marked_function_is_one_task(write_module):
    module = importlib.import_module(write_module(
        """
        from threaded_order import dmark

        @dmark()
        def build():
            return "built"

        also_build = build
        """
    ))
    s = Scheduler(workers=1)
    assert register_marked(s, module) == ["build"]
    assert s.start()["passed"] == ["build"]


def test_register_marked_with_unknown_dependency_registers_nothing(write_module):
    module = importlib.import_module(write_module(
        """
        from threaded_order import dmark

        @dmark()
        def good():
            pass

        @dmark(after=["missing"])
        def bad():
            pass
        """
    ))
    s = Scheduler(workers=1)
    with pytest.raises(UnknownDependencyError, match="'missing'"):
        register_marked(s, module)
    assert len(s.graph) == 0


def test_register_marked_with_cycle_registers_nothing(write_module):
    module = importlib.import_module(write_module(
        """
        from threaded_order import dmark

        @dmark(after="pong")
        def ping():
            pass

        @dmark(after="ping")
        def pong():
            pass
        """
    ))
    s = Scheduler(workers=1)
    with pytest.raises(CycleError, match="dependency cycle: "):
        register_marked(s, module)
    assert len(s.graph) == 0
