"""The junit reporter: pytest's xunit2 shape, valid against junit-10.xsd."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase

from threaded_order import CANCELLED, FAILED, Scheduler, TaskResult
from threaded_order.reporting import ReporterError
from threaded_order_junit import JUnitReporter
from threaded_order_junit.reporter import build_report, clean, serialize

from ._support import JUNIT_XSD, SAMPLE, SAMPLE_NAMES, describe, mtrun, write_sample

TIME = re.compile(r"^\d+\.\d{3}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def cases(path: Path) -> dict[str, TestCase]:
    return {case.name: case for suite in JUnitXml.fromfile(str(path)) for case in suite}


def test_mtrun_writes_a_valid_report(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "junit", "-o", "junit_logging=all",
                 "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    report = tmp_path / "junit.xml"  # the default DEST, relative to where mtrun runs
    schema.validate(str(report))

    xml = JUnitXml.fromfile(str(report))
    suites = list(xml)
    assert [s.name for s in suites] == ["test_sample.py"]
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 1, 0, 1)
    assert TIME.match(suite._elem.get("time")) and TIMESTAMP.match(suite.timestamp)
    assert suite.hostname
    by_name = {case.name: case for case in suite}
    assert sorted(by_name) == sorted(SAMPLE_NAMES)
    assert {case.classname for case in suite} == {"test_sample"}
    assert all(TIME.match(case._elem.get("time")) for case in suite)

    assert by_name["test_ok"].result == [] and by_name["test_uses_state"].result == []
    assert "out from ok" in by_name["test_ok"].system_out
    assert "log from ok" in by_name["test_ok"].system_out
    assert "err from ok" in by_name["test_ok"].system_err

    (failure,) = by_name["test_fails"].result
    assert isinstance(failure, Failure)
    assert failure.message == "AssertionError: expected <failure> & more"
    assert failure.type == "AssertionError"
    assert "Traceback" in failure.text and "raise AssertionError" in failure.text
    # pytest's last line, which annotators parse: the raising line in the test file.
    line = SAMPLE.splitlines().index('    raise AssertionError("expected <failure> & more")')
    assert failure.text.splitlines()[-1] == f"test_sample.py:{line + 1}: AssertionError"
    # The ANSI colour codes are gone and the bell is spelled out.
    assert by_name["test_fails"].system_out == "red and a bell \\x07\n"

    (skipped,) = by_name["test_after_failure"].result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "dependency 'test_fails' failed"


def test_suites_per_module_and_names_without_path(tmp_path: Path,
                                                  schema: xmlschema.XMLSchema) -> None:
    write_sample(tmp_path)
    write_sample(tmp_path / "sub", "test_other.py",
                 "from threaded_order import dmark\n\n@dmark()\ndef test_other():\n    pass\n")
    done = mtrun("--skip-deps", "--reporter", "junit=out.xml", "test_sample.py",
                 "sub/test_other.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    schema.validate(str(tmp_path / "out.xml"))
    xml = JUnitXml.fromfile(str(tmp_path / "out.xml"))
    shape = {s.name: sorted((c.classname, c.name) for c in s) for s in xml}
    assert shape == {
        "test_sample.py": sorted(("test_sample", n) for n in SAMPLE_NAMES),
        "sub/test_other.py": [("sub.test_other", "test_other")],
    }
    assert (xml.tests, xml.failures, xml.errors) == (5, 1, 0)
    # The root has no counts: junit-10.xsd allows no "skipped" there (see test_junit_consumers).
    assert sorted(ET.parse(tmp_path / "out.xml").getroot().attrib) == ["name", "time"]


@pytest.mark.parametrize(("source", "message"), [
    ("def broken(:\n", "line 1: SyntaxError"),
    ("from threaded_order import dmark\n\n@dmark(after=['nope'])\ndef test_x():\n    pass\n",
     "depends on unknown 'nope'"),
])
def test_collection_error_is_an_error_case(tmp_path: Path, schema: xmlschema.XMLSchema,
                                           source: str, message: str) -> None:
    write_sample(tmp_path, "test_bad.py", source)
    done = mtrun("--reporter", "junit", "test_bad.py", cwd=tmp_path)
    assert done.ret == 2, describe(done)  # an error in collection, as pytest
    schema.validate(str(tmp_path / "junit.xml"))
    (suite,) = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    assert (suite.name, suite.tests, suite.errors) == ("test_bad.py", 1, 1)
    (case,) = suite
    assert case.classname == "test_bad"
    (error,) = case.result
    assert isinstance(error, Error) and message in error.message


def test_nothing_collected_still_writes_an_empty_report(tmp_path: Path,
                                                        schema: xmlschema.XMLSchema) -> None:
    write_sample(tmp_path, "test_empty.py", "def not_marked():\n    pass\n")
    done = mtrun("--reporter", "junit", "test_empty.py", cwd=tmp_path)
    assert done.ret == 5, describe(done)
    schema.validate(str(tmp_path / "junit.xml"))
    assert JUnitXml.fromfile(str(tmp_path / "junit.xml")).tests == 0


def test_dash_writes_to_stdout(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "junit=-", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    assert done.stdout.startswith("<?xml") and done.stdout.rstrip().endswith("</testsuites>")
    assert "==== 2 passed" in done.stderr  # the rest goes to stderr: stdout is the report
    assert not (tmp_path / "junit.xml").exists()


def test_from_python_without_mtrun(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    report = tmp_path / "out.xml"
    s = Scheduler(workers=2, skip_dependents=True, capture=True,
                  plugins=[JUnitReporter(str(report), junit_logging="all")])

    def ok() -> None:
        print("\x1b[1mbold\x1b[0m \x00 \udcff")

    def bad() -> None:
        raise ValueError("no <good>")

    s.register(ok, "ok")
    s.register(bad, "bad", module="pkg/test_mod.py")
    s.register(ok, "later", after="bad", module="pkg/test_mod.py")
    summary = s.start()
    assert summary["plugin_errors"] == []
    schema.validate(str(report))
    xml = JUnitXml.fromfile(str(report))
    assert [(s.name, s.tests) for s in xml] == [("threaded-order", 1), ("pkg/test_mod.py", 2)]
    found = cases(report)
    assert found["ok"].classname == "threaded-order"
    assert found["ok"].system_out == "bold \\x00 \\xdcff\n"
    assert found["bad"].classname == "pkg.test_mod"
    assert isinstance(found["later"].result[0], Skipped)


def test_cancelled_and_interrupted_tasks(schema: xmlschema.XMLSchema, tmp_path: Path) -> None:
    """A task stopped while running (second Ctrl-C) is an error; one that never started is
    skipped as cancelled."""
    stopped = TaskResult("t_stop", FAILED, error_type="CancelledError",
                         error="cancelled by interrupt while running", module="t.py",
                         start=100.0, finish=101.0, duration=1.0)
    never = TaskResult("t_never", CANCELLED, skip_reason="never started: run interrupted",
                       module="t.py")
    root = build_report([stopped, never], [("t.py", "boom")], 100.0, 2.0, hostname="h")
    (tmp_path / "r.xml").write_bytes(serialize(root))
    schema.validate(str(tmp_path / "r.xml"))
    (suite,) = JUnitXml.fromfile(str(tmp_path / "r.xml"))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 0, 2, 1)
    found = cases(tmp_path / "r.xml")
    assert isinstance(found["t_stop"].result[0], Error)
    assert found["t_never"].result[0].message == "cancelled: never started: run interrupted"
    assert suite._elem.get("time") == "1.000"


def test_clean_removes_what_xml_forbids() -> None:
    assert clean("\x1b[31mred\x1b[0m\x1b]0;title\x07 ok\ttab\n") == "red ok\ttab\n"
    assert clean("a\x00b\x0bc\ufffe") == "a\\x00b\\x0bc\\xfffe"
    assert clean(None) == ""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write anywhere")
def test_unwritable_directory_fails_before_the_run(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ReporterError, match=r"junit reporter: cannot write .*not writable"):
        JUnitReporter(str(locked / "junit.xml"))


@pytest.mark.parametrize(("dest", "why"), [
    ("a_file/missing/junit.xml", "cannot create directory"),
    (".", "is a directory"),
])
def test_bad_dest_fails_before_the_run(tmp_path: Path, dest: str, why: str) -> None:
    (tmp_path / "a_file").write_text("")  # a missing folder is created; one below a file cannot be
    with pytest.raises(ReporterError, match=f"junit reporter: cannot write .*{why}"):
        JUnitReporter(str(tmp_path / dest))


def test_retried_tasks_write_flaky_and_rerun_failures(tmp_path: Path,
                                                      schema: xmlschema.XMLSchema) -> None:
    report = tmp_path / "retries.xml"
    s = Scheduler(workers=1, plugins=[JUnitReporter(str(report))])
    calls: list[str] = []

    def flaky() -> None:
        calls.append("flaky")
        if len(calls) == 1:
            raise ConnectionError("first try")

    def broken() -> None:
        raise ValueError("every try")

    s.register(flaky, "flaky", retries=1)
    s.register(broken, "broken", after="flaky", retries=2)
    s.start()
    schema.validate(str(report))
    found = cases(report)
    flaky_case = found["flaky"]._elem
    assert [e.tag for e in flaky_case] == ["flakyFailure"]
    assert flaky_case[0].get("message") == "ConnectionError: first try"
    assert "first try" in flaky_case[0].find("stackTrace").text
    assert sorted(e.tag for e in found["broken"]._elem) == [
        "failure", "rerunFailure", "rerunFailure"]
    (suite,) = JUnitXml.fromfile(str(report))
    assert (suite.tests, suite.failures) == (2, 1)
