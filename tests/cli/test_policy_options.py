"""mtrun's policy options (--retries, --timeout, --limit) and async tasks, run for real."""

from __future__ import annotations

import textwrap

from threaded_order_cli.testing import run_mtrun

QUIET = {"THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD": "1"}


def write(tmp_path, body):
    path = tmp_path / "test_policies_mod.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_retries_timeout_and_async_from_the_command_line(tmp_path):
    path = write(tmp_path, """
        import asyncio, threading
        from threaded_order import dmark

        calls = []
        never = threading.Event()

        @dmark()
        def test_flaky():
            calls.append(1)
            assert len(calls) > 1, "first try fails"

        @dmark()
        def test_hangs():
            never.wait()

        @dmark(after=["test_hangs"])
        def test_after_hang():
            pass

        @dmark()
        async def test_async():
            await asyncio.sleep(0)
    """)
    result = run_mtrun(path, "--retries", "1", "--timeout", "0.2", "--skip-deps", cwd=tmp_path,
                       env=QUIET)
    assert result.ret == 1, result.stderr
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    assert "FAILED test_hangs - TimeoutError: task 'test_hangs' timed out after 0.2s" \
        in result.stdout
    assert "FLAKY test_flaky - passed on attempt 2" in result.stdout
    assert "never.wait()" in result.stdout  # where the hung task was


def test_limit_keeps_a_group_exclusive(tmp_path):
    path = write(tmp_path, """
        import threading
        from threaded_order import dmark

        lock = threading.Lock()
        active = [0]

        def enter_and_leave():
            with lock:
                active[0] += 1
                assert active[0] <= 2, f"{active[0]} tasks of group db at once"
            with lock:
                active[0] -= 1

        @dmark(group="db")
        def test_a(): enter_and_leave()

        @dmark(group="db")
        def test_b(): enter_and_leave()

        @dmark(group="db")
        def test_c(): enter_and_leave()
    """)
    result = run_mtrun(path, "--workers", "3", "--limit", "db=2", cwd=tmp_path, env=QUIET)
    assert result.ret == 0, result.stdout + result.stderr
    result.assert_outcomes(passed=3)


def test_bad_policy_options_are_usage_errors(tmp_path):
    path = write(tmp_path, """
        from threaded_order import dmark

        @dmark()
        def test_ok(): pass
    """)
    for args, words in ((["--limit", "db"], "--limit 'db'"), (["--limit", "db=0"], "GROUP=N"),
                        (["--timeout", "0"], "--timeout"), (["--retries", "-1"], "--retries")):
        result = run_mtrun(path, *args, cwd=tmp_path, env=QUIET)
        assert result.ret == 4, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_bad_policy_in_dmark_is_one_line_error(tmp_path):
    path = write(tmp_path, """
        from threaded_order import dmark

        @dmark(timeout=-1)
        def test_bad(): pass
    """)
    result = run_mtrun(path, cwd=tmp_path, env=QUIET)
    assert result.ret == 2  # an error in collection
    assert "mtrun: error:" in result.stderr
    assert "timeout must be a finite number of seconds > 0" in result.stderr
    assert "Traceback" not in result.stderr
