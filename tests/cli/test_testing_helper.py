"""threaded_order_cli.testing, the helper plugin authors test with: run_mtrun in a subprocess
and in-process, spawn_mtrun to drive a running mtrun, and reading the summary line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from threaded_order_cli.testing import (
    TIMEOUT,
    MtrunHung,
    RunResult,
    parse_outcomes,
    run_mtrun,
    spawn_mtrun,
)

from ._support import QUIET, write

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals")

MODULE = """
    import os
    from threaded_order import dmark

    def setup_state(state):
        print("FLAG=" + os.environ.get("HELPER_TEST_FLAG", "unset"))

    @dmark()
    def test_ok():
        pass

    @dmark()
    def test_bad():
        raise AssertionError("bad")

    @dmark(after="test_bad")
    def test_after():
        pass
"""


def test_subprocess_run_and_outcomes_ignore_colour(tmp_path):
    write(tmp_path, "test_helper_mod.py", MODULE)
    result = run_mtrun("test_helper_mod.py", "--skip-deps", "--color=yes", cwd=tmp_path,
                       env={**QUIET, "HELPER_TEST_FLAG": "sub"})
    assert result.ret == 1
    assert "\x1b[" in result.stdout and "FLAG=sub" in result.stdout
    assert result.outcomes() == {"passed": 1, "failed": 1, "skipped": 1}
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    with pytest.raises(AssertionError, match=r"(?s)'passed': 1.*--- stdout.*FLAG=sub"):
        result.assert_outcomes(passed=2)


def test_in_process_matches_a_subprocess_and_applies_env(tmp_path):
    """env must reach an in-process run too (it used to be ignored), and be restored."""
    write(tmp_path, "test_helper_mod.py", MODULE)
    before_env, before_cwd = dict(os.environ), os.getcwd()
    result = run_mtrun("test_helper_mod.py", "--skip-deps", cwd=tmp_path, in_process=True,
                       env={**QUIET, "HELPER_TEST_FLAG": "in-process"})
    assert dict(os.environ) == before_env and os.getcwd() == before_cwd
    assert result.ret == 1
    assert "FLAG=in-process" in result.stdout
    assert "FAILED test_bad - AssertionError: bad" in result.stdout
    result.assert_outcomes(passed=1, failed=1, skipped=1)


def test_in_process_error_is_one_line_on_its_stderr(tmp_path):
    result = run_mtrun("missing.py", cwd=tmp_path, in_process=True, env=QUIET)
    assert result == RunResult(4, "", "mtrun: error: file or folder not found: missing.py\n")
    assert result.outcomes() == {}


def test_parse_outcomes_reads_the_last_summary_line_of_a_pipe_or_a_terminal():
    line = "==== 3 passed, 1 failed, 2 skipped in 0.25s ===="
    assert parse_outcomes(f"x\n\x1b[31;1m{line}\x1b[0m\r\n") == \
        {"passed": 3, "failed": 1, "skipped": 2}
    assert parse_outcomes(f"{line}\nlater output\n") == {"passed": 3, "failed": 1, "skipped": 2}
    assert parse_outcomes(f"{line}\nlater output\n", final=True) == {}
    assert parse_outcomes("==== 3 passed in 0.25s ====\n") == {}


ENVIRONMENT = """
    import os, sys
    from threaded_order import dmark
    import only_on_the_given_path

    def setup_state(state):
        print("AUTOLOAD_OFF=" + os.environ.get("THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD", "-"))
        print("FLAG=" + os.environ.get("HELPER_TEST_FLAG", "unset"))

    @dmark()
    def test_ok():
        pass
