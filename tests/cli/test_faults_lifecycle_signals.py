"""SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) and a Ctrl-C after the last
task: mtrun still prints the summary, writes every report and exits 2.

Real signals to an mtrun subprocess, timed by handshakes: a task, a module or a plugin hook
writes a marker line to stderr and blocks reading stdin until the test writes a line.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import xmlschema

from threaded_order_cli.testing import MtrunProcess, run_mtrun

from ._support import QUIET, TIMEOUT, counts, write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

XSD = Path(__file__).resolve().parents[1] / "reporters" / "data" / "junit-10.xsd"
# Autoloading is off (QUIET): the two reporters are loaded by name.
REPORTS = ("-p", "threaded_order_junit.plugin", "-p", "threaded_order_json.plugin",
           "--reporter", "junit=junit.xml", "--reporter", "json=report.json")

BLOCKING_TASK = """
    import sys
    from threaded_order import dmark

    @dmark()
    def test_quick():
        pass

    @dmark(after="test_quick")
    def test_block():
        sys.__stderr__.write("MARK test_block\\n")
        sys.__stderr__.flush()
        sys.stdin.readline()

    @dmark(after="test_block")
    def test_never():
        pass
"""
BLOCKING_IMPORT = """
    import sys
    from threaded_order import dmark

    sys.__stderr__.write("MARK import\\n")
    sys.__stderr__.flush()
    sys.stdin.readline()

    @dmark()
    def test_one():
        pass
"""
THREE_TASKS = """
    from threaded_order import dmark

    @dmark()
    def test_a():
        pass

    @dmark()
    def test_b():
        raise AssertionError("b fails")

    @dmark()
    def test_c():
        pass
"""
# A plugin whose HOOK announces itself and then waits for the test.
BLOCKING_HOOK = """
    import sys

    def {hook}():
        sys.__stderr__.write("MARK {hook}\\n")
        sys.__stderr__.flush()
        sys.stdin.readline()
"""


@pytest.fixture
def start(spawn: Callable[..., MtrunProcess], tmp_path: Path) -> Callable[..., MtrunProcess]:
    """mtrun in tmp_path, its plugins/ importable; a line on its stdin releases a blocked
    task, module or hook."""
    return functools.partial(spawn, cwd=tmp_path, env=QUIET, pythonpath=tmp_path / "plugins")


def reports(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The JUnit root (validated against the schema) and the JSON document."""
    junit = folder / "junit.xml"
    xmlschema.XMLSchema(str(XSD)).validate(str(junit))
    import xml.etree.ElementTree as ET

    root = ET.parse(junit).getroot()
    document = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return root, document


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_sigterm_during_the_run_cancels_running_tasks_and_writes_every_report(
        tmp_path: Path, signum: int, start: Callable[..., MtrunProcess]) -> None:
    write(tmp_path, "test_block.py", BLOCKING_TASK)
    run = start("test_block.py", *REPORTS)
    run.wait_for("MARK test_block")
    run.proc.send_signal(signum)  # nothing is written to stdin: the task never ends by itself
    code, out, err = run.finish()
    name = signal.Signals(signum).name
    assert code == 2, out + err
    assert "FAILED test_block - CancelledError" in out
    assert "!!! interrupted: 1 task(s) never started: test_never !!!" in out
    assert counts(out) == (1, 1, 0)
    assert f"mtrun: interrupted by {name}\n" in err and "Traceback" not in err, err
    root, document = reports(tmp_path)
    suite = root.find("testsuite")  # the root has no counts, as pytest writes it
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("3", "1", "0")
    assert document["exitcode"] == 2 and document["summary"]["interrupted"] is True
    assert document["summary"]["total"] == 3 and document["summary"]["cancelled"] == 1


def test_sigterm_before_the_run_is_one_line_and_the_reports_say_so(
        tmp_path: Path, start: Callable[..., MtrunProcess]) -> None:
    write(tmp_path, "test_import.py", BLOCKING_IMPORT)
    run = start("test_import.py", *REPORTS)
    run.wait_for("MARK import")
    run.proc.send_signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == 2, out + err
    assert err.splitlines()[-1] == "mtrun: error: interrupted by SIGTERM", err
    assert "Traceback" not in err
    root, document = reports(tmp_path)
    (error,) = root.iter("error")
    assert "interrupted by SIGTERM" in (error.get("message") or "")
    assert document["exitcode"] == 2 and document["summary"]["interrupted"] is True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
@pytest.mark.parametrize("hook", ["threaded_order_scheduler_done",
                                  "threaded_order_cli_report_summary",
                                  "threaded_order_cli_unconfigure"])
