"""The everyday pytest flags with pytest's meaning: -k, -v/-vv/-q/-qq, -r, --tb, --durations,
--color and the colour variables; and what an interrupted run prints."""

from __future__ import annotations

import re
import signal
import sys

import pytest

from threaded_order_cli.testing import ANSI, spawn_mtrun

from ._support import QUIET, assert_error, counts, mtrun, write

SUITE = """
    from threaded_order import dmark, tag

    @dmark()
    def test_Login():
        print("login output")

    @tag("api")
    @dmark(after=["test_Login"])
    def test_api_get():
        pass

    @tag("api", "slow")
    @dmark(after=["test_Login"])
    def test_api_post():
        pass

    @dmark()
    def test_broken():
        x = 1
        assert x == 2, "broken on purpose"

    @dmark(after=["test_broken"])
    def test_after_broken():
        pass
"""


@pytest.fixture
def suite(tmp_path):
    write(tmp_path, "test_suite.py", SUITE)
    return tmp_path


def names_run(stdout: str) -> set[str]:
    return set(re.findall(r"^test_suite.py::(\w+) (?:PASSED|FAILED|SKIPPED)", stdout, re.M))


@pytest.mark.parametrize(("expr", "expected"), [
    ("login", {"test_Login"}),  # case-insensitive
    ("api and not post", {"test_api_get"}),
    ("(get or post) and not broken", {"test_api_get", "test_api_post"}),
    ("slow", {"test_api_post"}),  # a tag is a name too, as pytest's markers
    ("test_suite.py and broken", {"test_broken", "test_after_broken"}),
    ("", {"test_Login", "test_api_get", "test_api_post", "test_broken",
          "test_after_broken"}),
])
def test_k_selects_by_name_with_pytest_grammar(suite, expr, expected):
    result = mtrun("test_suite.py", "-k", expr, "-v", cwd=suite)
    assert names_run(result.stdout) == expected, result.stdout + result.stderr


def test_k_combines_with_tags_and_with_deps(suite):
    result = mtrun("test_suite.py", "--tags", "api", "-k", "get", "--with-deps", "-v",
                   cwd=suite)
    assert names_run(result.stdout) == {"test_api_get", "test_Login"}, result.stderr
    result = mtrun("test_suite.py", "--tags", "slow", "-k", "get", cwd=suite)
    assert_error(result, 5, "no tasks match --tags 'slow' and -k 'get'")


@pytest.mark.parametrize(("expr", "why"), [
    ("api and", "expected an identifier, found 'the end'"),
    ("(api", "missing ')'"),
    ("api ~ get", "unexpected character '~'"),
])
def test_a_bad_k_expression_is_one_line(suite, expr, why):
    assert_error(mtrun("test_suite.py", "-k", expr, cwd=suite), 4, f"-k {expr!r}", why)


def test_a_deeply_nested_k_expression_is_parsed_without_recursion(suite):
    expr = "(" * 3000 + "login" + ")" * 3000
    result = mtrun("test_suite.py", "-k", expr, "-v", cwd=suite)
    assert names_run(result.stdout) == {"test_Login"}, result.stderr[-500:]


def test_verbosity_levels(suite):
    verbose = mtrun("test_suite.py", "-v", "--workers", "1", cwd=suite).stdout
    assert re.search(r"^test_suite.py::test_Login PASSED \(thread_\d+\) +\[ 20%\]$", verbose,
                     re.M), verbose
    very = mtrun("test_suite.py", "-vv", cwd=suite).stdout
    assert re.search(r"^test_suite.py::test_Login PASSED \(thread_\d+, \d+\.\d\ds\)", very,
                     re.M), very
    quiet = mtrun("test_suite.py", "-q", cwd=suite).stdout
    assert "session starts" not in quiet and "rootdir" not in quiet
    assert re.search(r"^[.Fs]{5} \[100%\]$", quiet, re.M), quiet
    assert "FAILED test_broken" in quiet
    very_quiet = mtrun("test_suite.py", "-qq", cwd=suite)
    assert very_quiet.stdout.splitlines() == [very_quiet.stdout.strip()], very_quiet.stdout
    assert counts(very_quiet) == (4, 1, 0)


@pytest.mark.parametrize(("chars", "present", "absent"), [
    (None, ["FAILED test_broken"], ["SKIPPED", "PASSED"]),
    ("s", ["SKIPPED test_after_broken - dependency 'test_broken' failed"], ["FAILED test_"]),
    ("A", ["FAILED test_broken", "SKIPPED test_after_broken", "PASSED test_Login"], []),
    ("a", ["FAILED test_broken", "SKIPPED test_after_broken"], ["PASSED test_Login"]),
    ("N", [], ["short test summary info", "FAILED test_broken -"]),
])
def test_r_chooses_the_short_summary(suite, chars, present, absent):
    args = ["--skip-deps"] + ([f"-r{chars}"] if chars else [])
    out = mtrun("test_suite.py", *args, cwd=suite).stdout
    for text in present:
        assert text in out, out
    for text in absent:
        assert text not in out, out


