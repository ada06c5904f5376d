"""What the four reporters share: cheap entry points, no effect unless selected, a bad
DEST caught before the run, and one reporter's failure not costing the others."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from ._support import describe, mtrun, python, write_sample

NAMES = ["junit", "json", "structlog", "progress"]

# A task that removes the directory the junit report was to go to, after the check.
REMOVES_OUT = '''\
import shutil

from threaded_order import dmark


@dmark()
def test_removes_out():
    shutil.rmtree("out")
'''


# Loads our four entry points as mtrun does, then prints what got imported.
LOAD_ENTRY_POINTS = """\
import sys
from importlib.metadata import entry_points

names = sys.argv[1:]
loaded = [ep.load().__name__ for ep in entry_points(group="threaded_order") if ep.name in names]
heavy = ("structlog", "rich", "xml.etree.ElementTree", "jsonschema")
reporters = [m for m in sys.modules if m.startswith("threaded_order_")
             and m.endswith((".reporter", ".routing", ".context"))]
print(sorted(loaded))
print(sorted(m for m in sys.modules if m in heavy) + sorted(reporters))
"""


def test_loading_the_entry_points_imports_nothing_heavy() -> None:
    done = python("-c", LOAD_ENTRY_POINTS, *NAMES)
    assert done.ret == 0, describe(done)
    loaded, heavy = done.stdout.splitlines()
    assert loaded == repr(sorted(f"threaded_order_{n}.plugin" for n in NAMES))
    assert heavy == "[]"


@pytest.mark.parametrize("name", NAMES)
def test_plugin_module_offers_one_reporter_and_makes_only_its_own(name: str) -> None:
    plugin = importlib.import_module(f"threaded_order_{name}.plugin")
    offered = plugin.threaded_order_cli_reporters()
    assert list(offered) == [name] and "DEST" in offered[name]
    other = "junit" if name != "junit" else "json"
    assert plugin.threaded_order_cli_make_reporter(other, None, None) is None


def test_mtrun_lists_the_installed_reporters(tmp_path: Path) -> None:
    done = mtrun("--plugins", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    for name in NAMES:
        assert f"threaded-order-{name}" in done.stdout


def test_installed_but_not_selected_changes_nothing(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "-p", "no:cacheprovider", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    assert {p.name for p in tmp_path.iterdir()} - {"__pycache__"} == {"test_sample.py"}
    assert not [x for x in done.stderr.splitlines() if x.startswith("{")]
    assert "━" not in done.stdout + done.stderr
    assert "[100%]" in done.stdout


@pytest.mark.parametrize(("reporter", "message"), [
    ("junit=test_marker.py/no/junit.xml", "junit reporter: cannot write "
                                          "'test_marker.py/no/junit.xml': cannot create"),
    ("json=test_marker.py/no/r.json", "json reporter: cannot write 'test_marker.py/no/r.json': "
                                      "cannot create"),
    ("structlog=test_marker.py/no/e.jsonl", "structlog reporter: cannot write "
                                            "'test_marker.py/no/e.jsonl': cannot create"),
    ("progress=somewhere", "progress reporter: DEST must be stderr"),
])
def test_bad_dest_is_one_line_and_nothing_runs(tmp_path: Path, reporter: str,
                                                message: str) -> None:
    write_sample(tmp_path, "test_marker.py",
                 "from pathlib import Path\nfrom threaded_order import dmark\n\n"
                 "@dmark()\ndef test_marker():\n    Path('ran').touch()\n")
    done = mtrun("--reporter", reporter, "test_marker.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    # One error line (other plugins' warnings aside).
    (line,) = [x for x in done.stderr.splitlines() if not x.startswith("mtrun: warning:")]
    assert line.startswith("mtrun: error: ") and message in line, line
    assert not (tmp_path / "ran").exists()


def test_a_failing_reporter_costs_neither_the_results_nor_the_other_reports(
        tmp_path: Path) -> None:
    write_sample(tmp_path, "test_removes.py", REMOVES_OUT)
    (tmp_path / "out").mkdir()
    done = mtrun("--reporter", "junit=out/junit.xml", "--reporter", "json=report.json",
                 "--reporter", "structlog=events.jsonl", "test_removes.py", cwd=tmp_path)
    assert "==== 1 passed, 0 failed, 0 skipped" in done.stdout, describe(done)
    errors = [x for x in (done.stdout + done.stderr).splitlines()
              if "junit reporter: cannot write" in x]
    assert errors and all("out/junit.xml" in x for x in errors), describe(done)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert document["summary"]["passed"] == 1
    assert any("junit reporter" in e for e in document["plugin_errors"])
    events = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(events[-1])["event"] == "scheduler_done"
