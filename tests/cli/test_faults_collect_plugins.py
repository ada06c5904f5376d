"""Plugin discovery under hostile input: a ``*.dist-info`` folder in an untrusted checkout
is not loaded by ``python -m threaded_order_cli`` run there, and a plugin that cannot be
loaded is one warning line, whatever its exception says.

The runs are independent, so a module fixture starts them all at once and each test checks
one of them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ._support import counts, mtrun, write

# A real plugin distribution as an installer leaves it: metadata, entry point, module.
# Its module leaves a marker file when it is imported, which is all an attacker needs.
PLUGIN_MODULE = """
    from pathlib import Path

    Path(__file__).with_name("plugin_ran.marker").write_text("imported")

    def threaded_order_cli_report_header():
        return "evil plugin loaded"
"""
TEST = """
    from threaded_order import dmark

    import helpers

    @dmark()
    def test_ok():
        assert helpers.VALUE == 42
"""
# name: source of a plugin module that cannot be loaded
BROKEN_PLUGINS = {
    "multiline": "raise RuntimeError('line one\\nline two\\n\\nline four')\n",
    "exits": "import sys\nsys.exit(3)\n",
    "unprintable": ("class Evil(Exception):\n    def __str__(self):\n"
                    "        raise SystemExit(9)\n\nraise Evil()\n"),
}


def distribution(folder: Path, name: str, module: str, source: str) -> None:
    write(folder, f"{name}-1.0.dist-info/METADATA",
          f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    write(folder, f"{name}-1.0.dist-info/entry_points.txt",
          f"[threaded_order]\n{name} = {module}\n")
    write(folder, f"{module}.py", source)


def checkout(folder: Path) -> Path:
    """An untrusted checkout: tests, a helper, and a plugin distribution at its top."""
    folder.mkdir()
    distribution(folder, "evil", "evil_plugin", PLUGIN_MODULE)
    write(folder, "test_ok.py", TEST)
    write(folder, "helpers.py", "VALUE = 42\n")
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("plugins")
    jobs = {}
    for case, args in (("run", ["test_ok.py"]), ("list", ["--plugins"]),
                       ("version", ["--version"])):
        folder = checkout(base / case)
        jobs[case] = (args, folder, {})
    named = checkout(base / "named")  # the user put the folder on the path: a plugin
    jobs["named"] = (["test_ok.py"], named, {"PYTHONPATH": os.pathsep.join(
        p for p in (str(named), os.environ.get("PYTHONPATH", "")) if p)})
    broken = base / "broken"
    for name, source in BROKEN_PLUGINS.items():
        distribution(broken / "site", name, f"{name}_plugin", source)
    write(broken, "test_ok.py", TEST)
    write(broken, "helpers.py", "VALUE = 42\n")
    jobs["broken"] = (["test_ok.py"], broken, {"PYTHONPATH": os.pathsep.join(
        p for p in (str(broken / "site"), os.environ.get("PYTHONPATH", "")) if p)})
    with ThreadPoolExecutor(4) as pool:
        futures = {case: (pool.submit(mtrun, *args, cwd=cwd, env=env, autoload=True), cwd)
                   for case, (args, cwd, env) in jobs.items()}
        return {case: (future.result(), cwd) for case, (future, cwd) in futures.items()}


@pytest.mark.parametrize("case", ["run", "list", "version"])
def test_python_m_does_not_load_plugins_from_the_current_folder(runs, case):
    result, folder = runs[case]
    assert result.ret == 0, result.stdout + result.stderr
    assert not (folder / "plugin_ran.marker").exists(), "the checkout's plugin was imported"
    assert "evil" not in result.stdout
    if case == "run":
        assert counts(result) == (1, 0, 0)  # the test and its sibling import still work


def test_a_folder_named_in_pythonpath_still_gives_its_plugins(runs):
    result, folder = runs["named"]
    assert result.ret == 0, result.stdout + result.stderr
    assert (folder / "plugin_ran.marker").exists()
    assert "evil plugin loaded" in result.stdout


@pytest.mark.parametrize("name", list(BROKEN_PLUGINS))
def test_a_plugin_that_cannot_load_is_one_warning_line(runs, name):
    result, _ = runs["broken"]
    assert result.ret == 0, result.stdout + result.stderr
    assert counts(result) == (1, 0, 0)
    lines = [line for line in result.stderr.splitlines() if f"'{name}'" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"mtrun: warning: plugin '{name}' ({name} 1.0) could not be "
                               "loaded: "), lines[0]
    assert all(line.startswith("mtrun: warning: ") for line in result.stderr.splitlines()), \
        result.stderr
    if name == "multiline":
        assert lines[0].endswith("RuntimeError: line one line two line four"), lines[0]
    if name == "unprintable":
        assert lines[0].endswith("Evil: <unprintable Evil>"), lines[0]