def test_tb_styles(suite):
    long = mtrun("test_suite.py", "--tb=long", cwd=suite).stdout
    assert "Traceback (most recent call last)" in long and "x = 1" not in long.split(
        "FAILURES")[0]
    short = mtrun("test_suite.py", "--tb=short", cwd=suite).stdout
    assert "Traceback (most recent call last)" not in short
    assert re.search(r'File ".*test_suite.py", line \d+, in test_broken', short), short
    line = mtrun("test_suite.py", "--tb=line", cwd=suite).stdout
    assert re.search(r"^.*test_suite.py:\d+: AssertionError: broken on purpose$", line, re.M)
    none = mtrun("test_suite.py", "--tb=no", cwd=suite).stdout
    assert "FAILURES" not in none and "FAILED test_broken" in none


def test_durations_show_the_slowest_with_their_thread(suite):
    out = mtrun("test_suite.py", "--durations=2", "--durations-min=0", cwd=suite).stdout
    section = out.split("slowest 2 durations")[1].split("short test summary")[0]
    assert len(re.findall(r"^\d+\.\d\ds thread_\d+ test_\w+$", section, re.M)) == 2, out
    hidden = mtrun("test_suite.py", "--durations=0", "--durations-min=1000", cwd=suite).stdout
    assert "5 durations < 1000.0s hidden" in hidden, hidden


@pytest.mark.parametrize(("env", "args", "coloured"), [
    ({}, [], False),  # not a terminal
    ({"FORCE_COLOR": "1"}, [], True),
    ({"PY_COLORS": "1"}, [], True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False),
    ({"FORCE_COLOR": "1", "PY_COLORS": "0"}, [], False),
    ({"NO_COLOR": "1"}, ["--color=yes"], True),
    ({"FORCE_COLOR": "1"}, ["--color=no"], False),
])
def test_colour_follows_color_and_the_variables_pytest_honours(suite, env, args, coloured):
    out = mtrun("test_suite.py", *args, cwd=suite, env=env).stdout
    assert bool(ANSI.search(out)) == coloured, out


MODULE = """
    import sys
    from threaded_order import dmark

    @dmark()
    def test_block():
        print("BLOCKING", flush=True)
        sys.stdin.readline()
{never}"""
NEVER = """
    @dmark(after="test_block")
    def test_never():
        pass
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
@pytest.mark.parametrize("never", [True, False], ids=["some never started", "all started"])
def test_an_interrupted_run_shows_its_progress_and_only_what_never_started(tmp_path, never):
    write(tmp_path, "test_block.py", MODULE.format(never=NEVER if never else ""))
    with spawn_mtrun("test_block.py", "-s", cwd=tmp_path, env=QUIET) as run:
        run.wait_for("BLOCKING", "stdout")
        run.send_signal(signal.SIGINT)
        run.wait_for("interrupted: waiting for")
        run.send_line("go on")
        result = run.finish()
    assert result.ret == 2, result.stdout + result.stderr
    if never:
        assert re.search(r"^\. \[ 50%\]$", result.stdout, re.M), result.stdout
        assert "!!! interrupted: 1 task(s) never started: test_never !!!" in result.stdout
    else:
        assert "!!! interrupted !!!" in result.stdout
        assert "never started" not in result.stdout


OUTCOMES = """
    from threaded_order import dmark

    @dmark(xfail="bug 12")
    def test_known_bug():
        raise AssertionError("still broken")

    @dmark(xfail="was bug 13")
    def test_fixed_bug():
        pass
"""


@pytest.mark.parametrize(("chars", "present", "absent"), [
    ("x", ["XFAIL test_known_bug - bug 12"], ["XPASS test_"]),
    ("X", ["XPASS test_fixed_bug - was bug 13"], ["XFAIL test_"]),
    ("a", ["XFAIL test_known_bug", "XPASS test_fixed_bug"], []),
    (None, [], ["XFAIL test_", "XPASS test_"]),
])
def test_r_x_and_X_list_expected_failures(tmp_path, chars, present, absent):
    write(tmp_path, "test_outcomes.py", OUTCOMES)
    result = mtrun("test_outcomes.py", "-v", *([f"-r{chars}"] if chars else []), cwd=tmp_path)
    assert result.ret == 0, result.stdout + result.stderr
    assert re.search(r"test_known_bug XFAIL \(thread_\d+\)", result.stdout), result.stdout
    for text in present:
        assert text in result.stdout, result.stdout
    for text in absent:
        assert text not in result.stdout, result.stdout