"""


@pytest.mark.parametrize("in_process", [False, True], ids=["subprocess", "in-process"])
def test_autoload_pythonpath_and_removed_variables(tmp_path, monkeypatch, in_process):
    write(tmp_path, "test_env_mod.py", ENVIRONMENT)
    write(tmp_path, "elsewhere/only_on_the_given_path.py", "")
    monkeypatch.setenv("HELPER_TEST_FLAG", "inherited")
    monkeypatch.setenv("THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD", "")
    result = run_mtrun("test_env_mod.py", cwd=tmp_path, in_process=in_process)
    assert result.ret == 2 and "only_on_the_given_path" in result.stderr  # not on the path
    before_path = list(sys.path)
    result = run_mtrun("test_env_mod.py", cwd=tmp_path, env={"HELPER_TEST_FLAG": None},
                       autoload=False, pythonpath=tmp_path / "elsewhere", in_process=in_process)
    assert result.ret == 0, result.stdout + result.stderr
    assert "AUTOLOAD_OFF=1\n" in result.stdout and "FLAG=unset\n" in result.stdout
    assert sys.path == before_path and os.environ["HELPER_TEST_FLAG"] == "inherited"
    result.assert_outcomes(passed=1)


def test_script_runs_only_in_a_subprocess(tmp_path):
    with pytest.raises(ValueError, match="script=True"):
        run_mtrun("--version", cwd=tmp_path, in_process=True, script=True)


BLOCKING = """
    import sys
    from pathlib import Path
    from threaded_order import dmark

    @dmark()
    def test_waits():
        Path("started.txt").write_text("started")
        sys.__stderr__.write("WAITING for a line\\n")
        sys.__stderr__.flush()
        assert sys.stdin.readline() == "go on\\n"
"""


def test_spawn_waits_for_a_file_and_a_line_then_releases_the_task(tmp_path, spawn):
    write(tmp_path, "test_blocking_mod.py", BLOCKING)
    run = spawn("test_blocking_mod.py", cwd=tmp_path, env=QUIET)
    assert run.wait_for_file(tmp_path / "started.txt") == "started"
    assert run.wait_for("WAITING") == "WAITING for a line\n"
    with pytest.raises(AssertionError, match=r"(?s)no 'never said' on mtrun's stdout "
                                             r"before 0\.1s.*--- stderr.*WAITING for a line"):
        run.wait_for("never said", "stdout", timeout=0.1)
    with pytest.raises(ValueError, match="new_session"):
        run.send_signal(signal.SIGINT, group=True)
    run.send_line("go on")
    result = run.finish()
    result.assert_outcomes(passed=1)
    with pytest.raises(AssertionError, match="before it ended"):
        run.wait_for("WAITING")  # each wait reads on from the last line found


def test_a_run_that_hangs_is_killed_and_fails_the_test(tmp_path, spawn):
    write(tmp_path, "test_blocking_mod.py", BLOCKING)
    run = spawn("test_blocking_mod.py", cwd=tmp_path, env=QUIET, new_session=True)
    run.wait_for("WAITING")
    with pytest.raises(MtrunHung, match=r"(?s)still running after 0\.2s.*WAITING") as hung:
        run.finish(timeout=0.2)
    assert isinstance(hung.value, AssertionError)
    assert isinstance(hung.value, subprocess.TimeoutExpired)
    assert run.proc.poll() == -signal.SIGKILL


@posix_only
def test_a_process_left_holding_the_output_fails_the_run(tmp_path, spawn):
    """mtrun ended, but what it started still writes to its stdout: not a clean end."""
    write(tmp_path, "test_leaves_mod.py", """
        import subprocess
        from pathlib import Path
        from threaded_order import dmark

        @dmark()
        def test_leaves_a_process():
            child = subprocess.Popen(["sleep", "60"])
            Path("child.pid").write_text(str(child.pid))
    """)
    run = spawn("test_leaves_mod.py", "-s", cwd=tmp_path, env=QUIET, stdin=False)
    leftover = int(run.wait_for_file(tmp_path / "child.pid"))
    try:
        assert run.proc.wait(TIMEOUT) == 0
        with pytest.raises(AssertionError, match="exited 0 but its output stayed open"):
            run.finish(timeout=0.2)
    finally:
        os.kill(leftover, signal.SIGKILL)


@posix_only
def test_tty_puts_the_output_on_a_terminal_of_the_given_size(tmp_path):
    write(tmp_path, "test_tty_mod.py", """
        import os, sys
        from threaded_order import dmark

        @dmark()
        def test_on_a_terminal():
            size = os.get_terminal_size(sys.__stdout__.fileno())
            print(f"TTY={sys.__stdout__.isatty()} {size.columns}x{size.lines}")
    """)
    with spawn_mtrun("test_tty_mod.py", "-s", cwd=tmp_path, env={**QUIET, "COLUMNS": None},
                     stdin=False, tty=True, tty_size=(30, 100)) as run:
        result = run.finish()
    assert result.ret == 0, result.stdout
    assert "TTY=True 100x30\r\n" in result.stdout and result.stderr == ""
    assert "\x1b[" in result.stdout  # mtrun colours a terminal
    result.assert_outcomes(passed=1)