def test_a_signal_while_the_reports_are_written_loses_nothing_and_exits_2(
        tmp_path: Path, hook: str, signum: int, start: Callable[..., MtrunProcess]) -> None:
    """After the last task: the hook runs beside the reporters' own, before the json
    reporter's final write. Every report is complete and says the run was interrupted."""
    write(tmp_path, "test_three.py", THREE_TASKS)
    write(tmp_path, "plugins/blocking_hook.py", BLOCKING_HOOK.format(hook=hook))
    run = start("test_three.py", "-p", "blocking_hook", *REPORTS)
    run.wait_for(f"MARK {hook}")
    run.proc.send_signal(signum)
    run.send_line("go on")
    code, out, err = run.finish()
    assert code == 2, out + err
    assert "Traceback" not in err and "failed in" not in err, err
    root, document = reports(tmp_path)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert document["exitcode"] == 2 and document["summary"]["interrupted"] is True
    assert document["summary"]["total"] == 3
    if hook != "threaded_order_cli_unconfigure":  # the terminal report came before that
        assert counts(out) == (2, 1, 0)


def test_sigterm_with_worker_processes_ends_mtrun_and_its_workers(
        tmp_path: Path, start: Callable[..., MtrunProcess]) -> None:
    """The workers are forked from mtrun with its handlers: they must still die of the
    SIGTERM mtrun sends them when it shuts the pool down, or mtrun waits for them."""
    write(tmp_path, "test_stuck.py", """
        import os
        import threading
        from pathlib import Path
        from threaded_order import dmark

        @dmark()
        def test_stuck():
            Path("worker.pid").write_text(str(os.getpid()))
            threading.Event().wait()
    """)
    run = start("test_stuck.py", "--executor", "processes", "--workers", "1", *REPORTS)
    worker = int(run.wait_for_file(tmp_path / "worker.pid"))
    run.proc.send_signal(signal.SIGTERM)
    code, out, err = run.finish()
    assert code == 2, out + err
    assert "FAILED test_stuck - CancelledError" in out
    _, document = reports(tmp_path)
    assert document["exitcode"] == 2
    waited = 0.0
    while _alive(worker):
        assert waited < TIMEOUT, f"worker {worker} outlived mtrun"
        time.sleep(0.02)
        waited += 0.02


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_signals_held_after_the_run_break_into_a_hook_that_hangs(
        tmp_path: Path, start: Callable[..., MtrunProcess]) -> None:
    """After the run signals wait for the reports, but not for ever: kept up for a couple of
    seconds they break into the stuck hook, and the reports after it are still written."""
    write(tmp_path, "test_three.py", THREE_TASKS)
    write(tmp_path, "plugins/hanging_hook.py", """
        import sys
        import threading

        def threaded_order_cli_unconfigure():
            sys.__stderr__.write("MARK hanging\\n")
            sys.__stderr__.flush()
            threading.Event().wait()
    """)
    run = start("test_three.py", "-p", "hanging_hook", *REPORTS)
    run.wait_for("MARK hanging")
    waited = 0.0
    while run.proc.poll() is None and waited < TIMEOUT:  # a held Ctrl-C, as a CI would
        run.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        waited += 0.1
    code, out, err = run.finish()
    assert code == 2, out + err
    assert "plugin 'hanging_hook' failed in threaded_order_cli_unconfigure" in err
    _, document = reports(tmp_path)
    assert document["exitcode"] == 2 and document["summary"]["interrupted"] is True


def test_an_ignored_sighup_stays_ignored(tmp_path: Path,
                                         start: Callable[..., MtrunProcess]) -> None:
    """Under nohup SIGHUP is ignored on purpose: mtrun must not take it over."""
    write(tmp_path, "test_block.py", BLOCKING_TASK)
    run = start("test_block.py", ignore_signals=(signal.SIGHUP,))
    run.wait_for("MARK test_block")
    run.proc.send_signal(signal.SIGHUP)
    run.send_line("go on")
    code, out, err = run.finish()
    assert code == 0, out + err
    assert counts(out) == (3, 0, 0)


def test_in_process_run_puts_the_previous_handlers_back(tmp_path: Path) -> None:
    write(tmp_path, "test_three.py", THREE_TASKS)
    wanted = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    before = [signal.getsignal(s) for s in wanted]
    result = run_mtrun("test_three.py", cwd=tmp_path, in_process=True, env=QUIET)
    assert result.ret == 1, result.stdout + result.stderr
    assert [signal.getsignal(s) for s in wanted] == before
