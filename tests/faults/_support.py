"""Helpers for the fault-injection suite: random hostile test suites for mtrun made from a
seed (and what each task should do), a run of one, and the four promises every run keeps:
it ends; the exit code is 0 only when every task passed; every task is accounted for in
every report; each report is complete and valid, or absent."""

from __future__ import annotations

import json
import os
import random
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import jsonschema
import xmlschema

from threaded_order_cli.testing import MtrunProcess, spawn_mtrun

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


def trials(default: int) -> int:
    return max(1, int(default * float(os.environ.get("FAULTS_TRIALS", "1"))))


def suites(tmp_path: Path, rng: random.Random, runs: int, tasks: tuple[int, int], *,
           forks: bool = True) -> Iterator[tuple[Path, dict[str, object]]]:
    """``trials(runs)`` folders, each with a new random suite of ``tasks`` (fewest, most)
    tasks: the folder and what each task should do."""
    for trial in range(trials(runs)):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        yield folder, make_suite(rng, folder, rng.randint(*tasks), forks=forks)


DATA = Path(__file__).resolve().parent.parent / "reporters" / "data"
XSD = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
STATUSES = {"passed", "failed", "skipped", "cancelled"}


def json_schema() -> dict:
    from importlib.resources import files

    return json.loads(files("threaded_order_json").joinpath("schema.json").read_text())


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    junit: Optional[Path]
    report: Optional[Path]
    notes: list[str] = field(default_factory=list)


def run_suite(folder: Path, *args: str, fire: Optional[Callable[[MtrunProcess], None]] = None,
              preexec: Optional[Callable[[], None]] = None, seed: int = 0) -> Outcome:
    """mtrun on the suite in ``folder`` with the junit and json reporters; ``fire`` acts on
    the running mtrun once the suite's gate task has run (it has written the ready file)."""
    ready = folder / "ready"
    junit, report = folder / "junit.xml", folder / "report.json"
    for path in (ready, junit, report):
        path.unlink(missing_ok=True)
    with spawn_mtrun("test_generated.py", "--workers", "4", "--limit", "db=1", "--reporter",
                     f"junit={junit}", "--reporter", f"json={report}", *args, cwd=folder,
                     env={"FAULTS_READY": str(ready), "COLUMNS": "80"}, autoload=True,
                     stdin=False, new_session=True, preexec_fn=preexec) as run:
        try:
            if fire is not None:
                run.wait_for_file(ready)
                fire(run)
            result = run.finish()
        except AssertionError as exc:  # hung, or never ready: the seed replays it
            raise AssertionError(f"seed {seed}: {exc}") from None
    return Outcome(result.ret, result.stdout, result.stderr, junit if junit.exists() else None,
                   report if report.exists() else None)


def check(outcome: Outcome, expected: dict[str, object], seed: int, *,
          fired: bool = False, reports_required: bool = True) -> None:
    """The four invariants. ``expected`` maps each task to its status in an undisturbed
    run (None: it depends on timing); with ``fired`` (signals were sent) statuses may
    differ, but the run must still end, account for everything and say it was stopped."""
    where = f"seed {seed}, exit {outcome.returncode}\n--- stdout\n{outcome.stdout[-4000:]}" \
            f"\n--- stderr\n{outcome.stderr[-4000:]}"
    assert outcome.returncode >= 0, f"killed by signal {-outcome.returncode}: {where}"
    assert "Traceback (most recent call last)" not in outcome.stderr, where
    if reports_required:
        assert outcome.report is not None and outcome.junit is not None, f"no report: {where}"
    statuses: Optional[dict[str, str]] = None
    if outcome.report is not None:
        data = json.loads(outcome.report.read_text())
        jsonschema.validate(data, json_schema())
        assert data["exitcode"] == outcome.returncode, where
        names = [t["name"] for t in data["tasks"]]
        assert sorted(names) == sorted(expected), f"tasks not accounted for: {where}"
        statuses = {t["name"]: t["status"] for t in data["tasks"]}
        for task in data["tasks"]:
            assert task["status"] in STATUSES
            if task["status"] == "failed":
                assert task["error"]["type"], where
            elif task["status"] != "passed":
                assert task["skip_reason"], f"{task['name']} has no reason: {where}"
        if data["summary"]["interrupted"]:
            assert fired and outcome.returncode == 2, where
    if outcome.junit is not None:
        text = outcome.junit.read_text()
        XSD.validate(text)
        cases = ET.fromstring(text).findall(".//testcase")
        assert len(cases) == len(expected), f"junit has {len(cases)} cases: {where}"
    if statuses is None:
        assert outcome.returncode != 0, f"exit 0 without a report: {where}"
        return
    all_passed = all(s == "passed" for s in statuses.values())
    assert (outcome.returncode == 0) == all_passed, where
    if not fired:
        for name, status in expected.items():
            if status is not None:
                assert statuses[name] == status, f"{name}: {statuses[name]} != {status}: {where}"
