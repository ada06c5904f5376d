"""Random hostile test suites for mtrun, made from a seed, and what each task should do."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

HEADER = '''
import os, sys, threading, time
from threaded_order import dmark

READY = os.environ.get("FAULTS_READY")


class Unprintable(Exception):
    def __str__(self):
        raise SystemExit(9)

    __repr__ = __str__


def ready():
    """Tell the test that tasks are running: it fires its signals after this."""
    if READY:
        with open(READY, "a") as f:
            f.write("ready\\n")


@dmark()
def test_gate():
    ready()
'''

# kind -> (body, policy keywords, expected status when nothing interrupts the run)
KINDS = {
    "ok": ("pass", "", "passed"),
    "prints": ("print('out', flush=True); sys.stdout.buffer.write(b'raw\\n')", "", "passed"),
    "fails": ("assert 1 == 2, 'no'", "", "failed"),
    "unprintable": ("raise Unprintable()", "", "failed"),
    "exits": ("sys.exit(3)", "", "failed"),
    "slow": ("time.sleep(0.01)", "", "passed"),
    "flaky": ("raise ValueError('always')", "retries=1", "failed"),
    # Fails when it gets the slot; waits behind another stuck body (never started) if not.
    "stuck_in_group": ("threading.Event().wait(3)", "timeout=0.05, group='db', retries=2",
                       None),
    "grouped": ("time.sleep(0.005)", "group='db'", None),  # may wait behind a stuck body
    "forks": ("pid = os.fork()\n    if pid == 0:\n        return 'child'\n"
              "    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0", "", "passed"),
}
WEIGHTS = {"ok": 30, "prints": 5, "fails": 5, "unprintable": 3, "exits": 2, "slow": 10,
           "flaky": 3, "stuck_in_group": 2, "grouped": 4, "forks": 1}


def make_suite(rng: random.Random, folder: Path, tasks: int, *,
               forks: bool = True) -> dict[str, object]:
    """Write ``test_generated.py`` into ``folder``; return each task's expected status
    (None: depends on timing, such as a task that waits for a group slot)."""
    kinds = [k for k in WEIGHTS if forks or k != "forks"]
    weights = [WEIGHTS[k] for k in kinds]
    source = [textwrap.dedent(HEADER)]
    expected: dict[str, object] = {"test_gate": "passed"}
    names: list[str] = []
    for i in range(tasks):
        kind = rng.choices(kinds, weights)[0]
        body, policy, status = KINDS[kind]
        name = f"test_{i:03d}_{kind}"
        after = []
        if names and rng.random() < 0.3:
            after.append(rng.choice(names[-10:]))
        args = ", ".join(a for a in (f"after={after!r}" if after else "", policy) if a)
        source.append(f"\n@dmark({args})\ndef {name}():\n    {body}\n")
        depends_on_failure = any(expected.get(a) != "passed" for a in after)
        expected[name] = None if depends_on_failure else status
        names.append(name)
    source.append("\n\ndef setup_state(state):\n    pass\n")
    (folder / "test_generated.py").write_text("".join(source), encoding="utf-8")
    return expected
