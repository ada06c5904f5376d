"""Faults under ``--executor processes`` and ``Scheduler(executor=ProcessPoolExecutor(...))``:
hostile return values and exceptions, timeouts that count from the body's start and end the
body's process, a crash blamed on the one task that did it, processes started only as
needed, and no process that outlives mtrun. Handshakes are files in the test's folder."""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from threaded_order import NotPicklableError, Scheduler
from threaded_order_cli.process_pool import ProcessExecutor
from threaded_order_cli.testing import TIMEOUT, run_mtrun, spawn_mtrun

from . import tasks
from ._support import alive, check_hostile, start, write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc; the fork server is Linux's")

PROCESSES = ("--executor", "processes", "--color", "no")

# Shared by the test modules below: whether a process runs (a zombie does not).
ALIVE = """
    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
        except OSError:
            return False
"""


HOSTILE = """
    from threaded_order import dmark

    class ReduceExits:
        def __reduce__(self):
            raise SystemExit(3)

    class Unprintable(Exception):
        def __str__(self):
            raise SystemExit("from __str__")

    class NoRepr(Exception):
        def __str__(self):
            raise ValueError("str")

        def __repr__(self):
            raise ValueError("repr")

    class ReduceRaisesUnprintable:
        def __reduce__(self):
            raise Unprintable()

    @dmark()
    def test_returns_unpicklable():
        return ReduceExits()

    @dmark()
    def test_returns_worse():
        return ReduceRaisesUnprintable()

    @dmark()
    def test_raises_unprintable():
        raise Unprintable()

    @dmark()
    def test_raises_no_repr():
        raise NoRepr()

    @dmark(after=["test_returns_unpicklable", "test_returns_worse",
                  "test_raises_unprintable", "test_raises_no_repr"])
    def test_still_runs():
        pass
"""

HOSTILE_LINES = [
    "FAILED test_returns_unpicklable - TypeError: the return value of task "
    "'test_returns_unpicklable' cannot be pickled to send it back: SystemExit: 3",
    "FAILED test_returns_worse - TypeError: the return value of task 'test_returns_worse' "
    "cannot be pickled to send it back: Unprintable: <unprintable Unprintable>",
    "FAILED test_raises_unprintable - Unprintable: <unprintable Unprintable>",
    "FAILED test_raises_no_repr - NoRepr: <unprintable NoRepr>",
]


def test_hostile_results_and_exceptions_fail_only_their_task(tmp_path):
    write(tmp_path, "test_hostile.py", HOSTILE)
    result = run_mtrun("test_hostile.py", *PROCESSES, "--workers", "2", cwd=tmp_path,
                       autoload=False)
    result.assert_outcomes(passed=1, failed=4)
    for line in HOSTILE_LINES:
        assert line in result.stdout, result.stdout


def test_hostile_objects_in_a_process_pool_of_yours():
    pool = ProcessPoolExecutor(2)
    try:
        s = Scheduler(workers=2, executor=pool)
        for name in ("returns_unpicklable", "returns_worse", "raises_unprintable",
                     "raises_no_repr"):
            s.register(getattr(tasks, name), name)
        s.register(tasks.one, "still_runs")
        records = start(s)["tasks"]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    check_hostile(records)


def test_a_hostile_task_or_state_value_is_named_before_the_run():
    """Pickling them raises SystemExit, or an exception that cannot be printed."""
    pool = ProcessPoolExecutor(1)  # never started: the checks come first
    try:
        s = Scheduler(executor=pool, state={"bad": tasks.ReduceExits()})
        s.register(tasks.returns_state, "uses_state", with_state=True)
        with pytest.raises(NotPicklableError,
                           match=r"^state\['bad'\] cannot be pickled .*\(SystemExit: 3\)"):
            s.start()
        s = Scheduler(executor=pool)
        s.register(functools.partial(tasks.fails, tasks.ReduceRaisesUnprintable()), "holds")
        with pytest.raises(NotPicklableError, match=r"^task 'holds' cannot be pickled for the "
                           r"executor \(Unprintable: <unprintable Unprintable>\)"):
            s.start()
    finally:
        pool.shutdown()


