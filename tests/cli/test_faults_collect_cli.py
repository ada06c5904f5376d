"""Hostile input to the command line and to the terminal: ``--tags`` nested hundreds deep,
task names, messages and output full of escape sequences, and a folder walk that must not
enter ``build/``, ``dist/``, virtual environments or ``node_modules``.

The runs are independent, so a module fixture starts them all at once and each test checks
one of them.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from threaded_order_cli.collect import NORECURSEDIRS, Target, find_files

from ._support import ANSI, assert_error, counts, mtrun, write

TAGGED = """
    from threaded_order import dmark, tag

    @dmark()
    @tag("api")
    def test_api():
        pass

    @dmark()
    @tag("db")
    def test_db():
        pass
"""
DEEP = 500
# expression: the tasks it selects, or None for a one-line usage error
TAG_CASES = {
    "parentheses": ("(" * DEEP + "api" + ")" * DEEP, ["test_api"]),
    "nots": ("not " * DEEP + "api", ["test_api"]),
    "nots odd": ("not " * (DEEP + 1) + "api", ["test_db"]),
    "mixed": ("(not " * (DEEP + 1) + "db" + ")" * (DEEP + 1), ["test_api"]),
    "long chain": (" or ".join(["nope"] * DEEP + ["db"]), ["test_db"]),
    "unclosed": ("(" * DEEP + "api", None),
    "dangling": ("(" * DEEP + "api" + ")" * DEEP + " and", None),
}

# The name, message, output and dependency of this task carry a clear-screen sequence and
# a carriage return; none of them may reach the terminal as control characters.
EVIL = r"""
    from threaded_order import dmark

    def body():
        print("out\x1b[2J\rput")
        print("second line")
        raise AssertionError("message \x1b[2J\rhidden")

    body.__name__ = "test_evil\x1b[2J\r"
    globals()["test_evil"] = dmark()(body)

    @dmark(after="test_evil\x1b[2J\r")
    def test_dependent():
        pass
"""
EVIL_IMPORT = r"""raise RuntimeError("import \x1b[2J\rfailed")"""
SHOWN_NAME = r"test_evil\x1b[2J\r"

# Folders a walk from the top must not enter; each holds a test file that must not be
# imported (it raises), plus one that must be found.
STRAY = "raise RuntimeError('this folder must not be searched')\n"
SKIPPED_FOLDERS = ["build", "dist", "node_modules", "venv", ".venv", ".tox", "pkg.egg-info",
                   "pkg.egg", "_darcs", "CVS", "{arch}", "some_env", "__pycache__"]
FOUND = "from threaded_order import dmark\n\n@dmark()\ndef test_found():\n    pass\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    write(folder, "test_tags.py", TAGGED)
    write(folder, "test_evil.py", EVIL)
    write(folder, "test_evil_import.py", EVIL_IMPORT)
    tree = folder / "tree"
    write(tree, "tests/test_found.py", FOUND)
    for name in SKIPPED_FOLDERS:
        if name != "build":  # build/ holds what an explicit "mtrun build" must find
            write(tree, f"{name}/test_stray.py", STRAY)
        write(tree, f"tests/{name}/deeper/test_stray.py", STRAY)
        write(tree, f"build/{name}/test_stray.py", STRAY)
    write(tree, "some_env/pyvenv.cfg", "home = /usr/bin\n")
    write(tree, "tests/some_env/pyvenv.cfg", "home = /usr/bin\n")
    write(tree, "build/some_env/pyvenv.cfg", "home = /usr/bin\n")
    write(tree, "build/test_built.py", FOUND.replace("test_found", "test_built"))
    jobs = {f"tags {name}": ("test_tags.py", "--collect-only", "--tags", expression)
            for name, (expression, _) in TAG_CASES.items()}
    jobs.update({
        "evil colour": ("test_evil.py", "--skip-deps", "--color", "yes"),
        "evil plain": ("test_evil.py", "--skip-deps", "--color", "no", "-rfEs"),
        "evil log": ("test_evil.py", "--skip-deps", "--log", "--color", "no"),
        "evil collect": ("test_evil.py", "--collect-only"),
        "evil graph": ("test_evil.py", "--graph"),
        "evil import": ("test_evil_import.py",),
        "walk": (".", "--collect-only"),
        "walk explicit": ("build", "--collect-only"),
    })
    cwd = {"walk": tree, "walk explicit": tree}
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(mtrun, *args, cwd=cwd.get(name, folder))
                   for name, args in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(TAG_CASES))
def test_tags_nested_hundreds_deep_select_or_are_one_usage_error(runs, case):
    result = runs[f"tags {case}"]
    selected = TAG_CASES[case][1]
    if selected is None:
        assert_error(result, 4, "--tags '((((")
        return
    assert result.ret == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[:-2] == [f"{n}  tags: {n[5:]}" for n in selected]


def _no_control(text: str) -> None:
    bad = re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    assert not bad, f"control characters {bad!r} in:\n{text}"


@pytest.mark.parametrize("case", ["evil plain", "evil log", "evil collect", "evil graph"])
def test_control_characters_from_a_test_are_shown_not_sent(runs, case):
    result = runs[case]
    assert result.ret == (0 if case in ("evil collect", "evil graph") else 1), result.stderr
    _no_control(result.stdout)
    _no_control(result.stderr)
    assert SHOWN_NAME in result.stdout


def test_failure_sections_keep_their_lines_and_show_the_escapes(runs):
    out = runs["evil plain"].stdout
    assert f"FAILED {SHOWN_NAME} - AssertionError: message \\x1b[2J\\rhidden" in out
    assert f"SKIPPED test_dependent - dependency '{SHOWN_NAME}' failed" in out
    assert "\nout\\x1b[2J\\rput\nsecond line\n" in out  # newlines of the output stay
    assert re.search(rf"^_+ {re.escape(SHOWN_NAME)} _+$", out, re.M), out
    assert counts(runs["evil plain"]) == (0, 1, 1)


def test_only_mtrun_own_colours_reach_the_terminal(runs):
    result = runs["evil colour"]
    out = result.stdout
    assert "\x1b[31m" in out  # the colours are on
    _no_control(ANSI.sub("", out))
    assert f"FAILED {SHOWN_NAME}" in ANSI.sub("", out)


def test_log_lines_show_the_name_escaped(runs):
    out = runs["evil log"].stdout
    assert re.search(rf"^\[thread_\d\] {re.escape(SHOWN_NAME)} \.+ FAILED", out, re.M), out


def test_a_collection_error_message_is_one_line_without_control_characters(runs):
    line = assert_error(runs["evil import"], 2,
                        r"test_evil_import.py: error while importing: RuntimeError: "
                        r"import \x1b[2J\rfailed")
    _no_control(line)


def test_a_walk_skips_build_dist_venvs_node_modules_and_egg_info(runs):
    result = runs["walk"]
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines() == ["test_found", "", "1 task collected"]


def test_a_folder_given_as_target_is_walked_whatever_its_name(runs):
    result = runs["walk explicit"]
    assert result.ret == 0, result.stderr
    assert result.stdout.splitlines() == ["test_built", "", "1 task collected"]


def test_configuration_can_add_folders_not_to_search(tmp_path):
    """What a configuration file will pass: patterns on top of the defaults, not instead."""
    for name in ("fixtures", "build", "keep"):
        write(tmp_path, f"{name}/test_x.py", FOUND)
    found = find_files([Target(tmp_path, None)], norecursedirs=["fix*"])
    assert [p.parent.name for p, _ in found] == ["keep"]
    assert "build" in NORECURSEDIRS
