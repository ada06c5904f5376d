"""Node ids and imports, through a real mtrun: test packages import the way pytest's
default mode does, a test keeps one id whatever the targets, and ``after=`` names tasks
of other files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ._support import mtrun, write

HELPERS = "VALUE = 42\n"

TEST_A = '''
from threaded_order import dmark

from .helpers import VALUE
from tests.helpers import VALUE as SAME
import tests.helpers


@dmark()
def test_create():
    assert VALUE == SAME == tests.helpers.VALUE == 42
    assert __name__ == "tests.test_a"
    return "created"


@dmark(after=["test_create"], with_state=True)
def test_read(state):
    return state["results"]
'''

TEST_B = '''
from threaded_order import dmark

from ..helpers import VALUE


@dmark(after=["../test_a.py::test_create"])
def test_deep():
    assert VALUE == 42


@dmark(after=["tests/test_a.py::test_read"])
def test_by_node_id():
    pass
'''


def suite(root: Path) -> None:
    write(root, "tests/__init__.py", "")
    write(root, "tests/helpers.py", HELPERS)
    write(root, "tests/test_a.py", TEST_A)
    write(root, "tests/sub/__init__.py", "")
    write(root, "tests/sub/test_b.py", TEST_B)


def reports(root: Path, *targets: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """(JSON ids, JUnit (classname, name), structlog task fields) of one run."""
    for name in ("r.json", "j.xml", "s.jsonl"):
        (root / name).unlink(missing_ok=True)
    done = mtrun("--reporter", "json=r.json", "--reporter", "junit=j.xml",
                 "--reporter", "structlog=s.jsonl", *targets, cwd=root, autoload=True)
    assert done.ret == 0, done.stdout + done.stderr
    document = json.loads((root / "r.json").read_text(encoding="utf-8"))
    cases = ET.parse(root / "j.xml").getroot().iter("testcase")
    lines = [json.loads(line) for line in (root / "s.jsonl").read_text().splitlines()]
    return (sorted(t["id"] for t in document["tasks"]),
            sorted((c.get("classname", ""), c.get("name", "")) for c in cases),
            sorted(line["task"] for line in lines if line["event"] == "task_done"))


def test_relative_and_absolute_imports_inside_a_test_package(tmp_path: Path) -> None:
    suite(tmp_path)
    done = mtrun("tests", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=4)


def test_sibling_imports_keep_working_inside_a_package(tmp_path: Path) -> None:
    suite(tmp_path)
    write(tmp_path, "tests/test_flat.py", '''
        import helpers
        from threaded_order import dmark

        @dmark()
        def test_flat():
            assert helpers.VALUE == 42
    ''')
    done = mtrun("tests/test_flat.py", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr


def test_ids_are_the_same_whatever_the_targets(tmp_path: Path) -> None:
    suite(tmp_path)
    one_file = reports(tmp_path, "tests/test_a.py")
    assert one_file[0] == ["tests/test_a.py::test_create", "tests/test_a.py::test_read"]
    assert one_file[1] == [("tests.test_a", "test_create"), ("tests.test_a", "test_read")]
    assert one_file[2] == one_file[0]
    folder = reports(tmp_path, "tests")
    rootdir = reports(tmp_path, ".")
    selected = reports(tmp_path, "tests/test_a.py::test_read", "tests/test_a.py::test_create")
    assert folder == rootdir
    assert [i for i in folder[0] if i.startswith("tests/test_a.py")] == one_file[0]
    assert selected == one_file
    assert "tests/sub/test_b.py::test_deep" in folder[0]


def test_one_module_keeps_bare_names_in_state_results(tmp_path: Path) -> None:
    suite(tmp_path)
    write(tmp_path, "tests/test_state.py", '''
        from threaded_order import dmark

        @dmark()
        def test_first():
            return 1

        @dmark(after=["test_first"], with_state=True)
        def test_second(state):
            assert state["results"]["test_first"] == 1
    ''')
    assert mtrun("tests/test_state.py", cwd=tmp_path).ret == 0


def test_a_dependency_outside_the_run_is_dropped_or_pulled_in(tmp_path: Path) -> None:
    suite(tmp_path)
    write(tmp_path, "tests/sub/test_c.py", '''
        from pathlib import Path
        from threaded_order import dmark

        @dmark(after=["../test_a.py::test_create"])
        def test_needs_create():
            Path("needs_create.ran").touch()
    ''')
    write(tmp_path, "tests/test_a.py", TEST_A + '''

@dmark()
def test_marker():
    from pathlib import Path
    Path("test_a.ran").touch()
''')
    dropped = mtrun("tests/sub/test_c.py::test_needs_create", cwd=tmp_path)
    assert dropped.ret == 0, dropped.stdout + dropped.stderr
    dropped.assert_outcomes(passed=1)
    assert (tmp_path / "needs_create.ran").exists()
    notes = [line for line in dropped.stderr.splitlines() if line.startswith("mtrun: note: ")]
    assert len(notes) == 1 and "test_create" in notes[0] and "--with-deps" in notes[0], \
        dropped.stderr
    assert not [n for n in mtrun("tests/sub/test_c.py::test_needs_create", "--with-deps",
                                 cwd=tmp_path).stderr.splitlines() if "note:" in n]

    (tmp_path / "needs_create.ran").unlink()
    pulled = mtrun("tests/sub/test_c.py::test_needs_create", "--with-deps", cwd=tmp_path)
    assert pulled.ret == 0, pulled.stdout + pulled.stderr
    pulled.assert_outcomes(passed=2)  # test_create, then test_needs_create; not test_marker
    assert (tmp_path / "needs_create.ran").exists() and not (tmp_path / "test_a.ran").exists()


@pytest.mark.parametrize(("dep", "hint"), [
    ("test_craete", "did you mean 'test_create'"),
    ("tests/test_a.py::test_raed", "did you mean 'tests/test_a.py::test_read'"),
    ("nothing_like_it", ""),
])
def test_an_unknown_dependency_lists_near_matches(tmp_path: Path, dep: str, hint: str) -> None:
    suite(tmp_path)
    write(tmp_path, "tests/test_typo.py", f'''
        from threaded_order import dmark

        @dmark()
        def test_create():
            pass

        @dmark(after=[{dep!r}])
        def test_typo():
            pass
    ''')
    done = mtrun("tests", cwd=tmp_path)
    assert done.ret != 0 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert f"tests/test_typo.py: task 'test_typo' depends on unknown {dep!r}" in line
    assert hint in line
    assert ("did you mean" in line) == bool(hint)


def test_a_package_named_like_the_standard_library_shadows_nothing(tmp_path: Path) -> None:
    write(tmp_path, "json/__init__.py", "")
    write(tmp_path, "json/helpers.py", "VALUE = 7\n")
    write(tmp_path, "json/test_j.py", '''
        import json as real_json

        from threaded_order import dmark

        from .helpers import VALUE

        @dmark()
        def test_j():
            assert VALUE == 7
            assert real_json.dumps([1]) == "[1]" and real_json.__file__.endswith("__init__.py")
            assert real_json.__name__ == "json" and __name__ != "json.test_j"
    ''')
    done = mtrun("json", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=1)
