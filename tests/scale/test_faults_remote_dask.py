"""Faults on a real dask.distributed LocalCluster: hostile return values and exceptions, a
timeout that counts from the body's start, a timed-out body ended (our local cluster) or
left running with its group slot held (a cluster of yours), the right task blamed when a
worker dies, and one-line errors for a bad address and for Ctrl-C while the cluster starts.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time

import pytest

from threaded_order import Scheduler
from threaded_order_cli.testing import TIMEOUT, run_mtrun, spawn_mtrun

from . import tasks
from ._support import check_hostile, start

DaskExecutor = pytest.importorskip("threaded_order_dask").DaskExecutor

DASK = ("-p", "threaded_order_dask.plugin", "--color", "no")


@pytest.fixture(scope="module")
def two_workers():
    executor = DaskExecutor.local(2)
    yield executor
    executor.shutdown(wait=False)


@pytest.fixture(scope="module")
def one_worker():
    """For tests where a second task must wait on the same worker as the first."""
    executor = DaskExecutor.local(1)
    yield executor
    executor.shutdown(wait=False)


def test_hostile_results_and_exceptions_fail_only_their_task(two_workers):
    s = Scheduler(workers=2, executor=two_workers)
    for name in ("returns_unpicklable", "returns_worse", "raises_unprintable",
                 "raises_no_repr"):
        s.register(getattr(tasks, name), name)
    s.register(tasks.one, "still_runs", after=["raises_unprintable", "raises_no_repr"])
    records = start(s)["tasks"]
    check_hostile(records)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_by_a_body_never_answers_for_it(two_workers):
    s = Scheduler(workers=2, executor=two_workers)
    s.register(tasks.forks, "forks")
    s.register(tasks.forks, "forks_timed", timeout=30)
    s.register(tasks.one, "after", after=["forks", "forks_timed"])
    summary = start(s)
    assert sorted(summary["passed"]) == ["after", "forks", "forks_timed"], summary["failures"]
    assert s.state["results"]["forks"] == "parent; the child ended with 0"
    assert s.state["results"]["forks_timed"] == "parent; the child ended with 0"


def test_a_task_waiting_behind_a_timed_out_body_gets_its_full_time(one_worker):
    """One worker: 'queued' waits there while 'stuck' runs. The stuck body is ended at its
    timeout (its worker is killed); 'queued', which never started, is not blamed for that,
    and its own timeout starts only when it does."""
    s = Scheduler(workers=2, executor=one_worker)
    s.register(tasks.hangs, "stuck", timeout=0.5)
    s.register(tasks.one, "queued", timeout=5)
    records = start(s)["tasks"]
    assert records["stuck"].error == ("task 'stuck' timed out after 0.5s (its worker was "
                                      "ended to stop it)")
    assert records["queued"].ok, records["queued"].error
    one_worker.client.wait_for_workers(1, timeout=TIMEOUT)


def test_an_innocent_task_is_not_blamed_when_another_kills_the_worker(one_worker):
    """'innocent' waits on the worker that 'crash' kills: it is sent again, not failed."""
    s = Scheduler(workers=2, executor=one_worker)
    s.register(tasks.crashes_once_innocent_waits, "crash")
    s.register(tasks.one, "innocent")
    records = start(s)["tasks"]
    assert records["crash"].error_type == "KilledWorker"
    assert "crash-" in records["crash"].error
    assert records["innocent"].ok, records["innocent"].error
    one_worker.client.wait_for_workers(1, timeout=TIMEOUT)


def test_a_timed_out_body_on_a_cluster_of_yours_runs_on_and_holds_its_group(two_workers,
                                                                            tmp_path):
    """Not our cluster: the body is left to finish. The task is not retried while it runs,
    and the next task of its group starts only once the body has ended."""
    cluster = two_workers.cluster
    executor = DaskExecutor.connect(cluster.scheduler_address, security=cluster.security)
    release = tmp_path / "release"
    try:
        s = Scheduler(workers=3, executor=executor, state={"dir": str(tmp_path)},
                      limits={"db": 1})
        s.on_task_done(lambda name, ok: release.write_text("") if name == "stuck" else None)
        s.register(tasks.blocks_until_released, "stuck", group="db", timeout=0.5, retries=2,
                   with_state=True)
        s.register(tasks.runs_until_second_started, "keeps_the_run_going", with_state=True)
        s.register(tasks.second_in_group, "second", group="db", with_state=True)
        records = start(s)["tasks"]
    finally:
        release.write_text("")
        executor.shutdown(wait=False)
    stuck = records["stuck"]
    assert (stuck.error_type, stuck.attempts) == ("TimeoutError", 1)
    assert stuck.error == ("task 'stuck' timed out after 0.5s (its body is left to finish "
                           "where it runs); not retried: its timed-out body is still running, "
                           "and a task never runs twice at once")
    assert records["second"].ok, records["second"].error
    assert records["keeps_the_run_going"].ok


HANGS = """
    import time
    from threaded_order import dmark

    @dmark(timeout=0.5)
    def test_hangs():
        time.sleep(300)
""" + "".join(f"""
    @dmark(after="test_hangs")
    def test_after_{i}():
        pass
""" for i in range(6))


def test_mtrun_goes_on_after_a_body_that_blocks_past_its_timeout(tmp_path):
    (tmp_path / "test_hangs.py").write_text(textwrap.dedent(HANGS))
    result = run_mtrun("test_hangs.py", "--executor", "dask", "--workers", "2", *DASK,
                       cwd=tmp_path, autoload=False)
    result.assert_outcomes(passed=6, failed=1)
    assert "FAILED test_hangs - TimeoutError: task 'test_hangs' timed out after 0.5s" \
        in result.stdout


def test_a_bad_address_is_one_line_at_once(tmp_path):
    (tmp_path / "test_one.py").write_text("from threaded_order import dmark\n"
                                          "@dmark()\ndef test_a():\n    pass\n")
    result = run_mtrun("test_one.py", "--executor", "dask=not a url", *DASK, cwd=tmp_path,
                       autoload=False, timeout=15)  # well below Dask's connect timeout
    assert result.ret == 4, result
    assert result.stderr.splitlines() == [
        "mtrun: error: --executor dask=not a url: could not start: ValueError: missing port "
        "number in address 'not a url'"]


def spawned_children(pid: int) -> int:
    """How many processes started by multiprocessing's spawn ``pid`` has."""
    count = 0
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                count += parent == pid and b"spawn_main" in f.read()
        except (OSError, ValueError, IndexError):
            pass
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_the_local_cluster_starts_is_one_line(tmp_path):
    """The terminal's Ctrl-C reaches the worker processes too, while they import."""
    (tmp_path / "test_one.py").write_text("from threaded_order import dmark\n"
                                          "@dmark()\ndef test_a():\n    pass\n")
    with spawn_mtrun("test_one.py", "--executor", "dask", *DASK, cwd=tmp_path,
                     autoload=False, stdin=False, new_session=True) as run:
        deadline = time.monotonic() + TIMEOUT
        while not spawned_children(run.pid):  # the cluster is starting its workers
            assert time.monotonic() < deadline and run.proc.poll() is None, run.finish()
            time.sleep(0.005)
        run.send_signal(signal.SIGINT, group=True)
        result = run.finish()
    assert result.ret == 2, result
    assert len(result.stderr.splitlines()) == 1 and "interrupted" in result.stderr, result
