"""Task bodies on a real dask.distributed LocalCluster (worker processes on 127.0.0.1): the
Scheduler API and ``mtrun --executor dask[=ADDRESS]`` with every reporter. One cluster for
the module; only the last test starts another, through mtrun itself."""

from __future__ import annotations

import json
import os
import re
import signal
import textwrap
import xml.etree.ElementTree as ET

import pytest

from threaded_order import Scheduler
from threaded_order_cli.testing import TIMEOUT, run_mtrun, spawn_mtrun

from . import tasks

DaskExecutor = pytest.importorskip("threaded_order_dask").DaskExecutor

# mtrun with the reporters' entry points loaded, drawing the progress bar off a terminal.
ENV = {"FORCE_COLOR": "1", "COLUMNS": "120", "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD": "",
       "THREADED_ORDER_STRICT_PLUGINS": ""}


@pytest.fixture(scope="module")
def dask_executor():
    # mtrun connects to it by address alone: no TLS (with cryptography installed, the local
    # cluster would use TLS with a certificate only this process has)
    executor = DaskExecutor.local(2, security=None)
    yield executor
    executor.shutdown(wait=False)


@pytest.fixture
def address(dask_executor):
    return dask_executor.cluster.scheduler_address


def test_order_results_and_state_snapshot(dask_executor):
    state = {"base": 10}
    s = Scheduler(workers=2, executor=dask_executor, state=state)
    events = []
    s.on_task_start(lambda name: events.append(("start", name)))
    s.on_task_done(lambda name, ok: events.append(("done", name)))
    s.register(tasks.a, "a")
    s.register(tasks.b, "b")
    s.register(tasks.add_upstream, "c", after=["a", "b"], with_state=True)
    s.register(tasks.pid, "d", after="c")
    summary = s.start()
    assert summary["ran"][-2:] == ["c", "d"], summary["failures"]
    assert events.index(("done", "c")) < events.index(("start", "d"))
    assert state["results"]["c"] == {"seen": ["a", "b"], "total": 13, "lock": "RLock"}
    assert state["base"] == 10 and state["results"]["a"] == 1 and "extra" not in state
    assert state["results"]["d"] != os.getpid()


def test_failures_skip_dependents_with_the_remote_traceback(dask_executor):
    s = Scheduler(workers=2, executor=dask_executor, skip_dependents=True, capture=True)
    s.register(tasks.fails, "fails")
    s.register(tasks.one, "after_failure", after="fails")
    s.register(tasks.one, "later", after="after_failure")
    s.register(tasks.exits, "exits")
    s.register(tasks.prints, "prints")
    summary = s.start()
    records = summary["tasks"]
    assert sorted(summary["skipped"]) == ["after_failure", "later"]
    assert records["later"].skip_reason == "dependency 'fails' failed"
    assert (records["fails"].error_type, records["fails"].error) == \
        ("AssertionError", "expected 42, got 41")
    assert "tasks.py" in records["fails"].traceback
    assert records["exits"].error_type == "SystemExit"
    assert records["prints"].stdout.startswith("to stdout from ")
    assert "a log record" in records["prints"].log


SIBLING = """
    def double(x):
        return 2 * x
"""

MODULE = """
    import threading

    from helper_for_dask import double
    from threaded_order import dmark, tag

    LOCK = threading.Lock()


    @dmark()
    @tag("fast")
    def test_ok():
        with LOCK:
            print("out from ok")
        return double(21)


    @dmark(after=["test_ok"], with_state=True)
    def test_uses_result(state):
        assert state["results"]["test_ok"] == 42


    @dmark()
    def test_fails():
        value = double(1)
        assert value == 3, "double(1) is not 3"


    @dmark(after=["test_fails"])
    def test_after_failure():
        pass
"""


def test_mtrun_on_a_running_cluster_with_every_reporter(tmp_path, address):
    """The test file and its sibling live only in tmp_path: workers get them as source."""
    (tmp_path / "helper_for_dask.py").write_text(textwrap.dedent(SIBLING))
    (tmp_path / "test_on_dask.py").write_text(textwrap.dedent(MODULE))
    result = run_mtrun(
        "test_on_dask.py", f"--executor=dask={address}", "--skip-deps", "--color", "no",
        "--reporter", "junit=junit.xml", "--reporter", "json=report.json",
        "--reporter", "structlog=events.jsonl", "--reporter", "progress",
        cwd=tmp_path, env=ENV)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    out = result.stdout
    assert f"executor: dask ({address}: 2 workers, 2 threads)" in out
    assert re.search(r'File ".*test_on_dask\.py", line \d+, in test_fails\n'
                     r"\s+assert value == 3", out), out
    assert "FAILED test_fails - AssertionError: double(1) is not 3" in out
    # junit
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert sorted(cases) == ["test_after_failure", "test_fails", "test_ok", "test_uses_result"]
    assert cases["test_fails"].find("failure") is not None
    assert cases["test_after_failure"].find("skipped") is not None
    # json
    report = json.loads((tmp_path / "report.json").read_text())
    text = json.dumps(report)
    assert "double(1) is not 3" in text and "out from ok" in text
    # structlog: one JSON object per line, an event for each task
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert {"test_ok", "test_fails", "test_after_failure"} <= \
        {str(x.get("task")).rsplit("::", 1)[-1] for x in lines}  # node ids: path.py::name
    # progress: the final bar
    assert "4/4 100%" in result.stderr, result.stderr


