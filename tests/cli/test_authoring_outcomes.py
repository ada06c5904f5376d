"""Outcomes from inside a test and from markers, through a real mtrun: the summary line, the
exit code, dependents, and the JUnit, JSON and structlog reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import xmlschema

from threaded_order_json import schema as json_schema

from ._support import mtrun, write

JUNIT_XSD = Path(__file__).parent.parent / "reporters" / "data" / "junit-10.xsd"

OUTCOMES = '''
import sys

import threaded_order
from threaded_order import dmark


@dmark()
def test_passes():
    pass


@dmark()
def test_skips_itself():
    threaded_order.skip("no network here")


@dmark(after=["test_skips_itself"])
def test_needs_network():
    raise AssertionError("must not run: its dependency was skipped")


@dmark()
def test_pytest_skip():
    import pytest
    pytest.skip("pytest says skip")


@dmark()
def test_importorskip():
    import pytest
    pytest.importorskip("surely_not_an_installed_module")


@dmark(skip="not today")
def test_marked_skip():
    raise AssertionError("a skipped body never runs")


@dmark(skipif=sys.platform != "no-such-platform", reason="only on no-such-platform")
def test_marked_skipif():
    raise AssertionError("a skipped body never runs")


@dmark(xfail="bug 12")
def test_known_bug():
    assert 1 + 1 == 3


@dmark()
def test_xfail_inside():
    threaded_order.xfail("server flaky")


@dmark()
def test_pytest_xfail():
    import pytest
    pytest.xfail("pytest says xfail")


@dmark(xfail="was bug 13")
def test_fixed_bug():
    pass


@dmark(after=["test_known_bug"])
def test_after_known_bug():
    raise AssertionError("must not run: its dependency xfailed")
'''

FAILING = '''
import threaded_order
from threaded_order import dmark


@dmark(xfail="bug 14", strict=True)
def test_strict_xpass():
    pass


@dmark()
def test_fails_on_purpose():
    threaded_order.fail("bad data in row 3")


@dmark()
def test_pytest_fail():
    import pytest
    pytest.fail("pytest says fail")
'''

SKIPPED = ["test_skips_itself", "test_needs_network", "test_pytest_skip", "test_importorskip",
           "test_marked_skip", "test_marked_skipif", "test_after_known_bug"]
XFAILED = ["test_known_bug", "test_xfail_inside", "test_pytest_xfail"]


def test_outcomes_are_counted_and_do_not_fail_the_run(tmp_path: Path) -> None:
    write(tmp_path, "test_outcomes.py", OUTCOMES)
    done = mtrun("test_outcomes.py", "-rsxX", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=1, skipped=7, xfailed=3, xpassed=1)
    assert "Traceback" not in done.stderr
    for reason in ("no network here", "pytest says skip", "surely_not_an_installed_module",
                   "not today", "only on no-such-platform", "bug 12", "server flaky",
                   "pytest says xfail", "was bug 13",
                   "dependency 'test_skips_itself' was skipped",
                   "dependency 'test_known_bug' xfailed"):
        assert reason in done.stdout, reason


def test_strict_xpass_and_fail_are_failures(tmp_path: Path) -> None:
    write(tmp_path, "test_failing.py", FAILING)
    done = mtrun("test_failing.py", cwd=tmp_path)
    assert done.ret == 1
    done.assert_outcomes(failed=3)
    assert "[XPASS(strict)] bug 14" in done.stdout
    assert "bad data in row 3" in done.stdout and "pytest says fail" in done.stdout


def test_reports_carry_the_outcomes_and_stay_valid(tmp_path: Path) -> None:
    write(tmp_path, "test_outcomes.py", OUTCOMES)
    write(tmp_path, "test_failing.py", FAILING)
    done = mtrun("--reporter", "json=report.json", "--reporter", "junit=junit.xml",
                 "--reporter", "structlog=events.jsonl", "test_outcomes.py", "test_failing.py",
                 cwd=tmp_path, autoload=True)
    assert done.ret == 1, done.stdout + done.stderr

    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json_schema()).validate(document)
    counts = {k: document["summary"][k] for k in
              ("passed", "failed", "skipped", "xfailed", "xpassed")}
    assert counts == {"passed": 1, "failed": 3, "skipped": 7, "xfailed": 3, "xpassed": 1}
    by_name = {t["name"].rsplit("::", 1)[-1]: t for t in document["tasks"]}
    assert by_name["test_known_bug"]["status"] == "xfailed"
    assert by_name["test_known_bug"]["skip_reason"] == "bug 12"
    assert by_name["test_fixed_bug"]["status"] == "xpassed"
    strict = by_name["test_strict_xpass"]
    assert strict["status"] == "failed" and strict["error"]["type"] == "XPassStrict"
    assert strict["error"]["message"] == "[XPASS(strict)] bug 14"

    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(tmp_path / "junit.xml"))
    junit = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert junit.count('type="pytest.xfail"') == 3
    assert 'message="bug 12"' in junit

    lines = [json.loads(line) for line in
             (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    statuses = {line["task"].rsplit("::", 1)[-1]: line["status"] for line in lines
                if line["event"] == "task_done"}
    assert sorted(n for n, s in statuses.items() if s == "xfailed") == sorted(XFAILED)
    assert [n for n, s in statuses.items() if s == "xpassed"] == ["test_fixed_bug"]
    assert sorted(n for n, s in statuses.items() if s == "skipped") == sorted(SKIPPED)
    (done_line,) = [line for line in lines if line["event"] == "scheduler_done"]
    assert (done_line["xfailed"], done_line["xpassed"]) == (3, 1)


def test_pytest_is_not_imported_unless_a_test_does(tmp_path: Path) -> None:
    write(tmp_path, "test_plain.py", '''
        import sys
        import threaded_order
        from threaded_order import dmark

        @dmark()
        def test_skip():
            assert "_pytest" not in sys.modules and "pytest" not in sys.modules
            threaded_order.skip("fine")

        @dmark(xfail="x")
        def test_xfail():
            assert "_pytest" not in sys.modules
            raise ValueError("expected")
    ''')
    done = mtrun("test_plain.py", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(skipped=1, xfailed=1)


def test_retries_never_repeat_an_outcome(tmp_path: Path) -> None:
    write(tmp_path, "test_retry.py", '''
        from pathlib import Path

        import threaded_order
        from threaded_order import dmark

        def count(name):
            with open(Path(__file__).parent / name, "a") as f:
                f.write("x")

        @dmark(retries=3)
        def test_skip():
            count("skip.txt")
            threaded_order.skip("s")

        @dmark(retries=3, xfail="known")
        def test_xfail():
            count("xfail.txt")
            raise ValueError("v")
    ''')
    done = mtrun("test_retry.py", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(skipped=1, xfailed=1)
    assert (tmp_path / "skip.txt").read_text() == "x"
    assert (tmp_path / "xfail.txt").read_text() == "x"
