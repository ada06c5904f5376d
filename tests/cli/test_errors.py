"""Every error is one line on stderr starting "mtrun: error:", with exit code 4 (usage) or
5 (nothing collected), and no traceback unless --verbose. Exit code 3 for internal errors.

The runs are independent, so a module fixture starts them all at once (2 cores, ~0.4 s each)
and each test checks one of them.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from ._support import assert_error, mtrun, write

FILES = {
    "good.py": """
        from threaded_order import dmark, tag

        @dmark()
        @tag("api")
        def test_a():
            pass

        @dmark(after="test_a")
        def test_b():
            pass
    """,
    "syn.py": """
        from threaded_order import dmark

        @dmark()
        def test_a(:
            pass
    """,
    "uses_broken_helper.py": "import broken_helper\n",
    "broken_helper.py": "x = 1\ndef f(:\n",
    "imports_missing.py": "import no_such_module_xyz\n",
    "nothing_marked.py": "def test_plain():\n    pass\n",
    "unknown_dep.py": """
        from threaded_order import dmark

        @dmark(after=["test_missing"])
        def test_b():
            pass
    """,
    "cycle.py": """
        from threaded_order import dmark

        @dmark(after="test_b")
        def test_a():
            pass

        @dmark(after="test_a")
        def test_b():
            pass
    """,
    "setup_fails.py": """
        from threaded_order import dmark

        def setup_state(state):
            raise RuntimeError("no database")

        @dmark()
        def test_a():
            pass
    """,
    "multiline.py": 'raise ValueError("first line\\nsecond line")\n',
    "plugins/strict_broken.py": """
        def threaded_order_cli_report_header():
            raise RuntimeError("header broke")
    """,
    "plugins/misspelled.py": "def threaded_order_cli_report_headr():\n    return 'x'\n",
    "plugins/raises_on_import.py": "raise RuntimeError('plugin import broke')\n",
    "plugins/wrong_arguments.py": "def threaded_order_cli_report_header(cfg):\n    return 'x'\n",
}

# name: (arguments, extra env, exit code, fragments of the one error line)
CASES = {
    "missing file": (["missing.py"], {}, 4, ["file or folder not found: missing.py"]),
    "syntax error": (["syn.py"], {}, 2, ["syn.py:4: SyntaxError"]),
    "syntax error in an imported helper": (
        ["uses_broken_helper.py"], {}, 2,
        ["uses_broken_helper.py: error while importing: SyntaxError", "broken_helper.py, line 2"]),
    "import error": (["imports_missing.py"], {}, 2,
                     ["imports_missing.py", "No module named 'no_such_module_xyz'"]),
    "multi-line exception message": (["multiline.py"], {}, 2,
                                     ["ValueError: first line second line"]),
    "no marked functions": (["nothing_marked.py"], {}, 5, ["no tasks collected", "@dmark"]),
    "empty folder": (["empty"], {}, 5, ["no tasks collected from empty"]),
    "::name on a folder": (["empty::test_a"], {}, 4, ["is a folder; '::test_a' needs a file"]),
    "'::' without a name": (["good.py::"], {}, 4, ["'good.py::' has '::' but no function name"]),
    "not a Python file": (["notes.txt"], {}, 2, ["notes.txt: cannot be imported"]),
    "::name not found": (["good.py::test_nope"], {}, 4, ["not found: good.py::test_nope"]),
    "unknown dependency": (["unknown_dep.py"], {}, 2,
                           ["unknown_dep.py: task 'test_b' depends on unknown 'test_missing'"]),
    "cycle": (["cycle.py"], {}, 2, [re.compile(
        r"dependency cycle: (test_a -> test_b -> test_a|test_b -> test_a -> test_b)$")]),
    "setup_state raising": (["setup_fails.py"], {}, 4,
                            ["setup_fails.py: setup_state() failed: RuntimeError: no database"]),
    "workers zero": (["good.py", "--workers", "0"], {}, 4, ["--workers must be >= 1, got 0"]),
    "workers negative": (["good.py", "--workers=-3"], {}, 4, ["--workers must be >= 1"]),
    "workers not a number": (["good.py", "--workers", "many"], {}, 4, ["--workers", "many"]),
    "maxfail zero": (["good.py", "--maxfail", "0"], {}, 4, ["--maxfail"]),
    "malformed reporter": (["good.py", "--reporter", ",bad"], {}, 4,
                           ["--reporter ',bad': expected NAME or NAME=DEST"]),
    "unknown reporter": (["good.py", "--reporter", "nope"], {}, 4,
                         ["--reporter nope: unknown reporter (available: none installed)"]),
    "malformed tags": (["good.py", "--tags", "api and"], {}, 4, ["--tags 'api and'"]),
    "unbalanced tags": (["good.py", "--tags", "(api"], {}, 4, ["missing ')'"]),
    "tags deselect everything": (["good.py", "--tags", "nope"], {}, 5,
                                 ["no tasks match --tags 'nope'"]),
    "unknown option": (["good.py", "--frobnicate"], {}, 4, ["no such option: --frobnicate"]),
    "unknown short option": (["good.py", "-j"], {}, 4, ["no such option: -j"]),
    "no target": (["--workers", "2"], {}, 5, ["no tasks collected from"]),
    "state file missing": (["good.py", "--state-file", "missing.json"], {}, 4,
                           ["--state-file: file not found: missing.json"]),
    "state file unreadable": (["good.py", "--state-file", "good.py/state.json"], {}, 4,
                              ["--state-file good.py/state.json: cannot read it"]),
    "state file invalid JSON": (["good.py", "--state-file", "bad.json"], {}, 4,
                                ["--state-file bad.json: not valid JSON"]),
    "state file not an object": (["good.py", "--state-file", "list.json"], {}, 4,
                                 ["must hold a JSON object"]),
    "state file private key": (["good.py", "--state-file", "private.json"], {}, 4,
                               ["keys starting with '_' are reserved: _secret"]),
    "state file results not an object": (["good.py", "--state-file", "results.json"], {}, 4,
                                         ["'results' must be a JSON object"]),
    "private state pair": (["good.py", "--_state_lock=1"], {}, 4,
                           ["--_state_lock: state keys starting with '_' are reserved"]),
    "results state pair": (["good.py", "--results=x"], {}, 4, ["--result-NAME=value"]),
    "plugin module missing": (["good.py", "-p", "no_such_plugin_xyz"], {}, 4,
                              ["-p no_such_plugin_xyz: cannot import plugin module"]),
    "plugin with a misspelled hook": (
        ["good.py", "-p", "misspelled"], {}, 4,
        ["plugin 'misspelled': unknown hook 'threaded_order_cli_report_headr'"]),
    "plugin raising on import": (["good.py", "-p", "raises_on_import"], {}, 4,
                                 ["-p raises_on_import: cannot load plugin: RuntimeError"]),
    "plugin hook with unknown arguments": (["good.py", "-p", "wrong_arguments"], {}, 4,
                                           ["-p wrong_arguments: cannot load plugin", "cfg"]),
    "internal error": (["good.py", "-p", "strict_broken"],
                       {"THREADED_ORDER_STRICT_PLUGINS": "1"}, 3,
                       ["internal error: RuntimeError: header broke"]),
}
VERBOSE = ["syn.py", "unknown_dep.py", "setup_fails.py", "missing.py"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors")
    for name, source in FILES.items():
        write(folder, name, source)
    (folder / "empty").mkdir()
    (folder / "notes.txt").write_text("not python\n")
    (folder / "bad.json").write_text("{not json")
    (folder / "list.json").write_text("[1, 2]")
    (folder / "private.json").write_text(json.dumps({"ok": 1, "_secret": 2}))
    (folder / "results.json").write_text(json.dumps({"results": "x"}))
    jobs = {name: (args, env) for name, (args, env, _, _) in CASES.items()}
    jobs.update({f"--verbose {target}": ([target, "--verbose"], {}) for target in VERBOSE})
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(mtrun, *args, cwd=folder, env=env,
                                     pythonpath=folder / "plugins")
                   for name, (args, env) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_error(runs, case):
    _, _, code, fragments = CASES[case]
    assert_error(runs[case], code, *fragments)


@pytest.mark.parametrize("target", VERBOSE)
def test_verbose_adds_the_traceback(runs, target):
    result = runs[f"--verbose {target}"]
    assert result.ret == (2 if target in ("syn.py", "unknown_dep.py") else 4)  # collection: 2
    assert result.stderr.startswith("mtrun: error: ")
    assert "Traceback (most recent call last)" in result.stderr
