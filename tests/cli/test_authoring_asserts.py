"""Assertion values: mtrun rewrites the asserts of the test modules it imports. Through a
real mtrun for what users see; the rewriter itself on tricky code, run for real."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest

from threaded_order_cli.collect import collect
from threaded_order_cli.rewrite import install, rewrite

from ._support import mtrun, section, write

SUITE = '''
from threaded_order import dmark

CALLS = []


class Response:
    status = 500

    def __repr__(self):
        return "<Response 500>"


def get(path):
    CALLS.append(path)  # a side effect: must happen once per call in the source
    return Response()


@dmark()
def test_attribute():
    resp = get("/a")
    assert resp.status == 200


@dmark()
def test_call_operand():
    assert len(get("/b").__class__.__name__) == 3


@dmark()
def test_in():
    roles = ["admin", "guest"]
    assert "owner" in roles


@dmark()
def test_is():
    assert get("/c") is None


@dmark()
def test_message():
    assert 1 + 1 == 3, "arithmetic is broken"


@dmark()
def test_short_circuit():
    ready = False
    assert ready and get("/never")


@dmark()
def test_side_effects_once():
    before = len(CALLS)
    assert get("/d").status == 500 and len(CALLS) == before + 1
    assert CALLS.count("/d") == 1
    assert get("/e").status == 404


@dmark(after=["test_side_effects_once"])
def test_calls_were_counted_once():
    assert CALLS.count("/d") == 1 and CALLS.count("/e") == 1, CALLS
'''

EXPECTED = {
    "test_attribute": "AssertionError: assert 500 == 200\n where 500 = resp.status",
    "test_call_operand": "AssertionError: assert 8 == 3\n"
                         " where 8 = len(get('/b').__class__.__name__)",
    "test_in": "AssertionError: assert 'owner' in ['admin', 'guest']",
    "test_is": "AssertionError: assert <Response 500> is None\n where <Response 500> = get('/c')",
    "test_message": "AssertionError: arithmetic is broken\nassert 2 == 3\n where 2 = 1 + 1",
    "test_short_circuit": "AssertionError: assert (False)",
    "test_side_effects_once": "AssertionError: assert 500 == 404\n where 500 = get('/e').status",
}


def test_failed_asserts_show_their_values(tmp_path: Path) -> None:
    write(tmp_path, "test_api.py", SUITE)
    done = mtrun("test_api.py", cwd=tmp_path)
    assert done.ret == 1
    done.assert_outcomes(passed=1, failed=7)
    for name, text in EXPECTED.items():
        assert text in section(done.stdout, name), (name, section(done.stdout, name))


def test_a_helper_module_is_imported_as_is(tmp_path: Path) -> None:
    write(tmp_path, "checks.py", "def check(x):\n    assert x == 1\n")
    write(tmp_path, "test_uses.py", '''
        from threaded_order import dmark
        from checks import check

        @dmark()
        def test_x():
            check(2)
    ''')
    done = mtrun("test_uses.py", cwd=tmp_path)
    assert done.ret == 1
    assert "assert 2 == 1" not in done.stdout and "AssertionError" in done.stdout


def test_plain_mode_imports_test_modules_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "test_plain_mode.py", '''
        from threaded_order import dmark

        @dmark()
        def test_x():
            assert 1 == 2
    ''')
    collected = collect([str(path)], tmp_path, rewrite_asserts=False)
    (task,) = collected.tasks
    with pytest.raises(AssertionError) as plain:
        task.func()
    assert str(plain.value) == ""
    assert "@mtrun_assert" not in vars(collected.modules[0])


def run(source: str, name: str = "f", *args: Any) -> Any:
    namespace: dict[str, Any] = {"__name__": "rewritten"}
    install(namespace)
    exec(rewrite(textwrap.dedent(source), "<test>"), namespace)
    return namespace[name](*args)


def failure(source: str, name: str = "f", *args: Any) -> str:
    with pytest.raises(AssertionError) as caught:
        run(source, name, *args)
    return str(caught.value)


def test_chained_comparisons_keep_their_short_circuit() -> None:
    text = failure('''
        def f():
            seen = []
            def v(x):
                seen.append(x)
                return x
            try:
                assert v(1) < v(3) < v(2) < v(9)
            finally:
                assert seen == [1, 3, 2], seen
    ''')
    assert text.splitlines()[0] == "assert 1 < 3 < 2"


def test_or_shows_every_operand_and_not_its_operand() -> None:
    assert failure("def f(x):\n    assert x == 1 or x == 2\n", "f", 5) == \
        "assert (5 == 1 or 5 == 2)"
    assert failure("def f(xs):\n    assert not len(xs)\n", "f", [1]) == \
        "assert not 1\n where 1 = len(xs)"


def test_comprehensions_lambdas_nested_functions_classes_and_loops() -> None:
    source = '''
        def f(items):
            assert all(x > 0 for x in items)
            assert [y for y in items if y] == items
            check = lambda v: v
            assert check(items) == items
            def inner(z):
                assert z in items
                return z
            for i in items:
                assert inner(i) == i
            class Local:
                assert True  # a class body is not rewritten
                def method(self, w):
                    assert w == items[0]
                    return w
            return Local().method(items[0])
    '''
    assert run(source, "f", [1, 2, 3]) == 1
    assert failure(source, "f", [1, -2]).startswith("assert False\n where False = all(")


def test_async_and_generator_bodies() -> None:
    namespace: dict[str, Any] = {}
    install(namespace)
    exec(rewrite(textwrap.dedent('''
        async def coro(x):
            assert await twice(x) == 3

        async def twice(x):
            return 2 * x

        def gen(x):
            yield 1
            assert x.real == 0
    '''), "<test>"), namespace)
    with pytest.raises(AssertionError) as caught:
        asyncio.run(namespace["coro"](1))
    assert str(caught.value) == "assert 2 == 3\n where 2 = await twice(x)"
    with pytest.raises(AssertionError) as caught:
        list(namespace["gen"](5))
    assert str(caught.value) == "assert 5 == 0\n where 5 = x.real"


def test_a_value_whose_repr_raises_does_not_hide_the_failure() -> None:
    text = failure('''
        class Bad:
            def __repr__(self):
                raise RuntimeError("no repr")
            def __eq__(self, other):
                return False

        def f():
            assert Bad() == 1
    ''')
    assert text.splitlines()[0] == "assert <unprintable Bad> == 1"


def test_module_level_asserts_and_tuple_asserts_are_untouched() -> None:
    namespace: dict[str, Any] = {}
    exec(rewrite("assert 1 == 1\nX = 1\n", "<test>"), namespace)
    assert namespace["X"] == 1 and "@mtrun_assert" not in namespace
    with pytest.warns(SyntaxWarning):
        code = rewrite("def f():\n    assert (0, 'always true')\n", "<test>")
    namespace = {}
    exec(code, namespace)
    namespace["f"]()


def test_assert_plain_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "test_api.py", SUITE)
    rewritten = mtrun("test_api.py", cwd=tmp_path)
    plain = mtrun("test_api.py", "--assert=plain", cwd=tmp_path)
    assert rewritten.ret == plain.ret == 1
    plain.assert_outcomes(passed=1, failed=7)
    assert EXPECTED["test_attribute"] in section(rewritten.stdout, "test_attribute")
    assert "where 500" not in section(plain.stdout, "test_attribute")
