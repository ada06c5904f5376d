"""``sys.exit()`` where mtrun calls user code, the state setup_state sees, and values the
core refuses: each is one line and an honest exit code, never a false green."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._support import assert_error, counts, mtrun, write

ONE_TASK = """
    from threaded_order import dmark

    @dmark()
    def test_one():
        pass
"""


@pytest.mark.parametrize("code", ["0", "9", "None", "'bye'"])
def test_sys_exit_in_setup_state_is_a_one_line_error(tmp_path: Path, code: str) -> None:
    write(tmp_path, "test_exit.py", f"""
        import sys
        from pathlib import Path
        from threaded_order import dmark

        def setup_state(state):
            sys.exit({code})

        @dmark()
        def test_one():
            Path("ran").touch()
    """)
    result = mtrun("test_exit.py", cwd=tmp_path)
    assert_error(result, 4, "test_exit.py: setup_state() failed: sys.exit(")
    assert not (tmp_path / "ran").exists()


def test_sys_exit_in_setup_logging_is_a_one_line_error(tmp_path: Path) -> None:
    write(tmp_path, "test_exit.py", ONE_TASK + """
    def setup_logging(workers, verbose):
        raise SystemExit(0)
    """)
    assert_error(mtrun("test_exit.py", "--log", cwd=tmp_path), 4,
                 "setup_logging() failed: sys.exit(0) was called")


def test_sys_exit_while_importing_a_p_plugin_is_a_one_line_error(tmp_path: Path) -> None:
    write(tmp_path, "test_one.py", ONE_TASK)
    write(tmp_path, "plugins/leaving.py", "import sys\nsys.exit(0)\n")
    result = mtrun("test_one.py", "-p", "leaving", cwd=tmp_path, pythonpath=tmp_path / "plugins")
    assert_error(result, 4, "-p leaving: cannot load plugin: sys.exit(0) was called")


@pytest.mark.parametrize("kind", ["reporter", "executor"])
def test_sys_exit_while_making_a_reporter_or_executor_is_a_one_line_error(
        tmp_path: Path, kind: str) -> None:
    write(tmp_path, "test_one.py", ONE_TASK)
    write(tmp_path, f"plugins/odd_{kind}.py", f"""
        import sys

        def threaded_order_cli_{kind}s():
            return {{"odd": "exits when made"}}

        def threaded_order_cli_make_{kind}(name):
            sys.exit(7)
    """)
    result = mtrun("test_one.py", "-p", f"odd_{kind}", f"--{kind}", "odd", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert_error(result, 4, f"--{kind} odd: could not start: sys.exit(7) was called")


def test_a_hook_raising_system_exit_does_not_end_mtrun_with_its_code(tmp_path: Path) -> None:
    """The run goes on; the hook's failure is one line and the exit code is not 0 (nor 9)."""
    write(tmp_path, "test_one.py", ONE_TASK)
    write(tmp_path, "plugins/exiting_hook.py", """
        def threaded_order_task_done():
            raise SystemExit(9)
    """)
    result = mtrun("test_one.py", "-p", "exiting_hook", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert result.ret == 3, result.stdout + result.stderr
    assert counts(result) == (1, 0, 0)
    (line,) = result.stderr.splitlines()
    assert "failed in threaded_order_task_done: SystemExit: 9" in line


def test_a_failing_plugin_hook_makes_a_clean_run_exit_3(tmp_path: Path) -> None:
    """Every task passed, but a plugin failed: not green. Its multi-line message is one
    line on stderr."""
    write(tmp_path, "test_one.py", ONE_TASK)
    write(tmp_path, "plugins/broken_summary.py", """
        def threaded_order_cli_report_summary():
            raise RuntimeError("first line\\nsecond line")
    """)
    result = mtrun("test_one.py", "-p", "broken_summary", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert result.ret == 3, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith("RuntimeError: first line second line"), line
    assert counts(result) == (1, 0, 0)


SHOW = """
    import json
    from threaded_order import dmark

    def setup_state(state):
        print("SETUP " + json.dumps(state, sort_keys=True))
        {extra}

    @dmark(with_state=True)
    def test_show(state):
        print("RESULTS " + json.dumps(state["results"], sort_keys=True))
"""


def lines(stdout: str, prefix: str) -> dict:
    return json.loads(next(x for x in stdout.splitlines() if x.startswith(prefix))[len(prefix):])


def test_setup_state_sees_only_the_users_values_and_state_file_results_are_kept(
        tmp_path: Path) -> None:
    write(tmp_path, "test_show.py", SHOW.format(extra="pass"))
    (tmp_path / "state.json").write_text(json.dumps({"env": "file", "results": {"a": 1}}))
    result = mtrun("test_show.py", "-s", "--state-file", "state.json", "--user=me",
                   "--result-b=2", cwd=tmp_path)
    assert result.ret == 0, result.stdout + result.stderr
    assert lines(result.stdout, "SETUP ") == {"env": "file", "results": {"a": 1}, "user": "me"}
    assert lines(result.stdout, "RESULTS ") == {"a": 1, "b": "2"}


def test_setup_state_may_replace_the_results(tmp_path: Path) -> None:
    write(tmp_path, "test_show.py", SHOW.format(extra='state["results"] = {"seed": 3}'))
    result = mtrun("test_show.py", "-s", "--result-b=2", cwd=tmp_path)
    assert result.ret == 0, result.stdout + result.stderr
    assert lines(result.stdout, "SETUP ") == {}
    assert lines(result.stdout, "RESULTS ") == {"b": "2", "seed": 3}


def test_setup_state_leaving_results_that_are_not_a_dict_is_a_usage_error(
        tmp_path: Path) -> None:
    write(tmp_path, "test_show.py", SHOW.format(extra='state["results"] = None'))
    assert_error(mtrun("test_show.py", cwd=tmp_path), 4,
                 "state['results'] must be a dict", "setup_state() left a NoneType")


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-inf"])
def test_timeouts_the_core_refuses_are_one_line_usage_errors(tmp_path: Path,
                                                             value: str) -> None:
    write(tmp_path, "test_one.py", ONE_TASK)
    line = assert_error(mtrun("test_one.py", "--timeout", value, cwd=tmp_path), 4, "--timeout")
    assert "internal error" not in line


def test_a_task_timeout_the_core_refuses_is_a_one_line_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "test_inf.py", """
        from threaded_order import dmark

        @dmark(timeout=float("inf"))
        def test_forever():
            pass
    """)
    line = assert_error(mtrun("test_inf.py", cwd=tmp_path), 2, "timeout")
    assert "internal error" not in line
