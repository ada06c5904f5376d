"""mtrun for a pytest user: the unknown-flag policy (a typo or a pytest option is refused,
never swallowed as state), ``--state KEY=VALUE``, and the pytest spellings mtrun supports."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xmlschema

from ._support import assert_error, counts, mtrun, write

JUNIT_XSD = Path(__file__).parent.parent / "reporters" / "data" / "junit-10.xsd"

SUITE = """
    import json
    from pathlib import Path
    from threaded_order import dmark

    def setup_state(state):
        shown = {k: v for k, v in state.items() if not k.startswith("_") and k != "results"}
        print("STATE " + json.dumps(shown, sort_keys=True))

    @dmark()
    def test_login():
        Path("ran").touch()

    @dmark(after=["test_login"])
    def test_api():
        assert 1 == 2, "nope"
"""

# name: (arguments, fragments of the one error line)
REFUSED = {
    "--worker=1": (["--worker=1"], ["--worker: no such option; did you mean --workers?",
                                    "--state worker=1"]),
    "--maxfails=1": (["--maxfails=1"], ["did you mean --maxfail?"]),
    "--retry=2": (["--retry=2"], ["did you mean --retries?"]),
    "--tag=api": (["--tag=api"], ["did you mean --tags?"]),
    "--junit-prefix=x": (["--junit-prefix=x"], ["--junit-prefix is a pytest option that "
                                                "mtrun does not support"]),
    "--import-mode=importlib": (["--import-mode=importlib"], ["--import-mode is a pytest "
                                                              "option"]),
    "--sw": (["--sw"], ["--sw is a pytest option", "use --lf"]),
    "-m slow": (["-m", "slow"], ["-m is a pytest option", "use --tags EXPR"]),
    "-n 4": (["-n", "4"], ["-n is a pytest option", "use --workers N"]),
    "--reruns=2": (["--reruns=2"], ["use --retries N"]),
    "--pdb": (["--pdb"], ["--pdb is a pytest option"]),
    "--state without =": (["--state", "worker"], ["--state 'worker': expected KEY=VALUE"]),
    "--state private": (["--state", "_x=1"], ["reserved"]),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refused")
    write(folder, "test_suite.py", SUITE)
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(mtrun, "test_suite.py", *args, cwd=folder)
                   for name, (args, _) in REFUSED.items()}
        results = {name: future.result() for name, future in futures.items()}
    assert not (folder / "ran").exists()  # nothing ran, whatever was refused
    return results


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_typo_or_a_pytest_option_is_refused_in_one_line(refused, case):
    assert_error(refused[case], 4, *REFUSED[case][1])


def test_state_passes_any_key_and_the_header_shows_keys_only(tmp_path):
    write(tmp_path, "test_suite.py", SUITE)
    result = mtrun("test_suite.py", "--state", "worker=1", "--state", "token=s3cr3t",
                   "--color=no", "--env=prod", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    state = json.loads(next(line for line in result.stdout.splitlines()
                            if line.startswith("STATE "))[6:])
    assert state == {"worker": "1", "token": "s3cr3t", "env": "prod"}
    assert "state keys: worker, token, env" in result.stdout
    assert "s3cr3t" not in result.stdout.replace("STATE " + json.dumps(state, sort_keys=True),
                                                 "")
    assert counts(result) == (1, 1, 0)


def test_junitxml_writes_valid_junit_and_creates_its_folder(tmp_path):
    """-p takes the plugin's entry-point name too; it is listed in the header."""
    write(tmp_path, "test_suite.py", SUITE)
    result = mtrun("--junitxml=out/j.xml", "-p", "junit", "test_suite.py", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    report = tmp_path / "out" / "j.xml"
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(report))
    text = report.read_text(encoding="utf-8")
    assert "test_login" in text and "nope" in text
    plugins = next(line for line in result.stdout.splitlines() if line.startswith("plugins:"))
    assert "junit" in plugins


def test_junitxml_without_the_junit_plugin_is_refused_before_the_run(tmp_path):
    write(tmp_path, "test_suite.py", SUITE)
    result = mtrun("--junitxml", "j.xml", "test_suite.py", cwd=tmp_path)
    assert_error(result, 4, "--reporter junit: unknown reporter")
    assert not (tmp_path / "ran").exists()


def test_p_module_plugins_are_listed_in_the_header(tmp_path):
    write(tmp_path, "test_suite.py", SUITE)
    write(tmp_path, "plugins/my_plugin.py", "X = 1\n")
    result = mtrun("-p", "my_plugin", "test_suite.py", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert "plugins: my_plugin" in result.stdout


@pytest.mark.parametrize("flag", ["--co", "--collect-only"])
def test_co_lists_the_tasks(tmp_path, flag):
    write(tmp_path, "test_suite.py", SUITE)
    result = mtrun(flag, "test_suite.py", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert "test_api  after: test_login" in result.stdout
    assert "2 tasks collected" in result.stdout
    assert not (tmp_path / "ran").exists()


def test_json_to_stdout_sends_everything_else_to_stderr(tmp_path):
    write(tmp_path, "test_suite.py", SUITE.replace("print(", "str("))  # setup_state's own
    result = mtrun("--reporter", "json=-", "-p", "json", "test_suite.py", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    document = json.loads(result.stdout)  # nothing but the report on stdout
    assert document["exitcode"] == 1
    assert "mtrun session starts" in result.stderr and "==== 1 passed, 1 failed" in result.stderr


@pytest.mark.parametrize("verbosity", [[], ["-v"]])
def test_structlog_to_stdout_leaves_stdout_to_its_lines(tmp_path, verbosity):
    """structlog on stdout claims the terminal; -v lines must still go to stderr."""
    write(tmp_path, "test_suite.py", SUITE.replace("print(", "str("))
    result = mtrun("--reporter", "structlog=-", "-p", "structlog", *verbosity, "test_suite.py",
                   cwd=tmp_path)
    assert result.ret == 1, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    tasks = {str(e.get("task")).rsplit("::", 1)[-1] for e in events}
    assert {"test_login", "test_api"} <= tasks
    assert "==== 1 passed, 1 failed" in result.stderr