def test_a_long_lived_worker_never_runs_stale_test_code(tmp_path, address):
    path = tmp_path / "test_versions.py"
    body = "from threaded_order import dmark\nVERSION = 0\n" + "".join(
        f"@dmark()\ndef test_{i}():\n    raise AssertionError(f'version {{VERSION}}')\n"
        for i in range(6))
    for version in (1, 2):
        path.write_text(body.replace("VERSION = 0", f"VERSION = {version}"))
        result = run_mtrun(path, "-p", "threaded_order_dask.plugin",
                           f"--executor=dask={address}", cwd=tmp_path, in_process=True,
                           autoload=False)
        assert result.outcomes() == {"passed": 0, "failed": 6, "skipped": 0}, result
        assert result.stdout.count(f" - AssertionError: version {version}\n") == 6, \
            result.stdout


def test_a_task_that_kills_its_worker_fails_and_the_run_completes(dask_executor):
    s = Scheduler(workers=2, executor=dask_executor)
    s.register(tasks.one, "before")
    s.register(tasks.crashes, "crash", after="before")
    s.register(tasks.one, "after_1", after="crash")
    s.register(tasks.one, "after_2", after="crash")
    summary = s.start()
    crash = summary["tasks"]["crash"]
    assert crash.error_type == "KilledWorker", crash.error
    assert "crash-" in crash.error  # the Dask key carries the task's name
    assert sorted(summary["passed"]) == ["after_1", "after_2", "before"]
    dask_executor.client.wait_for_workers(2, timeout=TIMEOUT)  # the nanny restarts it


CTRL_C = """
    import time
    from pathlib import Path
    from threaded_order import dmark

    @dmark(timeout=0.5)
    def test_hangs():
        time.sleep(300)  # abandoned on a worker once timed out

    @dmark(after=["test_hangs"])
    def test_slow():
        Path({started!r}).write_text("running")  # so test_hangs has timed out
        time.sleep(300)  # running when Ctrl-C comes, twice

    @dmark(after=["test_slow"])
    def test_never():
        pass
"""


def test_mtrun_own_local_cluster_and_ctrl_c_twice(tmp_path):
    """mtrun starts a cluster; Ctrl-C in a terminal reaches the whole process group, worker
    processes included: the first only stops new starts (the workers must survive it), the
    second stops waiting, and mtrun exits at once without waiting for the bodies."""
    started = tmp_path / "slow.started"
    (tmp_path / "test_own.py").write_text(textwrap.dedent(CTRL_C).format(started=str(started)))
    with spawn_mtrun("test_own.py", "--executor", "dask", "--workers", "2", "--color", "no",
                     "-p", "no:hello", cwd=tmp_path, autoload=True,
                     env={"THREADED_ORDER_STRICT_PLUGINS": None}, stdin=False,
                     new_session=True) as run:
        run.wait_for_file(started)
        run.send_signal(signal.SIGINT, group=True)
        run.wait_for("waiting for 1 running task(s) to finish (test_slow)")
        run.send_signal(signal.SIGINT, group=True)
        result = run.finish()  # long before the bodies' sleep(300) ends, or it fails
    out, err = result.stdout, result.stderr
    assert re.search(r"executor: dask \(local cluster (tcp|tls)://127\.0\.0\.1:\d+, 2 worker "
                     r"processes\)", out), out
    assert result.ret == 2, (out, err)
    assert "FAILED test_slow - CancelledError: cancelled by interrupt while running" in out
    assert "FAILED test_hangs - TimeoutError: task 'test_hangs' timed out after 0.5s" in out
    assert "1 task(s) never started: test_never" in out
    assert "KilledWorker" not in out and "Traceback" not in err, (out, err)
    assert "already in use" not in err  # the module's cluster holds no fixed port either
