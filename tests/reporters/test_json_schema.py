"""The json report against its published schema, in real mtrun runs of every kind, and what
it says of each task: the stable id, where the task is defined, where a failure happened
(``crash``), and the run's id."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest

from threaded_order import Scheduler
from threaded_order_cli.testing import MtrunProcess, run_mtrun
from threaded_order_json import SCHEMA_VERSION, JSONReporter

from ._support import ENV, describe, mtrun, write_sample

PUBLISHED = Path(__file__).resolve().parents[2] / "schemas" / "mtrun-json-report-1.schema.json"
RUN_ID = re.compile(r"^[0-9a-f]{32}$")

# Every outcome, with markers on the lines a report must point at: "at:NAME" where NAME's
# definition starts (its first decorator, as pytest counts it), "crash:NAME" where it fails.
OUTCOMES = '''\
from helpers import explode
from threaded_order import dmark, skip, xfail


@dmark()  # at:test_passes
def test_passes():
    pass


@dmark()  # at:test_asserts
def test_asserts():
    x = 1
    assert x == 2  # crash:test_asserts


def raise_here():
    raise ValueError("deep in this file")  # crash:test_raises_in_a_helper


@dmark()  # at:test_raises_in_a_helper
def test_raises_in_a_helper():
    raise_here()


@dmark()  # at:test_fails_in_another_module
def test_fails_in_another_module():
    explode()  # crash:test_fails_in_another_module


@dmark()  # at:test_skips
def test_skips():
    skip("not here")


@dmark()  # at:test_xfails
def test_xfails():
    xfail("bug 7")


@dmark(after="test_asserts")  # at:test_after_a_failure
def test_after_a_failure():
    pass
'''
HELPERS = '''\
def explode():
    raise KeyError("from the helpers module")
'''
STATUS = {"test_passes": "passed", "test_asserts": "failed",
          "test_raises_in_a_helper": "failed", "test_fails_in_another_module": "failed",
          "test_skips": "skipped", "test_xfails": "xfailed", "test_after_a_failure": "skipped"}


def published() -> dict[str, Any]:
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(published()).validate(document)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    validate(document)
    return document


def line_of(text: str, marker: str) -> int:
    """The 1-based line of ``text`` that ends with ``# marker``."""
    (line,) = [n for n, s in enumerate(text.splitlines(), 1) if s.endswith(f"# {marker}")]
    return line


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"].rsplit("::", 1)[-1]: t for t in document["tasks"]}


def test_the_published_schema_is_the_one_the_package_ships() -> None:
    shipped = resources.files("threaded_order_json").joinpath("schema.json").read_bytes()
    assert PUBLISHED.read_bytes() == shipped
    schema = published()
    jsonschema.Draft202012Validator.check_schema(schema)
    # Its $id names where it is published, and the file its version.
    assert schema["$id"].startswith("https://") and schema["$id"].endswith(
        f"/schemas/{PUBLISHED.name}")
    assert PUBLISHED.name == f"mtrun-json-report-{SCHEMA_VERSION}.schema.json"
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_every_outcome_says_where_the_task_is_and_where_it_failed(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_outcomes.py", OUTCOMES)
    write_sample(tmp_path, "helpers.py", HELPERS)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "record_run_id.py").write_text(
        "def threaded_order_cli_configure(config):\n"
        "    open('run_id.txt', 'w').write(config.run_id)\n", encoding="utf-8")
    done = run_mtrun("--skip-deps", "-p", "record_run_id", "--reporter", "json",
                     "test_outcomes.py", cwd=tmp_path, env=ENV, pythonpath=tmp_path / "plugins")
    assert done.ret == 1, describe(done)
    document = load(tmp_path / "report.json")
    assert document["run_id"] == (tmp_path / "run_id.txt").read_text(encoding="utf-8")
    tasks = by_name(document)
    assert {name: t["status"] for name, t in tasks.items()} == STATUS
    for name, task in tasks.items():
        assert task["id"] == f"test_outcomes.py::{name}"
        assert (task["path"], task["line"]) == ("test_outcomes.py", line_of(OUTCOMES, f"at:{name}"))
        if task["status"] != "failed":
            assert task["crash"] is None, name
            continue
        crash = task["crash"]
        assert (crash["path"], crash["line"]) == ("test_outcomes.py",
                                                  line_of(OUTCOMES, f"crash:{name}")), name
    crashes = {name: tasks[name]["crash"]["message"] for name in tasks if tasks[name]["crash"]}
    assert crashes == {"test_asserts": "AssertionError: assert 1 == 2",
                       "test_raises_in_a_helper": "ValueError: deep in this file",
                       "test_fails_in_another_module": "KeyError: 'from the helpers module'"}


def test_each_run_has_its_own_run_id(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_one.py", "from threaded_order import dmark\n\n"
                                          "@dmark()\ndef test_one():\n    pass\n")
    ids = []
    for dest in ("first.json", "second.json"):
        done = mtrun("--reporter", f"json={dest}", "test_one.py", cwd=tmp_path)
        assert done.ret == 0, describe(done)
        ids.append(load(tmp_path / dest)["run_id"])
    assert all(RUN_ID.match(i) for i in ids) and ids[0] != ids[1]


