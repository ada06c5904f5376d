"""Run mtrun on a generated suite, maybe under fire, and check the four promises:
it ends; the exit code is 0 only when every task passed; every task is accounted for in
every report; each report is complete and valid, or absent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import jsonschema
import xmlschema

DATA = Path(__file__).resolve().parent.parent / "reporters" / "data"
XSD = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
# How long one mtrun run may take before it counts as hung: generous, runs take < 2 s.
HANG = 60
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


def run_mtrun(folder: Path, *args: str, fire: Optional[Callable[[subprocess.Popen], None]] = None,
              preexec: Optional[Callable[[], None]] = None, seed: int = 0) -> Outcome:
    """mtrun with the junit and json reporters; ``fire`` acts on the running process once
    the suite's gate task has run (it has written the ready file)."""
    ready = folder / "ready"
    ready.unlink(missing_ok=True)
    junit, report = folder / "junit.xml", folder / "report.json"
    for path in (junit, report):
        path.unlink(missing_ok=True)
    env = {**os.environ, "FAULTS_READY": str(ready), "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD": "",
           "COLUMNS": "80"}
    command = [sys.executable, "-m", "threaded_order_cli", "test_generated.py", "--workers", "4",
               "--limit", "db=1", "--reporter", f"junit={junit}", "--reporter",
               f"json={report}", *args]
    proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec, start_new_session=True)
    try:
        if fire is not None:
            deadline = time.monotonic() + HANG
            while not ready.exists() and proc.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.002)  # polling a file the child writes: a handshake, not a race
            fire(proc)
        out, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"seed {seed}: mtrun hung\n{out[-3000:]}\n{err[-3000:]}") from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return Outcome(proc.returncode, out, err, junit if junit.exists() else None,
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
