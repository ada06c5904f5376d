"""What happens around failures: --skip-deps, --maxfail/-x, and per-task capture of print,
stderr and logging while tasks share threads and sys.stdout (and -s / --capture=no)."""

from __future__ import annotations

import re

import pytest

from ._support import counts, mtrun, section, write

CHAIN = """
    from threaded_order import dmark

    @dmark()
    def test_root():
        raise ValueError("root broke")

    @dmark(after="test_root")
    def test_child():
        pass

    @dmark(after="test_child")
    def test_grandchild():
        pass

    @dmark()
    def test_free():
        pass
"""


def test_skip_deps_skips_transitive_dependents_naming_the_failed_task(tmp_path):
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py", "--skip-deps", "--workers", "1", "-rfEs",
                   cwd=tmp_path)
    assert result.ret == 1
    assert "Fss. [100%]" in result.stdout.splitlines()  # one worker: a fixed order
    assert "SKIPPED test_child - dependency 'test_root' failed" in result.stdout
    assert "SKIPPED test_grandchild - dependency 'test_root' failed" in result.stdout
    assert counts(result) == (1, 1, 2)


def test_without_skip_deps_dependents_still_run(tmp_path):
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py", "--workers", "1", cwd=tmp_path)
    assert result.ret == 1
    assert counts(result) == (3, 1, 0)


FAILING = """
    from threaded_order import dmark

    @dmark()
    def test_f1():
        raise AssertionError("one")

    @dmark()
    def test_f2():
        raise AssertionError("two")

    @dmark()
    def test_p():
        pass

    @dmark()
    def test_last():
        pass
"""


@pytest.mark.parametrize(("option", "expected"), [
    (["-x"], (0, 1, 3)),
    (["--maxfail", "2"], (0, 2, 2)),
])
def test_maxfail_and_exitfirst_start_nothing_new(tmp_path, option, expected):
    """One worker takes tasks in source order, so which ones ran is fixed."""
    write(tmp_path, "test_failing.py", FAILING)
    result = mtrun("test_failing.py", *option, "--workers", "1", "-rfEs", cwd=tmp_path)
    assert result.ret == 1
    assert counts(result) == expected
    skipped = re.findall(r"^SKIPPED (\S+) - stopped after", result.stdout, re.M)
    assert skipped == ["test_f2", "test_p", "test_last"][expected[1] - 1:]


CAPTURE = """
    import logging
    import sys
    import threading

    from threaded_order import dmark

    both = threading.Barrier(2, timeout=20)

    def step(name):
        print(f"{name} out 1")
        both.wait()  # the other task prints between our two lines
        print(f"{name} out 2")
        sys.stderr.write(f"{name} err\\n")
        logging.getLogger("app").warning("%s log", name)
        both.wait()
        raise AssertionError(f"{name} failed")

    @dmark()
    def test_left():
        step("left")

    @dmark()
    def test_right():
        step("right")

    @dmark(after=["test_left", "test_right"])
    def test_quiet():
        print("quiet passing output")
"""


def test_each_task_output_goes_to_its_own_buffer(tmp_path):
    """Two tasks interleave their prints on the shared sys.stdout; each failure shows only its
    own stdout, stderr and log records. A passing task's output is not shown."""
    write(tmp_path, "test_capture.py", CAPTURE)
    result = mtrun("test_capture.py", "--workers", "2", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    for me, other in (("left", "right"), ("right", "left")):
        text = section(result.stdout, f"test_{me}")
        assert f"AssertionError: {me} failed" in text
        stdout = text.split("Captured stdout")[1].split("Captured stderr")[0]
        assert re.findall(r"^\w+ out \d$", stdout, re.M) == [f"{me} out 1", f"{me} out 2"]
        assert re.search(rf"-+ Captured stderr -+\n{me} err\n", text)
        assert re.search(rf"-+ Captured log -+\nWARNING +app:test_capture.py:\d+ {me} log",
                         text)
        assert other not in text
    assert "quiet passing output" not in result.stdout
    assert result.stderr == ""
    assert counts(result) == (1, 2, 0)


@pytest.mark.parametrize("option", ["-s", "--capture=no"])
def test_capture_off_shows_output_live(tmp_path, option):
    write(tmp_path, "test_capture.py", CAPTURE)
    result = mtrun("test_capture.py", "--workers", "2", option, cwd=tmp_path)
    assert result.ret == 1
    assert "Captured" not in result.stdout
    for name in ("left", "right"):  # live: print's text and its newline may interleave
        assert f"{name} out 1" in result.stdout and f"{name} out 2" in result.stdout
        assert f"{name} err" in result.stderr and f"{name} log" in result.stderr
    assert "quiet passing output" in result.stdout
    assert counts(result) == (1, 2, 0)
