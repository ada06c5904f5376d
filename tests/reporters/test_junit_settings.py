"""The junit reporter's settings, named as pytest's: ``-o``, ``[tool.mtrun]`` and keywords.

``junit_family`` (xunit1 adds ``file`` and ``line``), ``junit_logging``,
``junit_log_passing_tests``, ``junit_suite_name``, ``junit_duration_report``; and the run id
as a suite property.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from threaded_order import Scheduler
from threaded_order.reporting import ReporterError
from threaded_order_junit import JUnitReporter

from ._support import JUNIT_XSD, describe, mtrun, write_sample

SOURCE = '''\
import logging
import sys

from threaded_order import dmark

from helpers import check


@dmark()
def test_ok():
    print("out of ok")
    print("err of ok", file=sys.stderr)
    logging.getLogger("t").warning("log of ok")


@dmark(skip="not today")
def test_marked_skip():
    pass


@dmark(xfail="known")
def test_known():
    raise ValueError("known")


@dmark()
def test_fails():
    print("out of fails")
    check(2)


@dmark(params=[1, 2], argnames="value", xfail="not yet")
def test_param(value):
    check(value + 1)
'''
HELPERS = "def check(value):\n    if value != 1:\n        raise ValueError(f'bad {value}')\n"
NAMES = ("test_ok", "test_marked_skip", "test_known", "test_fails", "test_param[1]",
         "test_param[2]")


def line_of(text: str, source: str = SOURCE) -> int:
    return source.splitlines().index(text) + 1


def first_line(name: str) -> int:
    """The line of the function's first decorator, as its code object gives it."""
    if name.startswith("test_param["):
        return line_of("def test_param(value):") - 1
    return line_of(f"def {name}():") - 1


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def run(folder: Path, *args: str, pyproject: str = "", ret: int = 1) -> ET.Element:
    write_sample(folder, "tests/test_set.py", SOURCE)
    write_sample(folder, "tests/helpers.py", HELPERS)
    if pyproject:
        (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    done = mtrun("--reporter", "junit", *args, "tests/test_set.py", cwd=folder)
    assert done.ret == ret, describe(done)
    return ET.parse(folder / "junit.xml").getroot()


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_xunit2_default_has_no_file_and_ends_failures_with_the_line(
        tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    root = run(tmp_path)
    schema.validate(str(tmp_path / "junit.xml"))
    found = cases(root)
    assert sorted(found) == sorted(NAMES)
    assert all("file" not in c.attrib and "line" not in c.attrib for c in found.values())
    text = found["test_fails"].findtext("failure") or ""
    # The innermost frame in the test's own file: the call of the helper that raised.
    assert text.splitlines()[-1] == f"tests/test_set.py:{line_of('    check(2)')}: ValueError"
    assert text.splitlines()[-2] == "" and "Traceback" in text


@pytest.mark.parametrize("how", ["-o", "pyproject"])
def test_xunit1_adds_file_and_line(tmp_path: Path, how: str) -> None:
    if how == "-o":
        root = run(tmp_path, "-o", "junit_family=xunit1")
    else:
        root = run(tmp_path, pyproject='[tool.mtrun]\njunit_family = "xunit1"\n')
    found = cases(root)
    # Marked skip and xfail too: their bodies wrap the user's function.
    assert {name: (c.get("file"), c.get("line")) for name, c in found.items()} == {
        name: ("tests/test_set.py", str(first_line(name))) for name in NAMES}
    assert list(found["test_ok"].attrib) == ["classname", "name", "file", "line", "time"]
    text = found["test_fails"].findtext("failure") or ""
    assert text.endswith(f"tests/test_set.py:{line_of('    check(2)')}: ValueError")


def test_xunit1_collection_error_has_its_file_and_line(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_bad.py", "import os\n\ndef broken(:\n    pass\n")
    done = mtrun("--reporter", "junit", "-o", "junit_family=xunit1", "test_bad.py",
                 cwd=tmp_path)
    assert done.ret == 2, describe(done)
    (case,) = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert (case.get("name"), case.get("file"), case.get("line")) == (
        "collection", "test_bad.py", "3")
    error = case.find("error")
    assert error is not None and (error.get("message") or "").startswith("line 3: ")


def test_logging_defaults_to_no_output(tmp_path: Path) -> None:
    root = run(tmp_path)
    assert not [e.tag for e in root.iter() if e.tag in ("system-out", "system-err")]


def test_logging_from_pyproject_and_not_for_passed_tests(tmp_path: Path) -> None:
    pyproject = ('[tool.mtrun]\njunit_logging = "all"\n'
                 'junit_log_passing_tests = false\n')
    found = cases(run(tmp_path, pyproject=pyproject))
    assert [e.tag for e in found["test_ok"]] == []
    assert found["test_fails"].findtext("system-out") == "out of fails\n"


def test_suite_name_and_run_id(tmp_path: Path) -> None:
    root = run(tmp_path, "-o", "junit_suite_name=nightly")
    assert root.get("name") == "nightly"
    (suite,) = root.iter("testsuite")
    assert suite.get("name") == "tests/test_set.py"  # one suite per module, by its path
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert re.fullmatch(r"[0-9a-f]{32}", properties["run_id"] or ""), properties
    again = run(tmp_path / "again")
    (other,) = (p.get("value") for p in again.iter("property") if p.get("name") == "run_id")
    assert other != properties["run_id"]  # one per run


@pytest.mark.parametrize(("args", "pyproject", "message"), [
    (("-o", "junit_family=xunit3"), "", "-o junit_family=xunit3: want one of xunit1, xunit2"),
    ((), '[tool.mtrun]\njunit_logging = "everything"\n', "junit_logging: want one of"),
    (("-o", "junit_log_passing_tests=maybe"), "", "want true or false"),
])
def test_bad_setting_is_one_line_and_exit_4(tmp_path: Path, args: tuple[str, ...],
                                            pyproject: str, message: str) -> None:
    write_sample(tmp_path, "test_x.py", "from threaded_order import dmark\n\n"
                                        "@dmark()\ndef test_x():\n    pass\n")
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    done = mtrun("--reporter", "junit", *args, "test_x.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    assert message in done.stderr and "Traceback" not in done.stderr, describe(done)
    assert not (tmp_path / "junit.xml").exists()


# --- From Python: the same settings as keywords ----------------------------------------------


def library_run(report: Path, **settings: Any) -> dict[str, ET.Element]:
    s = Scheduler(workers=1, capture=True, plugins=[JUnitReporter(str(report), **settings)])

    def chatty() -> None:
        import logging
        import sys

        print("to out")
        print("to err", file=sys.stderr)
        logging.getLogger("lib").warning("to log")

    def broken() -> None:
        print("broken out")
        raise KeyError("k")

    s.register(chatty, "chatty")
    s.register(broken, "broken")
    s.start()
    return cases(ET.parse(report).getroot())


@pytest.mark.parametrize(("mode", "out", "err"), [
    ("no", None, None),
    ("log", "--- captured log ---\n", None),
    ("system-out", "to out\n", None),
    ("system-err", None, "to err\n"),
    ("out-err", "to out\n", "to err\n"),
    ("all", "to out\n--- captured log ---\n", "to err\n"),
])
def test_logging_modes(tmp_path: Path, mode: str, out: Any, err: Any) -> None:
    found = library_run(tmp_path / "r.xml", junit_logging=mode)
    chatty = found["chatty"]
    text = chatty.findtext("system-out")
    assert (text is None) if out is None else (text or "").startswith(out), text
    assert ("to log" in (text or "")) == (mode in ("log", "all"))
    assert chatty.findtext("system-err") == err


def test_xunit1_from_python(tmp_path: Path) -> None:
    found = library_run(tmp_path / "r.xml", junit_family="xunit1")
    this = Path(__file__)
    file = found["broken"].get("file") or ""
    assert Path(file).name == this.name and Path.cwd().joinpath(file).resolve() == this
    line = int(found["broken"].get("line") or 0)
    source = this.read_text(encoding="utf-8").splitlines()
    assert source[line - 1].strip() == "def broken() -> None:"
    text = found["broken"].findtext("failure") or ""
    assert text.splitlines()[-1] == f"{file}:{line + 2}: KeyError"


def test_duration_report_call_leaves_out_retry_delays(tmp_path: Path) -> None:
    """Two reporters on one run: the same result, written with each setting."""
    delay = 0.2
    reports = {mode: tmp_path / f"{mode}.xml" for mode in ("total", "call")}
    s = Scheduler(workers=1, plugins=[JUnitReporter(str(path), junit_duration_report=mode)
                                      for mode, path in reports.items()])
    tries: list[int] = []

    def flaky() -> None:
        tries.append(1)
        if len(tries) == 1:
            raise ConnectionError("first try")

    s.register(flaky, "flaky", retries=1, retry_delay=delay)
    assert s.start()["passed"] == ["flaky"]
    times = {mode: float(cases(ET.parse(path).getroot())["flaky"].get("time") or "nan")
             for mode, path in reports.items()}
    assert times["total"] >= delay  # the delay was slept: a lower bound, not a timing
    assert times["total"] - times["call"] == pytest.approx(delay, abs=0.0015)  # rounding


@pytest.mark.parametrize(("settings", "message"), [
    ({"junit_family": "xunit3"}, "junit_family must be one of xunit1|xunit2, got 'xunit3'"),
    ({"junit_logging": "yes"}, "junit_logging must be one of no|log|"),
    ({"junit_duration_report": 1}, "junit_duration_report must be a string"),
    ({"junit_log_passing_tests": "perhaps"}, "junit_log_passing_tests must be true or false"),
    ({"junit_suite_name": " "}, "junit_suite_name must not be empty"),
])
def test_bad_keyword_is_one_reporter_error(tmp_path: Path, settings: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(ReporterError) as info:
        JUnitReporter(str(tmp_path / "r.xml"), **settings)
    assert str(info.value).startswith("junit reporter: ") and message in str(info.value)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "r.xml").exists()


def test_run_id_only_when_mtrun_gives_one(tmp_path: Path) -> None:
    found = library_run(tmp_path / "r.xml")
    assert found and not list(ET.parse(tmp_path / "r.xml").getroot().iter("property"))
