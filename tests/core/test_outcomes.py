"""Outcomes decided by a task: skip/xfail/fail from inside, the dmark markers, pytest's
outcome exceptions, and what they do to dependents, retries and the summary."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import pytest

import threaded_order
from threaded_order import (
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    ExitCode,
    Scheduler,
    dmark,
    exit_status,
)
from threaded_order.markers import task_from_marked
from threaded_order.outcomes import Skipped, classify
from threaded_order.results import summary_text


def run(*fns: Any, **kwargs: Any) -> Any:
    s = Scheduler(workers=2, **kwargs)
    s.add_tasks([task_from_marked(fn) for fn in fns])
    return s.start()


def test_skip_xfail_fail_from_inside_are_recorded_with_their_reason() -> None:
    @dmark()
    def a() -> None:
        threaded_order.skip("no network")

    @dmark()
    def b() -> None:
        threaded_order.xfail("known bug 12")

    @dmark()
    def c() -> None:
        threaded_order.fail("bad data")

    summary = run(a, b, c)
    tasks = summary["tasks"]
    assert (tasks["a"].status, tasks["a"].skip_reason) == (SKIPPED, "no network")
    assert (tasks["b"].status, tasks["b"].skip_reason) == (XFAILED, "known bug 12")
    assert (tasks["c"].status, tasks["c"].error_type, tasks["c"].error) == \
        (FAILED, "Failed", "bad data")
    assert summary["skipped"] == ["a"] and summary["xfailed"] == ["b"]
    assert summary["failed"] == ["c"] and summary["xpassed"] == []
    assert exit_status(summary) == ExitCode.TESTS_FAILED


def test_outcome_exceptions_are_not_caught_by_except_exception() -> None:
    @dmark()
    def a() -> None:
        try:
            threaded_order.skip("why")
        except Exception:  # what a task body may well do
            pass
        raise AssertionError("the skip was swallowed")

    assert run(a)["tasks"]["a"].status == SKIPPED


def test_pytest_outcomes_are_recognised() -> None:
    @dmark()
    def a() -> None:
        pytest.skip("py skip")

    @dmark()
    def b() -> None:
        pytest.importorskip("surely_no_such_module_here")

    @dmark()
    def c() -> None:
        pytest.xfail("py xfail")

    @dmark()
    def d() -> None:
        pytest.fail("py fail")

    tasks = run(a, b, c, d)["tasks"]
    assert (tasks["a"].status, tasks["a"].skip_reason) == (SKIPPED, "py skip")
    assert tasks["b"].status == SKIPPED
    assert "surely_no_such_module_here" in (tasks["b"].skip_reason or "")
    assert (tasks["c"].status, tasks["c"].skip_reason) == (XFAILED, "py xfail")
    assert (tasks["d"].status, tasks["d"].error) == (FAILED, "py fail")


def test_lookalike_classes_are_ordinary_failures() -> None:
    class Skipped(Exception):  # same name, not the outcome module: an ordinary error
        pass

    assert classify(Skipped("x")) is None
    assert classify(ValueError("x")) is None
    assert classify(threaded_order.outcomes.Skipped("x")) == (SKIPPED, "x")


def test_markers_skip_skipif_and_xfail() -> None:
    calls: list[str] = []

    @dmark(skip="not today")
    def a() -> None:
        calls.append("a")

    @dmark(skipif=sys.platform != "nowhere", reason="only on nowhere")
    def b() -> None:
        calls.append("b")

    @dmark(skipif=False, reason="never")
    def c() -> None:
        calls.append("c")

    @dmark(xfail="bug 7")
    def d() -> None:
        calls.append("d")
        raise ValueError("broken")

    @dmark(xfail=True)
    def e() -> None:
        calls.append("e")

    @dmark(xfail="bug 9", strict=True)
    def f() -> None:
        calls.append("f")

    summary = run(a, b, c, d, e, f)
    tasks = summary["tasks"]
    assert sorted(calls) == ["c", "d", "e", "f"]  # skipped bodies never run
    assert (tasks["a"].status, tasks["a"].skip_reason) == (SKIPPED, "not today")
    assert (tasks["b"].status, tasks["b"].skip_reason) == (SKIPPED, "only on nowhere")
    assert tasks["c"].status == PASSED
    assert (tasks["d"].status, tasks["d"].skip_reason) == (XFAILED, "bug 7")
    assert tasks["e"].status == XPASSED
    assert (tasks["f"].status, tasks["f"].error_type, tasks["f"].error) == \
        (FAILED, "XPassStrict", "[XPASS(strict)] bug 9")
    assert summary["failed"] == ["f"]
    assert summary["text"].startswith("==== 1 passed, 1 failed, 2 skipped, 1 xfailed, "
                                      "1 xpassed in ")


def test_xfailed_and_xpassed_do_not_fail_the_run() -> None:
    @dmark(xfail="bug")
    def a() -> None:
        raise ValueError("expected")

    @dmark(xfail="fixed?")
    def b() -> None:
        return None

    summary = run(a, b)
    assert exit_status(summary) == ExitCode.OK


@pytest.mark.parametrize("with_skip_dependents", [False, True])
def test_dependents_of_a_skip_or_xfail_are_skipped_naming_it(with_skip_dependents: bool) -> None:
    ran: list[str] = []

    @dmark()
    def setup() -> None:
        threaded_order.skip("no db")

    @dmark(after="setup")
    def child() -> None:
        ran.append("child")

    @dmark(after="child")
    def grandchild() -> None:
        ran.append("grandchild")

    @dmark(xfail="flaky api")
    def login() -> None:
        raise RuntimeError("503")

    @dmark(after="login")
    def use_login() -> None:
        ran.append("use_login")

    @dmark(xfail="maybe")
    def xpass() -> None:
        return None

    @dmark(after="xpass")
    def after_xpass() -> None:
        ran.append("after_xpass")

    tasks = run(setup, child, grandchild, login, use_login, xpass, after_xpass,
                skip_dependents=with_skip_dependents)["tasks"]
    assert ran == ["after_xpass"]  # an xpass counts as passed for its dependents
    assert tasks["child"].skip_reason == "dependency 'setup' was skipped"
    assert tasks["grandchild"].skip_reason == "dependency 'setup' was skipped"
    assert tasks["use_login"].skip_reason == "dependency 'login' xfailed"
    assert tasks["child"].status == tasks["use_login"].status == SKIPPED


def test_dependents_of_a_failure_still_follow_skip_dependents() -> None:
    ran: list[str] = []

    @dmark()
    def a() -> None:
        threaded_order.fail("no")

    @dmark(after="a")
    def b() -> None:
        ran.append("b")

    assert run(a, b)["tasks"]["b"].status == PASSED
    assert run(a, b, skip_dependents=True)["tasks"]["b"].skip_reason == "dependency 'a' failed"


def test_outcome_exceptions_are_never_retried() -> None:
    attempts = {"skip": 0, "xfail": 0, "fail": 0, "marked": 0}
    lock = threading.Lock()

    def count(key: str) -> None:
        with lock:
            attempts[key] += 1

    @dmark(retries=3)
    def a() -> None:
        count("skip")
        threaded_order.skip("s")

    @dmark(retries=3)
    def b() -> None:
        count("xfail")
        threaded_order.xfail("x")

    @dmark(retries=3)
    def c() -> None:
        count("fail")
        threaded_order.fail("f")

    @dmark(retries=3, xfail="known")
    def d() -> None:
        count("marked")
        raise ValueError("v")

    tasks = run(a, b, c, d)["tasks"]
    assert attempts == {"skip": 1, "xfail": 1, "fail": 1, "marked": 1}
    assert [tasks[n].status for n in "abcd"] == [SKIPPED, XFAILED, FAILED, XFAILED]


def test_async_task_outcomes_and_xfail_marker() -> None:
    @dmark()
    async def a() -> None:
        await asyncio.sleep(0)
        threaded_order.skip("async skip")

    @dmark(xfail="async bug")
    async def b() -> None:
        await asyncio.sleep(0)
        raise ValueError("x")

    @dmark(xfail="async maybe")
    async def c() -> None:
        await asyncio.sleep(0)

    tasks = run(a, b, c)["tasks"]
    assert [tasks[n].status for n in "abc"] == [SKIPPED, XFAILED, XPASSED]


def test_skip_inside_an_xfail_task_is_a_skip_and_state_passes_through() -> None:
    @dmark(with_state=True, xfail="bug")
    def a(state: dict[str, Any]) -> None:
        assert "results" in state
        threaded_order.skip("later")

    assert run(a)["tasks"]["a"].status == SKIPPED


def test_marker_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="skip must be"):
        dmark(skip=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="xfail must be"):
        dmark(xfail=[1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reason must be"):
        dmark(skipif=True, reason=5)  # type: ignore[arg-type]


def test_summary_text_keeps_the_original_format_unless_x_counts() -> None:
    assert summary_text(5, 1, 0, 0.123) == "==== 5 passed, 1 failed, 0 skipped in 0.12s ===="
    assert summary_text(5, 1, 0, 0.123, 1, 1) == \
        "==== 5 passed, 1 failed, 0 skipped, 1 xfailed, 1 xpassed in 0.12s ===="
    assert summary_text(5, 1, 0, 0.123, 0, 2) == \
        "==== 5 passed, 1 failed, 0 skipped, 2 xpassed in 0.12s ===="


def test_skip_from_inside_is_listed_once() -> None:
    @dmark()
    def a() -> None:
        raise Skipped("once")

    summary = run(a)
    assert summary["skipped"] == ["a"] and summary["ran"] == ["a"]
