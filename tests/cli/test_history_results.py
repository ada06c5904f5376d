"""Which return values the cache keeps for ``--lf --skip-deps``: only those JSON gives back
exactly, and small enough to keep the cache small."""

from __future__ import annotations

import json

import pytest

from threaded_order_cli.cache import RESULT_LIMIT, storable

from ._support import mtrun, write


@pytest.mark.parametrize("value", [None, 0, 2.5, "text", True, [1, "a", None],
                                   {"token": "t", "ids": [1, 2], "nested": {"ok": False}}])
def test_values_json_gives_back_exactly_are_kept(value):
    assert storable(value)


def _cycle():
    items: list = []
    items.append(items)
    return items


@pytest.mark.parametrize("value", [(1, 2), {1: "int key"}, {1, 2}, float("nan"), object(),
                                   [True, (1,)], {"a": (2,)}, b"bytes",
                                   _cycle(), "x" * RESULT_LIMIT],
                         ids=["tuple", "int-key", "set", "nan", "object", "nested-tuple",
                              "dict-tuple", "bytes", "cycle", "too-big"])
def test_values_json_would_change_or_too_big_are_not(value):
    assert not storable(value)


def test_bool_int_and_float_keep_their_types():
    assert storable([True, 1, 1.0]) and storable({"a": 1})


def test_a_big_result_is_not_stored_and_its_task_runs_again(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_big.py", f"""
        import os
        from threaded_order import dmark

        @dmark()
        def test_big():
            print("RAN test_big")
            return "x" * {RESULT_LIMIT + 1}

        @dmark(after=["test_big"])
        def test_use():
            assert os.environ.get("FIXED") == "1"
    """)
    assert mtrun("test_big.py", cwd=tmp_path).ret == 1
    stored = json.loads((tmp_path / ".mtrun_cache" / "v" / "results.json").read_text())
    assert stored == {}
    again = mtrun("test_big.py", "--lf", "--skip-deps", "-s", cwd=tmp_path, env={"FIXED": "1"})
    assert again.ret == 0, again.stdout + again.stderr
    assert "RAN test_big" in again.stdout
    assert "no stored result for test_big: run again" in again.stdout
