"""The built-in terminal reporter is a plugin driven by hooks only: blocked, it prints
nothing; other plugins take the terminal through a hook; reporters get the final summary
and exit code once, at the end; --debug-plugins shows every hook call."""

from __future__ import annotations

import json

from ._support import counts, mtrun, write

TWO_TASKS = """
    from threaded_order import dmark

    @dmark()
    def test_ok():
        pass

    @dmark(after="test_ok")
    def test_bad():
        raise AssertionError("bad")
"""
JSON = ("-p", "threaded_order_json.plugin", "--reporter", "json=report.json")


def test_blocking_the_terminal_reporter_silences_it_and_keeps_the_exit_code(tmp_path):
    """Before: only the dots went; the header and the whole report were still printed."""
    write(tmp_path, "test_two.py", TWO_TASKS)
    result = mtrun("test_two.py", "-p", "no:terminalreporter", *JSON, cwd=tmp_path)
    assert result.ret == 1, result.stderr
    assert result.stdout == "" and result.stderr == ""
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["exitcode"] == 1 and document["summary"]["failed"] == 1


def test_blocking_it_keeps_errors_and_the_interrupted_line_on_stderr(tmp_path):
    write(tmp_path, "test_two.py", TWO_TASKS)
    write(tmp_path, "plugins/raising.py", """
        def threaded_order_task_done(name):
            raise ValueError(name)
    """)
    result = mtrun("test_two.py", "-p", "no:terminalreporter", "-p", "raising", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert result.ret == 1 and result.stdout == ""
    assert [line.split(": ", 1)[1] for line in result.stderr.splitlines()] == [
        "plugin 'raising' failed in threaded_order_task_done: ValueError: test_ok",
        "plugin 'raising' failed in threaded_order_task_done: ValueError: test_bad"]


CLAIMS = """
    def threaded_order_cli_claims_terminal(config):
        return config.getoption("claim") == "yes"

    def threaded_order_cli_addoption(add_option):
        add_option("--claim", default="no")
"""


def test_a_plugin_that_claims_the_terminal_turns_the_progress_characters_off(tmp_path):
    write(tmp_path, "test_two.py", TWO_TASKS)
    write(tmp_path, "plugins/claims.py", CLAIMS)
    write(tmp_path, "plugins/claims_broken.py", """
        def threaded_order_cli_claims_terminal():
            raise RuntimeError("cannot tell")
    """)
    args = ("test_two.py", "-p", "claims", "-p", "claims_broken")
    shown = mtrun(*args, cwd=tmp_path, pythonpath=tmp_path / "plugins")
    claimed = mtrun(*args, "--claim=yes", cwd=tmp_path, pythonpath=tmp_path / "plugins")
    for result in (shown, claimed):
        assert result.ret == 1, result.stderr  # the broken claim: one line, the run goes on
        assert "failed in threaded_order_cli_claims_terminal: RuntimeError: cannot tell" \
            in result.stderr
        assert "collected 2 tasks" in result.stdout and counts(result) == (1, 1, 0)
    assert ".F [100%]" in shown.stdout.splitlines()
    assert not [line for line in claimed.stdout.splitlines() if line.endswith("[100%]")]


FINAL = """
    from pathlib import Path

    def threaded_order_cli_report_summary(summary):
        Path("seen.txt").write_text(f"report exists: {Path('report.json').exists()}")
        raise KeyError("late error")

    def threaded_order_cli_unconfigure(summary, exitcode):
        with open("seen.txt", "a") as out:
            out.write(f"; {exitcode} {summary['plugin_errors']!r}")
"""


def test_reporters_get_the_final_summary_and_write_once_at_the_end(tmp_path):
    """Before: the json report was written when the run ended, then again at the end once a
    later error had changed the summary and the exit code."""
    write(tmp_path, "test_one.py", """
        from threaded_order import dmark

        @dmark()
        def test_one():
            pass
    """)
    write(tmp_path, "plugins/final.py", FINAL)
    result = mtrun("test_one.py", "-p", "final", *JSON, cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert result.ret == 3, result.stderr
    late = "plugin 'final' failed in threaded_order_cli_report_summary: KeyError: 'late error'"
    assert (tmp_path / "seen.txt").read_text() == f"report exists: False; 3 [{late!r}]"
    assert f"ERROR {late}" in result.stdout.splitlines()
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["exitcode"] == 3 and document["plugin_errors"] == [late]


def test_run_start_sees_the_collected_run(tmp_path):
    write(tmp_path, "test_two.py", """
        from threaded_order import dmark, tag

        @dmark()
        def test_ok():
            pass

        @tag("x")
        @dmark()
        def test_bad():
            raise AssertionError("bad")
    """)
    write(tmp_path, "plugins/starts.py", """
        def threaded_order_cli_run_start(config):
            names = [t.name for t in config.tasks]
            print(f"run_start: {names} {config.deselected} {config.workers}")
    """)
    result = mtrun("test_two.py", "-p", "starts", "--tags", "x", "--workers", "3", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert result.ret == 1, result.stderr
    assert "run_start: ['test_bad'] 1 3" in result.stdout.splitlines()
    assert "collected 2 tasks / 1 deselected / 1 selected" in result.stdout.splitlines()


def test_debug_plugins_prints_every_hook_call(tmp_path):
    write(tmp_path, "test_two.py", TWO_TASKS)
    result = mtrun("test_two.py", "--debug-plugins", *JSON, cwd=tmp_path)
    assert result.ret == 1, result.stderr
    calls = [line.strip().split(" ")[0] for line in result.stderr.splitlines()
             if line.endswith(" [hook]") and not line.strip().startswith("finish ")]
    for hook in ("cli_addoption", "cli_reporters", "cli_make_reporter", "cli_configure",
                 "cli_run_start", "cli_claims_terminal", "cli_report_header", "scheduler_start",
                 "task_start", "task_run", "task_done", "scheduler_done", "cli_report_summary",
                 "cli_unconfigure"):
        assert f"threaded_order_{hook}" in calls, (hook, result.stderr)
    assert calls.count("threaded_order_task_done") == 2
    # The firstresult hook went through pluggy, which traced it with its result.
    assert any(line.strip().startswith("finish threaded_order_cli_make_reporter --> "
                                       "<threaded_order_json.reporter.JSONReporter")
               for line in result.stderr.splitlines()), result.stderr
    assert counts(result) == (1, 1, 0)
    plain = mtrun("test_two.py", cwd=tmp_path)
    assert "[hook]" not in plain.stderr
    assert "--debug-plugins" in mtrun("--help", cwd=tmp_path).stdout
