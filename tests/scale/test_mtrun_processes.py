"""``mtrun --executor processes`` for real, and the --executor usage errors."""

from __future__ import annotations

import re
import textwrap
import time

from threaded_order_cli.testing import run_mtrun

MODULE = """
    import os
    import threading
    import time

    from threaded_order import dmark

    LOCK = threading.Lock()  # module-level objects never need to pickle


    def setup_state(state):
        state["mtrun_pid"] = os.getpid()


    @dmark(with_state=True)
    def test_first(state):
        with LOCK:
            assert os.getpid() != state["mtrun_pid"]
        return os.getpid()


    @dmark(after=["test_first"], with_state=True)
    def test_uses_result(state):
        assert state["results"]["test_first"] > 0


    @dmark(after=["test_first"])
    def test_fails():
        print("output of the failing task")
        assert 1 + 1 == 3


    @dmark(after=["test_uses_result", "test_fails"])
    def test_crash():
        os._exit(3)


    @dmark(after=["test_crash"])
    def test_after_crash():
        pass


    @dmark(after=["test_crash"], timeout=0.5)
    def test_hangs():
        time.sleep(60)
"""


def test_processes_run_the_bodies_and_report_as_threads_do(tmp_path):
    path = tmp_path / "test_in_processes.py"
    path.write_text(textwrap.dedent(MODULE))
    started = time.monotonic()
    result = run_mtrun(path, "--executor", "processes", "--workers", "2", cwd=tmp_path,
                       autoload=False)
    assert time.monotonic() - started < 30  # the abandoned body does not hold mtrun up
    result.assert_outcomes(passed=3, failed=3)
    assert result.ret == 1
    out = result.stdout
    assert "executor: processes (up to 2 worker processes)" in out
    # The remote traceback names the real file and shows the line.
    assert re.search(r'File ".*test_in_processes\.py", line \d+, in test_fails\n'
                     r"\s+assert 1 \+ 1 == 3", out), out
    assert "output of the failing task" in out
    assert "FAILED test_crash - WorkerDied: worker process " in out
    assert "FAILED test_hangs - TimeoutError: task 'test_hangs' timed out after 0.5s" in out


def test_mtrun_does_not_wait_for_a_timed_out_body_in_its_pool(tmp_path):
    path = tmp_path / "test_hang_in_pool.py"
    path.write_text("import time\nfrom threaded_order import dmark\n"
                    "@dmark(timeout=0.3)\ndef test_hangs():\n    time.sleep(60)\n")
    started = time.monotonic()
    result = run_mtrun(path, "--executor", "processes", cwd=tmp_path, autoload=False)
    assert time.monotonic() - started < 20  # the pool's processes are ended, not joined
    result.assert_outcomes(failed=1)


def test_an_unpicklable_state_value_is_a_one_line_usage_error(tmp_path):
    path = tmp_path / "test_unpicklable_state.py"
    path.write_text(textwrap.dedent("""
        import threading
        from threaded_order import dmark

        def setup_state(state):
            state["conn"] = threading.Lock()

        @dmark(with_state=True)
        def test_uses_state(state):
            pass
    """))
    result = run_mtrun(path, "--executor", "processes", cwd=tmp_path, autoload=False,
                       in_process=True)
    assert result.ret == 4
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("mtrun: error: state['conn'] cannot be pickled")


def test_executor_usage_errors(tmp_path):
    path = tmp_path / "test_tiny.py"
    path.write_text("from threaded_order import dmark\n@dmark()\ndef test_a(): pass\n")

    def error(*args: str) -> str:
        result = run_mtrun(path, *args, cwd=tmp_path, autoload=False, in_process=True)
        assert result.ret == 4, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]

    assert error("--executor", "cloud") == \
        "mtrun: error: --executor cloud: unknown executor (available: processes, threads)"
    assert error("--executor", "dask") == ("mtrun: error: --executor dask: needs the "
                                           "threaded-order-dask package (pip install "
                                           "threaded-order-dask)")
    assert error("--executor", "processes=tcp://x:1") == \
        "mtrun: error: --executor processes takes no address, got processes=tcp://x:1"
    assert error("--executor=dask=") == \
        "mtrun: error: --executor 'dask=': expected NAME or NAME=ADDRESS"


def test_threads_stay_the_default(tmp_path):
    path = tmp_path / "test_default_threads.py"
    path.write_text("import os\nfrom threaded_order import dmark\n"
                    "@dmark()\ndef test_a():\n    return os.getpid()\n")
    result = run_mtrun(path, cwd=tmp_path, autoload=False, in_process=True)
    assert result.ret == 0 and "executor:" not in result.stdout


OUTCOMES = """
    import threaded_order
    from threaded_order import dmark

    RUNS = []


    @dmark(retries=2)
    def test_skips_inside():
        RUNS.append(1)
        threaded_order.skip("no database here")


    @dmark(xfail="known bug")
    def test_known_bug():
        assert 1 == 2


    @dmark(xfail="fixed?")
    def test_fixed():
        pass


    @dmark(after=["test_skips_inside"])
    def test_after_skip():
        pass


    @dmark()
    def test_plain():
        pass
"""


def test_outcomes_from_worker_processes_are_outcomes_not_failures(tmp_path):
    """skip() and xfail in a body that runs in another process are recorded as they are
    with threads: not failures, never retried."""
    (tmp_path / "test_outcomes.py").write_text(textwrap.dedent(OUTCOMES))
    threads = run_mtrun("test_outcomes.py", "-rsxX", cwd=tmp_path)
    processes = run_mtrun("test_outcomes.py", "-rsxX", "--executor", "processes",
                          "--workers", "2", cwd=tmp_path)
    for result in (threads, processes):
        assert result.ret == 0, result.stdout + result.stderr
        result.assert_outcomes(passed=1, skipped=2, xfailed=1, xpassed=1)
    assert "no database here" in processes.stdout
    assert "dependency 'test_skips_inside' was skipped" in processes.stdout
