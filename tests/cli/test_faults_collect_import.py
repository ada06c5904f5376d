"""Importing test modules under faults: whatever a module raises at import (``sys.exit()``,
a ``BaseException``, an exception that cannot be printed) is one collection error and
nothing runs; and a test file named like a standard or installed module never takes its
place, with threads or processes.

The runs are independent, so a module fixture starts them all at once and each test checks
one of them.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from threaded_order_cli.testing import RunResult

from ._support import assert_error, counts, mtrun, write

# Writes a marker when it runs: a run that must run nothing never creates it.
OK = """
    from pathlib import Path
    from threaded_order import dmark

    @dmark()
    def test_ok():
        Path("ran.marker").write_text("ran")
"""

BROKEN = {
    "exit_none": "import sys\nsys.exit()\n",
    "exit_zero": "import sys\nsys.exit(0)\n",
    "exit_three": "raise SystemExit(3)\n",
    "exit_text": "import sys\nsys.exit('bye')\n",
    "base_exception": "class Boom(BaseException):\n    pass\n\nraise Boom('went off')\n",
    "generator_exit": "raise GeneratorExit('closing')\n",
    "unprintable": ("class Evil(Exception):\n    def __str__(self):\n"
                    "        raise RuntimeError('no text for you')\n\nraise Evil()\n"),
    "unprintable_exit": ("class Evil(Exception):\n    def __str__(self):\n"
                         "        raise SystemExit(9)\n\nraise Evil()\n"),
    "helper_exits": "import exiting_helper\n",
}
# name: the one error line's tail, after "<file>: "
EXPECTED = {
    "exit_none": "error while importing: sys.exit() was called",
    "exit_zero": "error while importing: sys.exit(0) was called",
    "exit_three": "error while importing: sys.exit(3) was called",
    "exit_text": "error while importing: sys.exit('bye') was called",
    "base_exception": "error while importing: Boom: went off",
    "generator_exit": "error while importing: GeneratorExit: closing",
    "unprintable": "error while importing: Evil: <unprintable Evil>",
    "unprintable_exit": "error while importing: Evil: <unprintable Evil>",
    "helper_exits": "error while importing: sys.exit(2) was called",
}

TASKS = """
    import asyncio
    import sys

    from threaded_order import dmark

    import helpers


    @dmark()
    async def test_async():
        await asyncio.sleep(0)
        return helpers.VALUE


    @dmark()
    def test_standard_modules_are_real():
        import json
        import logging
        import pickle
        import queue
        assert json.dumps({"a": 1}) == '{"a": 1}'
        assert logging.getLogger("x").name == "x"
        assert pickle.loads(pickle.dumps([1])) == [1]
        assert queue.Queue().empty()
        assert sys.modules["json"] is json and json.__file__.endswith("__init__.py")
"""

# Named like the standard library, an installed package mtrun has imported (pluggy), and
# one it has not (rich); "import rich" inside rich.py must find the installed one.
SHADOWS = {
    "logging.py": TASKS,
    "json.py": TASKS,
    "pickle.py": TASKS,
    "queue.py": TASKS,
    "pluggy.py": TASKS + """

    @dmark()
    def test_pluggy_is_the_package():
        import pluggy
        assert hasattr(pluggy, "PluginManager")
""",
    "rich.py": TASKS + """

    from rich.text import Text  # the installed package, not this file


    @dmark()
    def test_rich_is_the_package():
        assert Text("x").plain == "x"
""",
    "helpers.py": "VALUE = 42\n",
}
HAS_RICH = importlib.util.find_spec("rich") is not None

# An editable install whose finder comes before the file system's (as meson-python's does)
# serves "edpkg": the test file edpkg.py must not take that name.
EDITABLE_FINDER = """
    import importlib.abc
    import importlib.util
    import sys


    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name == "edpkg":
                return importlib.util.spec_from_loader(name, self, origin="editable")
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            module.REAL = True


    sys.meta_path.insert(0, Finder())
"""
EDITABLE_TEST = """
    from threaded_order import dmark

    @dmark()
    def test_editable_package_is_real():
        import edpkg
        assert getattr(edpkg, "REAL", False), edpkg
"""

# A module-level object whose attribute lookups raise (a lazy proxy gone wrong).
HOSTILE_OBJECT = """
    from threaded_order import dmark

    class Hostile:
        def __getattr__(self, name):
            raise RuntimeError("no attributes here")

    thing = Hostile()

    @dmark()
    def test_a():
        pass
