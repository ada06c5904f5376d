"""What a run prints, as pytest does: header, progress, FAILURES, short summary, the summary
line tools parse, --log lines, colour, and the console script itself."""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

import pytest

import threaded_order
import threaded_order_cli
from threaded_order_cli.testing import spawn_mtrun

from ._support import ANSI, QUIET, counts, mtrun, section, write

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MODULE = """
    from threaded_order import ThreadProxyLogger, dmark

    logger = ThreadProxyLogger()

    def check(value):
        assert value == 2, f"expected 2, got {value}"

    @dmark()
    def test_a():
        print("output of a passing task")
        logger.info("info from a")
        logger.debug("debug from a")

    @dmark(after=["test_a"])
    def test_b():
        print("output of b before failing")
        check(1)

    @dmark(after=["test_a"])
    def test_c():
        pass
"""


def test_default_run_prints_header_progress_failures_and_summary(tmp_path):
    """The pytest-like report, in order; the traceback keeps only the user's frames."""
    write(tmp_path, "test_mod.py", MODULE)
    result = mtrun("test_mod.py", cwd=tmp_path)
    assert result.ret == 1
    assert result.stderr == ""
    out = result.stdout
    assert not ANSI.search(out), "piped output must not be coloured by default"
    lines = out.splitlines()
    assert re.fullmatch(r"=+ mtrun session starts =+", lines[0])
    assert (f"Python {platform.python_version()}, threaded-order "
            f"{threaded_order.__version__}, mtrun {threaded_order_cli.__version__}") in lines[1]
    assert f"workers: {min(8, os.cpu_count() or 1)}" in lines
    assert "collected 3 tasks" in lines
    progress = next(line for line in lines if line.endswith("[100%]"))
    assert re.fullmatch(r"[.F]{3} \[100%\]", progress) and progress.count("F") == 1
    assert re.search(r"^=+ FAILURES =+$", out, re.M)
    failure = section(out, "test_b")
    assert 'in test_b\n    check(1)' in failure
    assert "in check" in failure and "AssertionError: expected 2, got 1" in failure
    assert "/threaded_order/" not in failure and "engine.py" not in failure
    assert "Captured stdout" in failure and "output of b before failing" in failure
    assert "output of a passing task" not in out  # shown for failed tasks only
    assert "FAILED test_b - AssertionError: expected 2, got 1" in lines
    assert counts(result) == (2, 1, 0)


def test_log_lines_name_threads_and_color_yes_adds_ansi(tmp_path):
    """--log: one line per task with its thread and percentage; --color=yes colours it."""
    write(tmp_path, "test_mod.py", MODULE)
    result = mtrun("test_mod.py", "--log", "--color=yes", "--workers", "1", cwd=tmp_path)
    assert result.ret == 1
    assert "\x1b[" in result.stdout
    assert re.search(r"^\S+ \S+ \[thread_0\] INFO info from a$", result.stderr, re.M)
    assert "debug from a" not in result.stderr
    plain = ANSI.sub("", result.stdout).splitlines()
    assert "workers: 1" in plain
    logged = [line for line in plain if line.startswith("[thread_")]
    assert re.fullmatch(r"\[thread_0\] test_a \.{3,} PASSED \[ 33%\]", logged[0]), logged
    # One worker takes ready tasks in source order, so the order is fixed.
    assert [re.sub(r" \.{3,} ", " ", line) for line in logged[1:]] == [
        "[thread_0] test_b FAILED [ 66%]", "[thread_0] test_c PASSED [100%]"]
    assert len({len(line) for line in logged}) == 1  # aligned
    assert counts(result) == (2, 1, 0)


def test_verbose_logs_debug_records_with_thread_names(tmp_path):
    write(tmp_path, "test_mod.py", MODULE)
    result = mtrun("test_mod.py", "--verbose", "--workers", "1", cwd=tmp_path)
    assert result.ret == 1
    assert re.search(r"^\S+ \S+ \[thread_0\] DEBUG debug from a$", result.stderr, re.M)
    assert counts(result) == (2, 1, 0)


def test_module_setup_logging_replaces_the_built_in_one(tmp_path):
    """With --log, a module-level setup_logging(workers, verbose) is called instead."""
    write(tmp_path, "test_custom.py", """
        import logging
        from threaded_order import dmark

        def setup_logging(workers, verbose):
            print(f"setup_logging({workers}, {verbose})")

        @dmark()
        def test_one():
            logging.getLogger("app").warning("not through the built-in handler")
    """)
    result = mtrun("test_custom.py", "--log", "--workers", "3", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert result.stdout.startswith("setup_logging(3, False)\n")
    assert result.stderr == ""  # the warning went to the task's buffer only
    assert counts(result) == (1, 0, 0)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("option", "coloured"), [([], True), (["--color=no"], False)])
def test_colour_on_a_terminal_unless_color_no(tmp_path, option, coloured):
    """Run with stdout on a pseudo-terminal: auto colours, --color=no does not."""
    write(tmp_path, "test_mod.py", MODULE)
    with spawn_mtrun("test_mod.py", *option, cwd=tmp_path, env=QUIET, stdin=False,
                     tty=True) as run:
        result = run.finish()
    assert result.ret == 1, result.stdout
    assert ("\x1b[" in result.stdout) is coloured
    assert counts(result) == (2, 1, 0)


MANY = """
    from threaded_order import dmark

    for i in range(300):
        def task():
            print("x" * 1000)  # shown under each failure: far more than a pipe buffer holds
            raise AssertionError("failed on purpose")
        task.__name__ = f"test_{i:03d}_with_a_long_name_to_fill_the_collect_only_listing"
        globals()[task.__name__] = dmark()(task)
    del task
"""


@pytest.mark.parametrize(("option", "code"), [([], 1), (["--collect-only"], 0)])
def test_reader_closing_the_pipe_is_not_an_error(tmp_path, option, code):
    """``mtrun ... | head -1``: no error per task, no traceback, the run's own exit code."""
    write(tmp_path, "test_many.py", MANY)
    reader, writer = os.pipe()
    with spawn_mtrun("test_many.py", *option, cwd=tmp_path, env=QUIET, stdin=False,
                     stdout=writer) as run:
        os.close(writer)
        with open(reader, encoding="utf-8") as stdout:  # the reader reads a line and closes
            stdout.readline()
        result = run.finish()
    assert (result.ret, result.stderr) == (code, "")


def test_console_script_runs_an_all_passing_module(tmp_path):
    """The installed ``mtrun`` script (not only ``python -m``) works and exits 0."""
    write(tmp_path, "test_ok.py", """
        from threaded_order import dmark

        @dmark()
        def test_one():
            pass

        @dmark(after="test_one")
        def test_two():
            pass
    """)
    result = mtrun("test_ok.py", cwd=tmp_path, script=True)
    assert result.ret == 0, result.stderr
    assert ".. [100%]" in result.stdout
    assert counts(result) == (2, 0, 0)


def test_original_example_with_skip_deps(tmp_path):
    """examples/example4c.py: test_d fails on purpose, so --skip-deps skips test_f."""
    result = mtrun(EXAMPLES / "example4c.py", "--skip-deps", "-rfEs", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    assert "FAILED test_d - AssertionError: Intentional Failure" in result.stdout
    assert "SKIPPED test_f - dependency 'test_d' failed" in result.stdout
    assert counts(result) == (4, 1, 1)
