"""Configuration in ``[tool.mtrun]`` (pyproject.toml) or ``mtrun.toml``, the rootdir, and
task names relative to it: every key, and every mistake refused in one line."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ._support import assert_error, counts, mtrun, write

API = """
    from threaded_order import dmark

    @dmark()
    def test_login():
        pass

    @dmark(after=["test_login"])
    def test_api():
        pass
"""
OTHER = """
    from threaded_order import dmark

    @dmark(after=["tests/test_api.py::test_login"])
    def test_other():
        pass
"""
SHOW_STATE = """
    import json
    from threaded_order import dmark

    def setup_state(state):
        shown = {k: v for k, v in state.items() if not k.startswith("_") and k != "results"}
        print("STATE " + json.dumps(shown, sort_keys=True))

    @dmark()
    def test_state():
        pass
"""

FLAKY = """
    from pathlib import Path
    from threaded_order import dmark

    @dmark()
    def test_flaky():
        marker = Path("failed_once")
        if not marker.exists():
            marker.touch()
            raise RuntimeError("first attempt")
"""


def project(tmp_path, config: str = "", name: str = "pyproject.toml"):
    write(tmp_path, "tests/test_api.py", API)
    write(tmp_path, "tests/test_other.py", OTHER)
    write(tmp_path, name, config)
    return tmp_path


def state_of(stdout: str) -> dict:
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("STATE "))[6:])


def test_cross_file_names_are_relative_to_the_rootdir_from_any_folder(tmp_path):
    """``cd tests && mtrun .`` runs what ``mtrun tests`` runs from the project root."""
    project(tmp_path, "[project]\nname = 'x'\n")
    from_root = mtrun("tests", cwd=tmp_path)
    from_tests = mtrun(".", cwd=tmp_path / "tests")
    for result in (from_root, from_tests):
        assert result.ret == 0, result.stderr
        assert counts(result) == (3, 0, 0)
        assert f"rootdir: {tmp_path}" in result.stdout
    assert "configfile" not in from_root.stdout  # a pyproject.toml without [tool.mtrun]


@pytest.mark.parametrize("marker", [".git", "mtrun.toml"])
def test_git_and_mtrun_toml_mark_the_rootdir_too(tmp_path, marker):
    write(tmp_path, "tests/test_api.py", API)
    write(tmp_path, "tests/test_other.py", OTHER)
    (tmp_path / marker).mkdir() if marker == ".git" else write(tmp_path, marker, "")
    result = mtrun(".", cwd=tmp_path / "tests")
    assert result.ret == 0, result.stderr
    assert counts(result) == (3, 0, 0)


def test_rootdir_option_overrides_discovery(tmp_path):
    project(tmp_path, "[tool.mtrun]\n")
    write(tmp_path, "tests/mtrun.toml", "")  # nearer: would make tests/ the rootdir
    result = mtrun(".", "--rootdir", "..", cwd=tmp_path / "tests")
    assert result.ret == 0, result.stderr
    assert f"rootdir: {tmp_path}\n" in result.stdout
    assert_error(mtrun(".", "--rootdir=nowhere", cwd=tmp_path), 4, "--rootdir nowhere: not a "
                                                                  "folder")


def test_no_target_runs_testpaths_or_the_rootdir(tmp_path):
    project(tmp_path, '[tool.mtrun]\ntestpaths = ["tests/test_api.py"]\n')
    write(tmp_path, "sub/test_sub.py", API)
    result = mtrun(cwd=tmp_path / "sub")
    assert counts(result) == (2, 0, 0), result.stderr
    write(tmp_path, "pyproject.toml", "[tool.mtrun]\n")
    result = mtrun(cwd=tmp_path / "tests")
    assert counts(result) == (5, 0, 0), result.stderr  # tests/ and sub/


def test_every_key_sets_its_option(tmp_path):
    project(tmp_path, """
        [tool.mtrun]
        addopts = "-rA --tb=no"
        testpaths = ["tests"]
        norecursedirs = ["skipme"]
        workers = 1
        reporters = ["junit=reports/junit.xml"]
        timeout = 30
        retries = 2
        limits = { db = 1 }
        state = { env = "ci", level = 3 }
    """)
    write(tmp_path, "tests/skipme/test_skipped.py", "raise SystemExit('collected')\n")
    write(tmp_path, "tests/test_state.py", SHOW_STATE)
    write(tmp_path, "tests/test_flaky.py", FLAKY)
    result = mtrun("-p", "junit", "--state", "env=local", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert counts(result) == (5, 0, 0)
    assert "FLAKY tests/test_flaky.py::test_flaky - passed on attempt 2" in result.stdout
    assert "workers: 1" in result.stdout and "configfile: pyproject.toml" in result.stdout
    assert "PASSED tests/test_api.py::test_login" in result.stdout  # -rA from addopts
    assert (tmp_path / "reports" / "junit.xml").exists()
    assert state_of(result.stdout) == {"env": "local", "level": 3}  # the command line wins
    shown = mtrun("--show-config", cwd=tmp_path)
    assert shown.ret == 0, shown.stderr
    assert "configfile: pyproject.toml" in shown.stdout
    options = next(line for line in shown.stdout.splitlines() if line.startswith("options:"))
    for fragment in ("--workers 1", "--timeout 30", "--retries 2", "--limit db=1",
                     "--reporter junit=reports/junit.xml", "-rA --tb=no"):
        assert fragment in options
    assert "state keys: env, level" in shown.stdout


def test_the_command_line_wins_over_the_configuration(tmp_path):
    """The keys, then addopts, then the command line: the last one given wins."""
    project(tmp_path, "workers = 1\naddopts = ['--workers', '3']\n", name="mtrun.toml")
    result = mtrun("tests", cwd=tmp_path)
    assert "workers: 3" in result.stdout, result.stderr
    assert "configfile: mtrun.toml" in result.stdout
    result = mtrun("--workers", "2", "tests", cwd=tmp_path)
    assert "workers: 2" in result.stdout, result.stderr


def test_c_names_the_configuration_file(tmp_path):
    project(tmp_path, "[tool.mtrun]\nworkers = 1\n")
    write(tmp_path, "ci/mtrun.toml", "workers = 3\n")
    result = mtrun("-c", "ci/mtrun.toml", "--rootdir", ".", "tests", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert "workers: 3" in result.stdout
    assert_error(mtrun("-c", "missing.toml", "tests", cwd=tmp_path), 4,
                 "-c missing.toml: configuration file not found")


# name: (file, contents, fragments of the one error line)
BAD = {
    "unknown key": ("pyproject.toml", "[tool.mtrun]\nworker = 2\n",
                    ["pyproject.toml: [tool.mtrun]: unknown key 'worker'; did you mean "
                     "'workers'?"]),
    "unknown key, no suggestion": ("mtrun.toml", "colour_scheme = 1\n",
                                   ["mtrun.toml: unknown key 'colour_scheme' (known: addopts"]),
    "invalid TOML": ("mtrun.toml", "workers = = 2\n", ["mtrun.toml: not valid TOML"]),
    "workers not an integer": ("mtrun.toml", "workers = '2'\n", ["workers: want an integer"]),
    "timeout negative": ("mtrun.toml", "timeout = -1\n", ["timeout: want a number"]),
    "limits not a table": ("mtrun.toml", "limits = 2\n", ["limits: want a table"]),
    "limit zero": ("mtrun.toml", "limits = { db = 0 }\n", ["limits: db: want an integer"]),
    "reporters not strings": ("mtrun.toml", "reporters = [1]\n", ["reporters: want a list"]),
    "state reserved": ("mtrun.toml", "state = { _lock = 1 }\n", ["'_lock' is a reserved key"]),
    "addopts refused": ("mtrun.toml", "addopts = '--worker=1'\n",
                        ["did you mean --workers?"]),
    "tool.mtrun not a table": ("pyproject.toml", "[tool]\nmtrun = 1\n",
                               ["[tool.mtrun] must be a table"]),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    def run(name):
        folder = tmp_path_factory.mktemp("bad")
        write(folder, "test_api.py", API.replace("pass", "open('ran', 'w').close()"))
        write(folder, BAD[name][0], BAD[name][1])
        return mtrun("test_api.py", cwd=folder), folder

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(BAD, pool.map(run, BAD)))


@pytest.mark.parametrize("case", list(BAD))
def test_a_mistake_in_configuration_is_one_line(bad_runs, case):
    result, folder = bad_runs[case]
    assert_error(result, 4, *BAD[case][2])
    assert not (folder / "ran").exists()


def test_help_names_the_configuration_file(tmp_path):
    result = mtrun("--help", cwd=tmp_path)
    assert result.ret == 0
    assert "[tool.mtrun] in pyproject.toml, or mtrun.toml" in " ".join(result.stdout.split())