CRASHES = '''\
import os

from threaded_order import dmark


@dmark()  # at:test_dies
def test_dies():
    os._exit(3)


@dmark()  # at:test_raises
def test_raises():
    print(os.getpid())
    raise RuntimeError("sent back")  # crash:test_raises
'''


def test_worker_processes_and_a_worker_that_dies(
        tmp_path: Path, spawn: Callable[..., MtrunProcess]) -> None:
    """The traceback comes back from the worker process as text; one that died has no frame
    in the test file at all, and its crash points at the task instead of the stdlib."""
    write_sample(tmp_path, "test_crashes.py", CRASHES)
    run = spawn("--executor", "processes", "--workers", "2", "--reporter", "json",
                "test_crashes.py", cwd=tmp_path, env=ENV, stdin=False)
    done = run.finish()
    assert done.ret == 1, describe(done)
    tasks = by_name(load(tmp_path / "report.json"))
    raises, dies = tasks["test_raises"], tasks["test_dies"]
    assert int(raises["stdout"]) != run.pid  # it ran in a worker process, not in mtrun
    assert raises["crash"] == {"path": "test_crashes.py",
                               "line": line_of(CRASHES, "crash:test_raises"),
                               "message": "RuntimeError: sent back"}
    assert dies["status"] == "failed" and dies["crash"]["message"].startswith("WorkerDied: ")
    assert (dies["crash"]["path"], dies["crash"]["line"]) == (
        "test_crashes.py", line_of(CRASHES, "at:test_dies"))


def test_a_collection_error_report_validates(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_bad.py", "x = 1\ndef broken(:\n")
    done = mtrun("--reporter", "json", "test_bad.py", cwd=tmp_path)
    assert done.ret == 2, describe(done)
    document = load(tmp_path / "report.json")
    assert RUN_ID.match(document["run_id"]) and document["tasks"] == []
    assert [(e["path"], e["line"]) for e in document["collection_errors"]] == [("test_bad.py", 2)]


BLOCKING = '''\
import sys

from threaded_order import dmark


@dmark()  # at:test_block
def test_block():
    sys.__stderr__.write("MARK test_block\\n")
    sys.__stderr__.flush()
    sys.stdin.readline()


@dmark(after="test_block")  # at:test_never
def test_never():
    pass
'''


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_an_interrupted_run_report_validates(
        tmp_path: Path, spawn: Callable[..., MtrunProcess]) -> None:
    write_sample(tmp_path, "test_block.py", BLOCKING)
    start = functools.partial(spawn, cwd=tmp_path, env=ENV)
    run = start("--reporter", "json", "test_block.py")
    run.wait_for("MARK test_block")
    run.send_signal(signal.SIGTERM)  # as a cancelled CI job: the running task is cancelled
    done = run.finish()
    assert done.ret == 2, describe(done)
    document = load(tmp_path / "report.json")
    assert document["exitcode"] == 2 and document["summary"]["interrupted"] is True
    tasks = by_name(document)
    assert (tasks["test_never"]["status"], tasks["test_never"]["crash"]) == ("cancelled", None)
    assert tasks["test_never"]["line"] == line_of(BLOCKING, "at:test_never")
    block = tasks["test_block"]
    assert block["status"] == "failed" and block["crash"]["path"] == "test_block.py"


def test_ids_and_paths_do_not_depend_on_the_targets(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mtrun]\n", encoding="utf-8")
    write_sample(tmp_path, "sub/deeper/test_deep.py", OUTCOMES)
    write_sample(tmp_path, "sub/deeper/helpers.py", HELPERS)
    runs = [("sub", "deeper/test_deep.py"), ("sub/deeper", "."), (".", "sub")]
    seen = []
    for n, (cwd, target) in enumerate(runs):
        report = tmp_path / f"report{n}.json"
        done = mtrun("--reporter", f"json={report}", target, cwd=tmp_path / cwd,
                     env={"PYTHONPATH": str(tmp_path / "sub" / "deeper")})
        assert done.ret == 1, describe(done)
        seen.append(sorted((t["id"], t["path"], t["line"]) for t in load(report)["tasks"]))
    assert seen[0] == seen[1] == seen[2]
    assert ("sub/deeper/test_deep.py::test_passes", "sub/deeper/test_deep.py",
            line_of(OUTCOMES, "at:test_passes")) in seen[0]


def test_a_plain_scheduler_reports_lines_relative_to_where_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_sample(tmp_path, "tasks_module.py", OUTCOMES.replace(
        "from helpers import explode\n", "explode = None\n"))
    spec = importlib.util.spec_from_file_location("tasks_module", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.chdir(tmp_path)
    s = Scheduler(workers=1, plugins=[JSONReporter("run.json")])
    s.register(module.test_asserts, "asserts")
    s.register(print, "builtin")  # no source: path and line are null
    s.start()
    tasks = {t["name"]: t for t in load(tmp_path / "run.json")["tasks"]}
    asserts = tasks["asserts"]
    assert (asserts["id"], asserts["path"], asserts["line"]) == (
        "asserts", "tasks_module.py", line_of(OUTCOMES, "at:test_asserts"))
    assert (asserts["crash"]["path"], asserts["crash"]["line"]) == (
        "tasks_module.py", line_of(OUTCOMES, "crash:test_asserts"))
    assert (tasks["builtin"]["path"], tasks["builtin"]["line"]) == (None, None)