QUEUED = ALIVE + """
    import os
    import time
    from pathlib import Path

    from threaded_order import dmark

    @dmark(timeout=0.5)
    def test_stuck():
        Path("stuck.pid").write_text(str(os.getpid()))
        time.sleep(60)

    @dmark(timeout=5)
    def test_next():
        assert not alive(int(Path("stuck.pid").read_text())), "the timed-out body runs on"
"""


def test_a_timed_out_body_is_ended_and_the_next_task_gets_its_full_time(tmp_path):
    """One worker: the next task must not wait behind the stuck body, nor have its clock
    started while it waits."""
    write(tmp_path, "test_queued.py", QUEUED)
    result = run_mtrun("test_queued.py", *PROCESSES, "--workers", "1", cwd=tmp_path,
                       autoload=False)
    result.assert_outcomes(passed=1, failed=1)
    assert ("FAILED test_stuck - TimeoutError: task 'test_stuck' timed out after 0.5s (its "
            "worker process was ended)") in result.stdout


COPIES = ALIVE + """
    import os
    import time
    from pathlib import Path

    from threaded_order import dmark

    def body(name):
        # Fails when another body of group db still runs as this one starts.
        log = Path("bodies.log")
        seen = log.read_text().split() if log.exists() else []
        running = [p for n, p in zip(seen[::2], seen[1::2])
                   if n != "free" and int(p) != os.getpid() and alive(int(p))]
        with log.open("a") as f:
            f.write(f"{name} {os.getpid()}\\n")
        assert not running, f"bodies still running: {running}"
        time.sleep(60)

    @dmark(timeout=0.3, retries=2, group="db")
    def test_retried():
        body("retried")

    @dmark(timeout=0.3, group="db")
    def test_other():
        body("other")

    @dmark(timeout=0.3)
    def test_free():  # not in the group: runs beside the others
        with Path("bodies.log").open("a") as f:
            f.write(f"free {os.getpid()}\\n")
        time.sleep(60)
"""


def test_retries_and_group_limits_never_run_two_bodies_at_once(tmp_path):
    """A timed-out body is ended before its retry, or its group's next task, starts."""
    write(tmp_path, "test_copies.py", COPIES)
    result = run_mtrun("test_copies.py", *PROCESSES, "--workers", "3", "--limit", "db=1",
                       cwd=tmp_path, autoload=False)
    result.assert_outcomes(failed=3)
    assert "bodies still running" not in result.stdout, result.stdout
    log = (tmp_path / "bodies.log").read_text().split()[::2]
    assert sorted(log) == ["free", "other", "retried", "retried", "retried"], log


GROWTH = """
    import os
    import time
    from pathlib import Path

    from threaded_order import dmark

    def processes():
        '''The worker processes: the children of this one's parent.'''
        parent, count = os.getppid(), 0
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    count += int(f.read().rsplit(")", 1)[1].split()[1]) == parent
            except (OSError, ValueError, IndexError):
                pass
        return count

    @dmark()
    def test_1():
        assert processes() == 1, processes()

    @dmark(after="test_1")
    def test_2():
        assert processes() == 1, processes()

    def pair(mine, other):
        Path(mine).write_text("")
        deadline = time.monotonic() + 20
        while not Path(other).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert processes() == 2, processes()

    @dmark(after="test_2")
    def test_pair_a():
        pair("a", "b")

    @dmark(after="test_2")
    def test_pair_b():
        pair("b", "a")
"""


def test_processes_start_as_tasks_need_them(tmp_path):
    """--workers 8, but a chain needs one process and a pair two."""
    write(tmp_path, "test_growth.py", GROWTH)
    result = run_mtrun("test_growth.py", *PROCESSES, "--workers", "8", cwd=tmp_path,
                       autoload=False)
    result.assert_outcomes(passed=4)
    assert "executor: processes (up to 8 worker processes)" in result.stdout


CRASH = ALIVE + """
    import os
    import time
    from pathlib import Path

    from threaded_order import dmark

    def wait_for(check):
        deadline = time.monotonic() + 20
        while not check() and time.monotonic() < deadline:
            time.sleep(0.01)

    @dmark()
    def test_crashes():
        wait_for(Path("innocent.started").exists)
        Path("crash.tmp").write_text(str(os.getpid()))
        os.replace("crash.tmp", "crash.pid")
        os._exit(13)

    @dmark()
    def test_innocent():
        Path("innocent.started").write_text("")
        wait_for(Path("crash.pid").exists)
        crashed = int(Path("crash.pid").read_text())
        wait_for(lambda: not alive(crashed))
"""