"""


def _script(*args: str, cwd: Path) -> RunResult:
    """The ``mtrun`` script, which (unlike ``python -m``) does not put the current folder
    first on sys.path, where Python itself would import a logging.py before mtrun starts."""
    return mtrun(*args, cwd=cwd, script=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    jobs = {}
    for name, source in BROKEN.items():
        folder = tmp_path_factory.mktemp(name)
        write(folder, "test_ok.py", OK)
        write(folder, f"test_{name}.py", source)
        write(folder, "exiting_helper.py", "import sys\nsys.exit(2)\n")
        jobs[name] = (mtrun, ("test_ok.py", f"test_{name}.py", "--workers", "1"), folder)
    shadows = tmp_path_factory.mktemp("shadows")
    for name, source in SHADOWS.items():
        write(shadows, name, source)
    for name in ("logging.py", "pickle.py", "queue.py"):
        jobs[f"alone {name}"] = (_script, (name, "--log"), shadows)
    targets = [n for n in SHADOWS if n != "helpers.py" and (HAS_RICH or n != "rich.py")]
    jobs["all threads"] = (_script, (*targets, "--log"), shadows)
    jobs["all processes"] = (_script, (*targets, "--log", "--executor", "processes",
                                       "--workers", "2"), shadows)
    editable = tmp_path_factory.mktemp("editable")
    write(editable, "edpkg.py", EDITABLE_TEST)
    write(editable, "plugins/editable_finder.py", EDITABLE_FINDER)
    jobs["editable"] = (functools.partial(mtrun, pythonpath=editable / "plugins"),
                        ("edpkg.py", "-p", "editable_finder"), editable)
    hostile = tmp_path_factory.mktemp("hostile")
    write(hostile, "test_hostile.py", HOSTILE_OBJECT)
    jobs["hostile object"] = (mtrun, ("test_hostile.py", "--collect-only"), hostile)
    same = tmp_path_factory.mktemp("same_stem")
    for sub in ("a", "b"):
        write(same, f"{sub}/test_x.py", "from threaded_order import dmark\n\n"
                                         f"@dmark()\ndef test_{sub}():\n    return '{sub}'\n")
    jobs["same stem processes"] = (mtrun, ("a", "b", "--log", "--executor", "processes",
                                           "--workers", "2"), same)
    with ThreadPoolExecutor(4) as pool:
        futures = {name: (pool.submit(run, *args, cwd=cwd), cwd)
                   for name, (run, args, cwd) in jobs.items()}
        return {name: (future.result(), cwd) for name, (future, cwd) in futures.items()}


@pytest.mark.parametrize("case", list(BROKEN))
def test_anything_raised_at_import_is_one_collection_error_and_nothing_runs(runs, case):
    result, folder = runs[case]
    assert_error(result, 2, f"test_{case}.py: {EXPECTED[case]}")
    assert not (folder / "ran.marker").exists(), "a task ran after a broken import"
    assert "passed" not in result.stdout


@pytest.mark.parametrize("name", ["logging.py", "pickle.py", "queue.py"])
def test_a_module_named_like_the_standard_library_runs_under_its_bare_names(runs, name):
    result, _ = runs[f"alone {name}"]
    assert result.ret == 0, result.stdout + result.stderr
    names = re.findall(r"^\[thread_\d\] (\S+) \.+ PASSED", result.stdout, re.M)
    assert sorted(names) == ["test_async", "test_standard_modules_are_real"]
    assert counts(result) == (2, 0, 0)


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_shadow_named_modules_together_keep_relpath_names(runs, executor):
    result, _ = runs[f"all {executor}"]
    assert result.ret == 0, result.stdout + result.stderr
    names = set(re.findall(r"^\[thread_\d\] (\S+) \.+ PASSED", result.stdout, re.M))
    assert {"logging.py::test_async", "json.py::test_standard_modules_are_real",
            "pickle.py::test_async", "pluggy.py::test_pluggy_is_the_package"} <= names
    if HAS_RICH:
        assert "rich.py::test_rich_is_the_package" in names
    modules = len(SHADOWS) - 1 - (not HAS_RICH)
    assert counts(result) == (2 * modules + 1 + HAS_RICH, 0, 0)


def test_a_module_named_like_an_editable_install_leaves_it_alone(runs):
    result, _ = runs["editable"]
    assert result.ret == 0, result.stdout + result.stderr
    assert counts(result) == (1, 0, 0)


def test_two_test_files_of_one_name_run_in_processes(runs):
    result, _ = runs["same stem processes"]
    assert result.ret == 0, result.stdout + result.stderr
    names = re.findall(r"^\[thread_\d\] (\S+) \.+ PASSED", result.stdout, re.M)
    assert sorted(names) == ["a/test_x.py::test_a", "b/test_x.py::test_b"]


def test_a_module_object_whose_attributes_raise_is_no_internal_error(runs):
    """Reading a module's tasks looks at every module-level object: one whose attribute
    lookup raises is not a task, and is passed over, as pytest's safe_getattr does."""
    result, _ = runs["hostile object"]
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines()[0] == "test_a"
