"""Report files are complete or absent: written beside and renamed over, never torn by a
full disk or a file-size limit, never two reports in one file, never a stale one left to
be read as this run's, and the JSON ``exitcode`` is the exit code mtrun ends with."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from threaded_order_cli.testing import spawn_mtrun

from ._support import ENV, JUNIT_XSD, describe, mtrun, write_sample

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX limits and devices")

ONE = "from threaded_order import dmark\n\n@dmark()\ndef test_one():\n    pass\n"
MARKED = ("from pathlib import Path\nfrom threaded_order import dmark\n\n"
          "@dmark()\ndef test_marker():\n    Path('ran').touch()\n")
REPORTS = ("--reporter", "junit=junit.xml", "--reporter", "json=report.json",
           "--reporter", "structlog=events.jsonl")
LIMIT = 4096  # bytes: more than a .pyc of these modules, less than any of the three reports


def many(count: int = 60) -> str:
    lines = ["from threaded_order import dmark", ""]
    for i in range(count):
        lines += ["@dmark()", f"def test_with_a_rather_long_name_{i:03d}():",
                  f"    print('output of task {i} ' * 4)", ""]
    return "\n".join(lines)


def limited() -> None:  # pragma: no cover - runs in the child
    """``ulimit -f``: a write past LIMIT bytes fails with EFBIG instead of killing us."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, hard))


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def one_line_errors(stderr: str) -> list[str]:
    return [x for x in stderr.splitlines() if "cannot write" in x]


def test_a_file_size_limit_leaves_no_torn_report_and_fails_the_run(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_many.py", many())
    (tmp_path / "junit.xml").write_text("<testsuites tests='99'/>")  # an older run's
    with spawn_mtrun(*REPORTS, "-p", "no:cacheprovider", "test_many.py", cwd=tmp_path,
                     env=ENV, stdin=False, preexec_fn=limited) as run:
        done = run.finish()
    assert done.ret == 3, describe(done)
    assert "==== 60 passed, 0 failed, 0 skipped" in done.stdout, describe(done)
    for name in ("junit.xml", "report.json", "events.jsonl"):
        assert not (tmp_path / name).exists(), f"{name} left behind\n{describe(done)}"
    assert temporaries(tmp_path) == []
    errors = one_line_errors(done.stderr)
    assert {e.split(" reporter: ")[0].rsplit(" ", 1)[-1] for e in errors} == \
        {"junit", "json", "structlog"}, describe(done)
    assert all("File too large" in e for e in errors), describe(done)
    assert "Traceback" not in done.stderr


def test_a_full_device_fails_the_run_and_the_json_report_says_so(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    write_sample(tmp_path, "test_one.py", ONE)
    done = mtrun("--reporter", "junit=/dev/full", "--reporter", "json=report.json",
                 "test_one.py", cwd=tmp_path)
    assert done.ret == 3, describe(done)
    (line,) = one_line_errors(done.stderr)
    assert "junit reporter: cannot write '/dev/full': No space left on device" in line
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["exitcode"] == 3
    assert any("/dev/full" in e for e in document["plugin_errors"])


@pytest.mark.parametrize("target", ["missing.xml", "nowhere/junit.xml"])
def test_a_dangling_symlink_dest_is_refused_before_the_run(tmp_path: Path,
                                                           target: str) -> None:
    write_sample(tmp_path, "test_marker.py", MARKED)
    (tmp_path / "junit.xml").symlink_to(target)
    done = mtrun("--reporter", "junit", "test_marker.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    (line,) = [x for x in done.stderr.splitlines() if not x.startswith("mtrun: warning:")]
    assert line.startswith("mtrun: error: junit reporter: cannot write 'junit.xml': it is a "
                           f"symlink to '{target}'"), line
    assert not (tmp_path / "ran").exists()


def test_a_symlink_dest_writes_its_target_and_stays_a_symlink(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_one.py", ONE)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "junit.xml").write_text("old")
    (tmp_path / "junit.xml").symlink_to("real/junit.xml")
    done = mtrun("--reporter", "junit", "test_one.py", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    assert (tmp_path / "junit.xml").is_symlink()
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(tmp_path / "real" / "junit.xml"))
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize(("first", "second", "where"), [
    ("junit=out.xml", "json=./out.xml", "out.xml"),
    ("json=report.json", "structlog=sub/../report.json", "report.json"),
    ("junit=-", "json=-", "stdout"),
    ("junit=-", "structlog=-", "stdout"),
])
def test_two_reporters_with_one_dest_is_a_usage_error_before_the_run(
        tmp_path: Path, first: str, second: str, where: str) -> None:
    write_sample(tmp_path, "test_marker.py", MARKED)
    (tmp_path / "sub").mkdir()
    done = mtrun("--reporter", first, "--reporter", second, "test_marker.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    (line,) = [x for x in done.stderr.splitlines() if not x.startswith("mtrun: warning:")]
    assert line.startswith("mtrun: error: ") and "is already the" in line and where in line
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "out.xml").exists() and not (tmp_path / "report.json").exists()


def junit_root(path: Path) -> ET.Element:
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(path))
    return ET.parse(path).getroot()


def test_sys_exit_in_setup_state_exit_code_and_json_agree(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_exit.py",
                 "import sys\nfrom threaded_order import dmark\n\n"
                 "def setup_state(state):\n    sys.exit(0)\n\n"
                 "@dmark()\ndef test_one():\n    pass\n")
    done = mtrun("--reporter", "junit", "--reporter", "json", "test_exit.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["exitcode"] == 4
    assert "sys.exit(0)" in document["collection_errors"][0]["message"]
    (error,) = junit_root(tmp_path / "junit.xml").iter("error")
    assert "sys.exit(0)" in (error.get("message") or "")


def test_a_state_processes_cannot_take_is_in_every_report(tmp_path: Path) -> None:
    """Exit 4 before any task runs: the reports say why, not a silent tests="0"."""
    write_sample(tmp_path, "test_state.py",
                 "import threading\nfrom threaded_order import dmark\n\n"
                 "def setup_state(state):\n    state['lock'] = threading.Lock()\n\n"
                 "@dmark(with_state=True)\ndef test_uses_state(state):\n    pass\n")
    done = mtrun("--executor", "processes", "--workers", "1", "--reporter", "junit",
                 "--reporter", "json", "test_state.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["exitcode"] == 4 and document["summary"]["total"] == 0
    (error,) = document["collection_errors"]
    assert "pickle" in error["message"]
    root = junit_root(tmp_path / "junit.xml")
    (case,) = root.iter("testcase")
    assert "pickle" in (case.find("error").get("message") or "")  # type: ignore[union-attr]