def test_a_crash_fails_only_the_task_that_crashed(tmp_path):
    write(tmp_path, "test_crash.py", CRASH)
    result = run_mtrun("test_crash.py", *PROCESSES, "--workers", "2", cwd=tmp_path,
                       autoload=False)
    result.assert_outcomes(passed=1, failed=1)
    assert "FAILED test_crashes - WorkerDied: worker process " in result.stdout
    assert "died while running this task" in result.stdout


FORKS = """
    import os
    from threaded_order import dmark

    def forks(outcome):
        pid = os.fork()
        if pid == 0:
            if outcome == "raise":
                raise ValueError("from the child")
            return "child"
        _, status = os.waitpid(pid, 0)
        return f"parent; the child ended with {os.waitstatus_to_exitcode(status)}"

    @dmark()
    def test_child_returns():
        return forks("return")

    @dmark(timeout=30)
    def test_child_raises_timed():
        return forks("raise")

    @dmark(after=["test_child_returns", "test_child_raises_timed"], with_state=True)
    def test_results(state):
        assert state["results"] == {
            "test_child_returns": "parent; the child ended with 0",
            "test_child_raises_timed": "parent; the child ended with 1"}, state["results"]
"""


def test_a_child_forked_by_a_body_never_answers_for_it(tmp_path):
    """The child comes back out of the body into the worker: it ends there, at once."""
    write(tmp_path, "test_forks.py", FORKS)
    result = run_mtrun("test_forks.py", *PROCESSES, "--workers", "2", cwd=tmp_path,
                       autoload=False)
    result.assert_outcomes(passed=3)


def test_spawned_workers_elsewhere_than_linux(tmp_path):
    """The pool without a fork server, as on macOS and Windows: spawned processes."""
    pool = ProcessExecutor(2, fork=False)
    try:
        s = Scheduler(workers=2, executor=pool)
        s.register(tasks.pid, "plain")
        s.register(tasks.hangs, "hangs", timeout=0.3)
        s.register(tasks.crashes, "crashes")
        s.register(tasks.pid, "after", after=["hangs", "crashes"])
        records = start(s)["tasks"]
    finally:
        pool.shutdown()
    assert records["plain"].ok and records["after"].ok
    assert records["hangs"].error == ("task 'hangs' timed out after 0.3s (its worker process "
                                      "was ended)")
    assert records["crashes"].error_type == "WorkerDied"


def test_a_timed_out_body_in_a_process_pool_of_yours_is_ended(tmp_path):
    """A ProcessPoolExecutor cannot lose one process: the pool goes, a new one takes over."""
    pool = ProcessPoolExecutor(2)
    try:
        s = Scheduler(workers=2, executor=pool, state={"dir": str(tmp_path)})
        s.register(tasks.writes_pid_and_hangs, "hangs", timeout=0.5, with_state=True)
        s.register(tasks.pid, "after", after="hangs")
        records = start(s)["tasks"]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert records["hangs"].error.startswith("task 'hangs' timed out after 0.5s (its process "
                                             "was ended, and with it the pool")
    assert records["after"].ok
    assert not alive(int((tmp_path / "hangs.pid").read_text()))


BLOCKING = """
    import os
    import time
    from pathlib import Path

    from threaded_order import dmark

    @dmark()
    def test_a():
        Path("a.pid").write_text(str(os.getpid()))
        time.sleep(60)

    @dmark()
    def test_b():
        Path("b.pid").write_text(str(os.getpid()))
        time.sleep(60)
"""


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_mtrun(tmp_path, signum):
    """Stopped mid-run, mtrun leaves no process behind to keep its stdout open: reading it
    ends."""
    write(tmp_path, "test_blocking.py", BLOCKING)
    with spawn_mtrun("test_blocking.py", *PROCESSES, "--workers", "2", cwd=tmp_path,
                     autoload=False, stdin=False) as run:
        pids = {int(run.wait_for_file(tmp_path / f"{n}.pid")) for n in "ab"}
        workers = descendants(run.pid)
        assert pids <= workers
        run.send_signal(signum)
        run.finish()  # EOF on stdout and stderr too: no process holds them
    deadline = time.monotonic() + TIMEOUT
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [pid for pid in workers if alive(pid)]
