"""The json reporter: one document, valid against the JSON Schema the package ships."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from threaded_order import Scheduler
from threaded_order.reporting import ReporterError
from threaded_order_json import SCHEMA_VERSION, JSONReporter, schema

from ._support import SAMPLE_STATUS, describe, mtrun, write_sample

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema()).validate(document)


def test_shipped_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_mtrun_writes_a_valid_report(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "json", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    validate(document)
    assert document["schema_version"] == SCHEMA_VERSION
    assert ISO_UTC.match(document["created"]) and ISO_UTC.match(document["started_at"])
    assert document["exitcode"] == 1
    assert document["summary"] == {"total": 4, "passed": 2, "failed": 1, "skipped": 1,
                                   "cancelled": 0, "xfailed": 0, "xpassed": 0,
                                   "interrupted": False}
    tasks = {t["name"]: t for t in document["tasks"]}
    assert {n: t["status"] for n, t in tasks.items()} == SAMPLE_STATUS
    assert all(t["module"] == "test_sample.py" for t in tasks.values())

    ok = tasks["test_ok"]
    assert ok["thread"].startswith("thread_") and ok["stop"] >= ok["start"]
    assert ok["tags"] == ["fast"] and ok["error"] is None
    assert ok["stdout"] == "out from ok\n" and ok["stderr"] == "err from ok\n"
    assert "log from ok" in ok["log"]
    assert tasks["test_uses_state"]["after"] == ["test_ok"]

    error = tasks["test_fails"]["error"]
    assert error["type"] == "AssertionError"
    assert error["message"] == "expected <failure> & more"
    assert "Traceback" in error["traceback"]

    skipped = tasks["test_after_failure"]
    assert skipped["skip_reason"] == "dependency 'test_fails' failed"
    assert skipped["start"] is None and skipped["thread"] is None


def test_dash_writes_the_document_to_stdout_once(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "json=-", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    start = done.stdout.index('{\n  "schema_version"')
    document = json.loads(done.stdout[start:])  # written last, after the terminal report
    validate(document)
    assert done.stdout.count('"schema_version"') == 1
    assert document["exitcode"] == 1 and document["summary"]["total"] == 4
    assert not (tmp_path / "report.json").exists()


def test_collection_error_and_mtrun_exit_code(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_bad.py", "x = 1\ndef broken(:\n")
    done = mtrun("--reporter", "json=out.json", "test_bad.py", cwd=tmp_path)
    assert done.ret == 2, describe(done)  # an error in collection, as pytest
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    validate(document)
    assert document["exitcode"] == 2 and document["tasks"] == []
    assert document["started_at"] is None
    (error,) = document["collection_errors"]
    assert (error["path"], error["line"]) == ("test_bad.py", 2)
    assert "SyntaxError" in error["message"]


def test_from_python_without_mtrun(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    s = Scheduler(workers=2, max_failures=1, plugins=[JSONReporter(str(report))])

    def bad() -> None:
        raise RuntimeError("first")

    s.register(bad, "bad")
    s.register(lambda: None, "blocked", after="bad")
    summary = s.start()
    assert summary["plugin_errors"] == []
    document = json.loads(report.read_text(encoding="utf-8"))
    validate(document)
    assert document["exitcode"] == 1
    assert [(t["name"], t["status"], t["module"]) for t in document["tasks"]] == [
        ("bad", "failed", None), ("blocked", "skipped", None)]
    assert document["tasks"][1]["skip_reason"] == "stopped after 1 failure"


def test_undecodable_output_stays_valid_json(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    s = Scheduler(workers=1, capture=True, plugins=[JSONReporter(str(report))])
    s.register(lambda: print("bad byte \udcff and \x1b[1mansi\x1b[0m"), "odd")
    s.start()
    document = json.loads(report.read_text(encoding="utf-8"))
    validate(document)
    assert document["tasks"][0]["stdout"] == "bad byte \udcff and \x1b[1mansi\x1b[0m\n"


def test_bad_dest_fails_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")  # a missing folder is created; one below a file cannot be
    with pytest.raises(ReporterError, match=r"^json reporter: cannot write .*cannot create"):
        JSONReporter(str(tmp_path / "a_file" / "nowhere" / "r.json"))


def test_retried_tasks_list_their_failed_attempts(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    s = Scheduler(workers=1, plugins=[JSONReporter(str(report))])
    calls: list[str] = []

    def flaky() -> None:
        calls.append("flaky")
        if len(calls) == 1:
            raise ConnectionError("first try")

    s.register(flaky, "flaky", retries=2)
    s.start()
    document = json.loads(report.read_text(encoding="utf-8"))
    validate(document)
    (task,) = document["tasks"]
    assert (task["status"], task["attempts"], task["error"]) == ("passed", 2, None)
    (attempt,) = task["failed_attempts"]
    assert (attempt["type"], attempt["message"]) == ("ConnectionError", "first try")
    assert "ConnectionError" in attempt["traceback"]
