"""Real readers of the JUnit report count a run right: 5 passed, 2 skipped, 1 failed and 1
xfailed (a skip in JUnit, as pytest writes it), in both families.

test-results-parser trusted the counts on ``<testsuites>``, which junit-10.xsd cannot give a
``skipped``, and counted the skipped tests as passed; the root now has no counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from junitparser import JUnitXml

from ._support import JUNIT_XSD, child_env, describe, mtrun, write_sample

MIX = '''\
from threaded_order import dmark, skip


@dmark()
def test_p1():
    pass


@dmark()
def test_p2():
    pass


@dmark()
def test_p3():
    pass


@dmark()
def test_p4():
    pass


@dmark()
def test_p5():
    pass


@dmark(skip="not today")
def test_marked_skip():
    pass


@dmark()
def test_skips_itself():
    skip("nothing to do")


@dmark()
def test_fails():
    assert 1 == 2, "one is not two"


@dmark(xfail="known bug")
def test_known_bug():
    raise ValueError("still broken")
'''
# passed, failed, errors, skipped (the xfail included), tests
EXPECTED = {"passed": 5, "failed": 1, "errors": 0, "skipped": 3, "tests": 9}
TRP_VERSION = "0.4.6"  # test-results-parser: the version that read the root's counts
TRP_READ = """
const { parse } = require('test-results-parser');
const r = parse({ type: 'junit', files: [process.argv[1]] });
console.log(JSON.stringify({ total: r.total, passed: r.passed, failed: r.failed,
                             errors: r.errors, skipped: r.skipped }));
"""


@pytest.fixture(scope="module", params=["xunit2", "xunit1"])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = request.param
    folder = tmp_path_factory.mktemp(family)
    write_sample(folder, "test_mix.py", MIX)
    done = mtrun("--reporter", "junit", "-o", f"junit_family={family}", "test_mix.py",
                 cwd=folder)
    assert done.ret == 1, describe(done)
    assert "5 passed, 1 failed, 2 skipped, 1 xfailed" in done.stdout, describe(done)
    path = folder / "junit.xml"
    if family == "xunit2":
        xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(path))
    return path


def test_root_has_no_counts(report: Path) -> None:
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites" and sorted(root.attrib) == ["name", "time"]


def test_junitparser(report: Path) -> None:
    xml = JUnitXml.fromfile(str(report))
    counts = {"tests": xml.tests, "failed": xml.failures, "errors": xml.errors,
              "skipped": xml.skipped}
    counts["passed"] = sum(1 for suite in xml for case in suite if case.is_passed)
    assert counts == EXPECTED


def test_xunitparser(report: Path) -> None:
    xunitparser = pytest.importorskip("xunitparser", reason="xunitparser is not installed")
    with open(report, encoding="utf-8") as source:
        _suite, result = xunitparser.parse(source)
    failed, errors, skipped = len(result.failures), len(result.errors), len(result.skipped)
    assert {"tests": result.testsRun, "failed": failed, "errors": errors, "skipped": skipped,
            "passed": result.testsRun - failed - errors - skipped} == EXPECTED


@pytest.fixture(scope="module")
def trp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test-results-parser from npm, in a folder of its own: its node_modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run test-results-parser")
    folder = tmp_path_factory.mktemp("trp")
    try:
        done = subprocess.run(
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
             "--no-save", f"test-results-parser@{TRP_VERSION}"],
            cwd=folder, env=child_env(), capture_output=True, text=True, timeout=180,
            stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install test-results-parser timed out (no registry?)")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"npm install test-results-parser failed: {tail}")
    return folder / "node_modules"


def test_test_results_parser(report: Path, trp: Path) -> None:
    done = subprocess.run(
        [str(shutil.which("node")), "-e", TRP_READ, str(report)],
        env={**child_env(), "NODE_PATH": os.fspath(trp)}, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    # Its "total" leaves the skipped out.
    assert counts == {"total": EXPECTED["tests"] - EXPECTED["skipped"],
                      **{k: EXPECTED[k] for k in ("passed", "failed", "errors", "skipped")}}
