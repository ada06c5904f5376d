"""Targets, naming, discovery order, --tags, ::name, --with-deps, --result-NAME, --graph and
--collect-only."""

from __future__ import annotations

import re

import pytest

from ._support import counts, mtrun, write

ALPHA = """
    import helper_mod
    from threaded_order import dmark

    @dmark(after=["test_y"])
    def test_x():
        assert helper_mod.VALUE == 42

    @dmark()
    def test_y():
        pass
"""
BETA = """
    from threaded_order import dmark

    @dmark(after=["suite/test_alpha.py::test_x"])
    def test_z():
        pass
"""
STRAY = """
    from threaded_order import dmark

    @dmark()
    def test_stray():
        raise AssertionError("must not be collected")
"""


@pytest.fixture
def suite(tmp_path):
    """A folder of test modules, a helper beside them, and files discovery must ignore."""
    write(tmp_path, "suite/test_alpha.py", ALPHA)
    write(tmp_path, "suite/helper_mod.py", "VALUE = 42\n")
    write(tmp_path, "suite/pkg/beta_test.py", BETA)
    write(tmp_path, "suite/pkg/notes.py", STRAY)  # neither test_*.py nor *_test.py
    write(tmp_path, "suite/.hidden/test_hidden.py", STRAY)
    write(tmp_path, "suite/venv/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "suite/venv/lib/test_vendored.py", STRAY)
    return tmp_path


def test_folder_yields_test_files_recursively_sorted_and_skips_hidden_and_venvs(suite):
    """Several modules: tasks are relpath.py::name; "other.py::name" reaches another module.
    A .hidden folder and a virtualenv are not searched (as pytest does)."""
    result = mtrun("suite", "--collect-only", cwd=suite)
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines() == [
        "suite/pkg/beta_test.py::test_z  after: suite/test_alpha.py::test_x",
        "suite/test_alpha.py::test_x  after: suite/test_alpha.py::test_y",
        "suite/test_alpha.py::test_y",
        "",
        "3 tasks collected",
    ]


def test_two_files_run_in_dependency_order_with_sibling_import(suite):
    """``mtrun a.py b.py``: the cross-module dependency is honoured; the target's folder is
    on sys.path so ``import helper_mod`` works."""
    result = mtrun("suite/test_alpha.py", "suite/pkg/beta_test.py", "--log", cwd=suite)
    assert result.ret == 0, result.stdout + result.stderr
    order = re.findall(r"^\[thread_\d\] (\S+) \.+ PASSED", result.stdout, re.M)
    assert order == ["suite/test_alpha.py::test_y", "suite/test_alpha.py::test_x",
                     "suite/pkg/beta_test.py::test_z"]
    assert counts(result) == (3, 0, 0)


def test_source_order_forward_dependencies_and_stacked_tags(tmp_path):
    """Source order, not alphabetical; after= may name a function further down; tag works
    above or below dmark; a module-level alias of a task is not a second task."""
    write(tmp_path, "test_order.py", """
        from threaded_order import dmark, tag

        @tag("api")
        @dmark()
        def test_c():
            pass

        @dmark(after=["test_a"])
        @tag("slow", "api")
        def test_b():
            pass

        @dmark()
        def test_a():
            pass

        test_a_again = test_a  # an alias is the same task, not a duplicate
    """)
    result = mtrun("test_order.py", "--collect-only", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines() == [
        "test_c  tags: api", "test_b  after: test_a  tags: slow, api", "test_a", "",
        "3 tasks collected"]


TAGGED = """
    from threaded_order import dmark, tag

    @dmark()
    @tag("api")
    def test_api():
        pass

    @dmark(after=["test_api"])
    @tag("api", "slow")
    def test_slow_api():
        pass

    @dmark()
    @tag("db")
    def test_db():
        pass

    @dmark()
    def test_untagged():
        pass

    @dmark()
    @tag("db", "slow")
    def test_db_slow():
        pass
"""


@pytest.mark.parametrize(("args", "expected"), [
    (["--tags", "api,db"], ["test_api", "test_slow_api  after: test_api", "test_db",
                            "test_db_slow"]),
    (["--tags", "api and not slow"], ["test_api"]),
    (["--tags", "(api or db) and not slow"], ["test_api", "test_db"]),
    (["--tags", "not api"], ["test_db", "test_db_slow"]),  # untagged tasks are never selected
    (["--tags", "slow"], ["test_slow_api", "test_db_slow"]),  # dependency test_api dropped
    (["--tags", "slow", "--with-deps"], ["test_api", "test_slow_api  after: test_api",
                                         "test_db_slow"]),
])
def test_tag_expressions(tmp_path, args, expected):
    write(tmp_path, "test_tags.py", TAGGED)
    result = mtrun("test_tags.py", *args, "--collect-only", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    names = [re.sub(r"  tags: .*", "", line) for line in result.stdout.splitlines()[:-2]]
    assert names == expected


def test_tags_run_drops_dependencies_outside_the_selection(tmp_path):
    """The selected task runs without its unselected dependency; untagged ones don't crash."""
    write(tmp_path, "test_tags.py", TAGGED)
    result = mtrun("test_tags.py", "--tags", "slow", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert "collected 5 tasks / 3 deselected / 2 selected" in result.stdout
    assert counts(result) == (2, 0, 0)


CHAIN = """
    from threaded_order import dmark

    @dmark(with_state=True)
    def test_a(state):
        print("ran test_a")
        return "a"

    @dmark(with_state=True, after="test_a")
    def test_b(state):
        seen = state["results"].get("test_a")
        print(f"test_b saw {seen}")
        return f"{seen}+b"

    @dmark(with_state=True, after="test_b")
    def test_c(state):
        print(f"test_c saw {state['results'].get('test_b')}")

    @dmark()
    def test_other():
        print("ran test_other")
"""


def test_single_function_drops_its_dependencies(tmp_path):
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py::test_c", "-s", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert "collected 4 tasks / 3 deselected / 1 selected" in result.stdout
    assert "test_c saw None" in result.stdout
    assert "ran test_a" not in result.stdout and "ran test_other" not in result.stdout
    assert counts(result) == (1, 0, 0)


def test_with_deps_runs_transitive_dependencies_in_order(tmp_path):
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py::test_c", "--with-deps", "-s", "--log", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    # With -s a task's print() may land mid-line (text and newline are separate writes),
    # so the reporter's line is not anchored to a line start.
    order = re.findall(r"\[thread_\d\] (\S+) \.+ PASSED", result.stdout)
    assert order == ["test_a", "test_b", "test_c"]
    assert "test_c saw a+b" in result.stdout and "ran test_other" not in result.stdout
    assert counts(result) == (3, 0, 0)


def test_result_seed_reaches_a_single_function(tmp_path):
    """--result-test_a=mock seeds state['results'] and is not cleared at the start."""
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py::test_b", "--result-test_a=mock", "-s", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert "test_b saw mock" in result.stdout and "ran test_a" not in result.stdout
    assert counts(result) == (1, 0, 0)


@pytest.mark.parametrize(("args", "expected"), [
    # --graph with no value is text, also when a target follows it.
    (["--graph", "test_chain.py"], ["test_a", "test_other", "  test_b  <- test_a",
                                    "    test_c  <- test_b"]),
    (["--graph", "mermaid", "test_chain.py"], [
        "graph TD", '    t0["test_a"]', '    t1["test_b"]', '    t2["test_c"]',
        '    t3["test_other"]', "    t0 --> t1", "    t1 --> t2"]),
    (["test_chain.py", "--graph=dot"], [
        "digraph tasks {", "    rankdir=LR;", '    "test_a";', '    "test_b";', '    "test_c";',
        '    "test_other";', '    "test_a" -> "test_b";', '    "test_b" -> "test_c";', "}"]),
])
def test_graph_formats_print_and_exit_zero(tmp_path, args, expected):
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun(*args, cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines() == expected

