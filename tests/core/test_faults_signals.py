"""Real signals and forks against the library in a subprocess: it always ends, with a summary
that accounts for every task."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ._support import TIMEOUT

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals and fork")

STORM_SCRIPT = """
import json, signal, sys, time
from threaded_order import Scheduler

seen = []
signal.signal(signal.SIGINT, lambda *a: seen.append("outside"))  # before and after start()
s = Scheduler(workers=4)
for i in range(int(sys.argv[1])):
    after = [f"t{i - 1}"] if i % 5 else []
    s.register((lambda: time.sleep(0.001)) if i % 10 == 0 else (lambda: None), f"t{i}",
               after=after)
s.on_scheduler_start(lambda meta: print("ready", flush=True))
s.on_task_done(lambda name, ok: None)  # the scheduler thread has events to handle
try:
    summary = s.start()
except BaseException as exc:
    print("ESCAPED", type(exc).__name__, flush=True)
    sys.exit(7)
counts = {k: len(summary[k]) for k in ("passed", "failed", "skipped", "cancelled")}
print("SUMMARY", json.dumps({"counts": counts, "interrupted": summary["interrupted"]}),
      flush=True)
sys.stdin.read()  # until the storm is over: a signal during shutdown would kill us
signal.signal(signal.SIGINT, signal.SIG_IGN)
"""


@posix_only
def test_ctrl_c_storms_never_hang_start_and_lose_no_task(tmp_path):
    """2-4 SIGINTs a few ms apart at random points of a run. Before, about 1 run in 60
    hung for ever: the KeyboardInterrupt landed in the scheduler's own bookkeeping."""
    seed = int(os.environ.get("FAULT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    script = tmp_path / "storm.py"
    script.write_text(textwrap.dedent(STORM_SCRIPT))
    tasks = 1500
    for trial in range(60):
        proc = subprocess.Popen([sys.executable, str(script), str(tasks)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready", f"seed {seed}"
            time.sleep(rng.uniform(0, 0.03))  # where the storm lands, not a synchronisation
            for _ in range(rng.randint(2, 4)):
                proc.send_signal(signal.SIGINT)
                time.sleep(rng.uniform(0, 0.005))
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"start() hung after a Ctrl-C storm (trial {trial}, seed {seed})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, f"seed {seed}, trial {trial}: {out}{err}"
        summary = json.loads(out.split("SUMMARY ", 1)[1])
        assert sum(summary["counts"].values()) == tasks, f"seed {seed}: {summary}"


END_SCRIPT = """
import json, signal
from threaded_order import Scheduler, _engine as engine

real = engine.Run.events_until_end

def then_ctrl_c(run, *args):
    real(run, *args)  # the end event has just been taken off the queue
    signal.raise_signal(signal.SIGINT)

engine.Run.events_until_end = then_ctrl_c
s = Scheduler(workers=2)
s.register(lambda: None, "a")
s.on_task_done(lambda name, ok: None)
summary = s.start()
print(json.dumps({"passed": summary["passed"], "interrupted": summary["interrupted"]}))
"""


@posix_only
def test_a_ctrl_c_right_after_the_end_event_is_taken_does_not_hang(tmp_path):
    """Before, the KeyboardInterrupt made the scheduler wait for an end event it had
    already taken: a hang that only SIGKILL ended."""
    script = tmp_path / "end.py"
    script.write_text(textwrap.dedent(END_SCRIPT))
    try:
        done = subprocess.run([sys.executable, str(script)], timeout=TIMEOUT,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail("start() hung on a Ctrl-C that came right after its end event")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"passed": ["a"], "interrupted": True}


FORK_SCRIPT = """
import json, os
from threaded_order import Scheduler

def forks(fail):
    def body():
        pid = os.fork()
        if pid == 0:  # the child comes back into the engine
            if fail:
                raise ValueError("child failed")
            return "child"
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return body

s = Scheduler(workers=3)
s.register(forks(False), "returns")
s.register(forks(True), "raises")
s.register(forks(False), "returns_with_timeout", timeout=600)  # far above TIMEOUT
s.register(lambda: "after", "after", after=["returns", "raises"])
summary = s.start()
print(json.dumps({"results": s.state["results"], "passed": sorted(summary["passed"])}))
"""


@posix_only
def test_a_forked_child_that_returns_into_the_engine_ends_at_once(tmp_path):
    script = tmp_path / "forks.py"
    script.write_text(textwrap.dedent(FORK_SCRIPT))
    try:
        done = subprocess.run([sys.executable, "-W", "ignore", str(script)], timeout=TIMEOUT,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail("a task that forks hung the run")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["results"] == {"returns": 0, "raises": 1, "returns_with_timeout": 0,
                                 "after": "after"}
    assert report["passed"] == ["after", "raises", "returns", "returns_with_timeout"]
