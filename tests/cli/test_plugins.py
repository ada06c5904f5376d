"""Plugins: the installed hello plugin, -p MODULE and -p no:NAME, CLI hooks adding options
and lines, hooks that raise, entry points found in distribution metadata, and reporters."""

from __future__ import annotations

import re
from importlib.metadata import version

import threaded_order
import threaded_order_cli

from ._support import assert_error, counts, mtrun, write

ONE_TASK = """
    from threaded_order import dmark

    @dmark()
    def test_one():
        pass
"""
HELLO = "hello from hello-plugin: 1 task ran"


def test_installed_hello_plugin_adds_its_line_and_no_hello_removes_it(tmp_path):
    write(tmp_path, "test_one.py", ONE_TASK)
    result = mtrun("test_one.py", cwd=tmp_path, autoload=True)
    assert result.ret == 0, result.stderr
    assert HELLO in result.stdout.splitlines()
    assert re.search(r"^plugins: .*\bhello-" + re.escape(version("hello-plugin")), result.stdout,
                     re.M)
    assert counts(result) == (1, 0, 0)
    blocked = mtrun("test_one.py", "-p", "no:hello", cwd=tmp_path, autoload=True)
    assert blocked.ret == 0, blocked.stderr
    assert "hello from hello-plugin" not in blocked.stdout
    assert counts(blocked) == (1, 0, 0)


def test_plugins_lists_distribution_version_and_blocked_state(tmp_path):
    result = mtrun("--plugins", "-p", "no:hello", cwd=tmp_path, autoload=True)
    assert result.ret == 0, result.stderr
    hello = re.escape(version("hello-plugin"))
    assert re.search(rf"^hello +hello-plugin {hello} \(blocked\)$", result.stdout, re.M)


def test_version_lists_mtrun_core_and_plugins(tmp_path):
    result = mtrun("--version", cwd=tmp_path, autoload=True)
    assert result.ret == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (f"mtrun {threaded_order_cli.__version__} "
                        f"(threaded-order {threaded_order.__version__})")
    assert f"  plugin hello: hello-plugin {version('hello-plugin')}" in lines


GREETING = """
    import sys

    def threaded_order_cli_addoption(add_option):
        add_option("--greeting", default="hi", help="What the greeting plugin says.")

    def threaded_order_cli_configure(config):
        sys.stderr.write(f"configure: greeting={config.getoption('greeting')}\\n")

    def threaded_order_cli_report_header(config):
        return f"greeting: {config.getoption('greeting')}"

    def threaded_order_cli_report_summary(config, exitcode):
        return [f"bye: {config.getoption('greeting')} (exit {exitcode})"]

    def threaded_order_cli_collection_error(path, message):
        sys.stderr.write(f"collection_error: {path}: {message}\\n")

    def threaded_order_cli_unconfigure(config, exitcode):
        sys.stderr.write(f"unconfigure: exit {exitcode}, {len(config.tasks)} tasks\\n")
"""


def greeting_run(tmp_path, *args):
    write(tmp_path, "plugins/greeting.py", GREETING)
    write(tmp_path, "test_one.py", ONE_TASK)
    return mtrun(*args, "-p", "greeting", cwd=tmp_path, pythonpath=tmp_path / "plugins")


def test_plugin_option_default_reaches_header_and_summary(tmp_path):
    result = greeting_run(tmp_path, "test_one.py")
    assert result.ret == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines.index("greeting: hi") < lines.index("collected 1 task")
    assert lines[-2] == "bye: hi (exit 0)"
    assert result.stderr.splitlines() == ["configure: greeting=hi", "unconfigure: exit 0, 1 tasks"]


def test_plugin_option_given_on_the_command_line(tmp_path):
    result = greeting_run(tmp_path, "test_one.py", "--greeting", "hello")
    assert result.ret == 0, result.stderr
    assert "greeting: hello" in result.stdout.splitlines()
    assert "bye: hello (exit 0)" in result.stdout.splitlines()


def test_plugin_option_in_help(tmp_path):
    result = greeting_run(tmp_path, "--help")
    assert result.ret == 0, result.stderr
    assert "--greeting" in result.stdout and "What the greeting plugin says." in result.stdout


def test_plugin_sees_collection_errors_and_the_exit_code(tmp_path):
    write(tmp_path, "syn.py", "from threaded_order import dmark\ndef broken(:\n")
    result = greeting_run(tmp_path, "syn.py")
    assert result.ret == 2  # an error in collection, as pytest
    lines = result.stderr.splitlines()
    assert "collection_error: syn.py:2: SyntaxError: invalid syntax" in lines
    assert "unconfigure: exit 2, 0 tasks" in lines
    assert [line for line in lines if line.startswith("mtrun: error:")] == [
        "mtrun: error: syn.py:2: SyntaxError: invalid syntax"]


RAISING = """
    def threaded_order_cli_configure():
        raise RuntimeError("configure broke")

    def threaded_order_cli_report_header():
        raise RuntimeError("header broke")

    def threaded_order_task_done(name):
        raise ValueError(f"task_done broke on {name}")

    def threaded_order_cli_report_summary():
        raise KeyError("summary broke")
"""


ODD_LINES = """
    def threaded_order_cli_report_header():
        return 42

    def threaded_order_cli_report_summary():
        return ("odd line 1", "odd line 2")
"""


def test_hooks_that_raise_are_one_line_each_and_the_run_completes(tmp_path):
    """Also the scheduler hook task_done, which runs while capture is on. A hook returning
    something other than a string or a list of them does not end the run either."""
    write(tmp_path, "plugins/raising.py", RAISING)
    write(tmp_path, "plugins/odd_lines.py", ODD_LINES)
    write(tmp_path, "test_two.py", """
        from threaded_order import dmark

        @dmark()
        def test_ok():
            pass

        @dmark(after="test_ok")
        def test_bad():
            raise AssertionError("bad")
    """)
    result = mtrun("test_two.py", "-p", "raising", "-p", "odd_lines", "--workers", "1",
                   cwd=tmp_path, pythonpath=tmp_path / "plugins")
    assert result.ret == 1
    assert "Traceback" not in result.stderr
    expected = [
        "plugin 'raising' failed in threaded_order_cli_configure: RuntimeError: configure broke",
        "plugin 'raising' failed in threaded_order_cli_report_header: RuntimeError: header broke",
        "plugin 'raising' failed in threaded_order_task_done: ValueError: task_done broke on "
        "test_ok",
        "plugin 'raising' failed in threaded_order_task_done: ValueError: task_done broke on "
        "test_bad",
        "plugin 'raising' failed in threaded_order_cli_report_summary: KeyError: 'summary broke'",
    ]
    assert [line.split(": ", 1)[1] for line in result.stderr.splitlines()] == expected
    assert sorted(re.findall(r"^ERROR (.*)$", result.stdout, re.M)) == sorted(expected)
    lines = result.stdout.splitlines()
    assert "42" in lines[:lines.index("collected 2 tasks")]
    assert lines[-3:-1] == ["odd line 1", "odd line 2"]
    assert counts(result) == (1, 1, 0)


def make_distribution(site, dist, name, module, source):
    """What pip leaves in site-packages: <dist>-1.0.dist-info with an entry point, and the
    module."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    write(info, "METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    write(info, "entry_points.txt", f"[threaded_order]\n{name} = {module}\n")
    write(site, f"{module}.py", source)


def entry_point_site(tmp_path):
    site = tmp_path / "site"
    make_distribution(site, "ep-demo-dist", "epdemo", "ep_demo_plugin", """
        def threaded_order_cli_report_header():
            return "epdemo was here"
    """)
    make_distribution(site, "ep-broken-dist", "epbroken", "ep_broken_plugin",
                      "import no_such_dependency_xyz\n")
    write(tmp_path, "test_one.py", ONE_TASK)
    return site


def warnings_about(stderr, name):
    return [line for line in stderr.splitlines() if f"'{name}'" in line]


def test_entry_point_plugin_from_distribution_metadata_is_listed(tmp_path):
    site = entry_point_site(tmp_path)
    result = mtrun("--plugins", cwd=tmp_path, autoload=True, pythonpath=site)
    assert result.ret == 0, result.stderr
    assert re.search(r"^epdemo +ep-demo-dist 1\.0 \(loaded\)$", result.stdout, re.M)
    assert re.search(r"^epbroken +ep-broken-dist 1\.0 \(not loaded\)$", result.stdout, re.M)


def test_entry_point_plugin_takes_effect_and_a_broken_one_only_warns(tmp_path):
    site = entry_point_site(tmp_path)
    result = mtrun("test_one.py", cwd=tmp_path, autoload=True, pythonpath=site)
    assert result.ret == 0, result.stderr
    assert "epdemo was here" in result.stdout.splitlines()
    assert re.search(r"^plugins: .*\bepdemo-1\.0\b", result.stdout, re.M)
    assert warnings_about(result.stderr, "epbroken") == [
        "mtrun: warning: plugin 'epbroken' (ep-broken-dist 1.0) could not be loaded: "
        "ModuleNotFoundError: No module named 'no_such_dependency_xyz'"]
    assert counts(result) == (1, 0, 0)
    blocked = mtrun("test_one.py", "-p", "no:epdemo", "-p", "no:epbroken", cwd=tmp_path,
                    autoload=True, pythonpath=site)
    assert blocked.ret == 0, blocked.stderr
    assert "epdemo was here" not in blocked.stdout
    assert warnings_about(blocked.stderr, "epbroken") == []


REPORTER = """
    from threaded_order_cli import ReporterError

    class PassedNames:
        def __init__(self, dest):
            self.dest = dest

        def threaded_order_scheduler_done(self, summary):
            with open(self.dest, "w") as out:
                out.write(",".join(summary["passed"]))

    def threaded_order_cli_reporters():
        return {"names": "the passed tasks' names (DEST: a file, required)"}

    def threaded_order_cli_make_reporter(name, dest):
        if name != "names":
            return None
        if not dest:
            raise ReporterError("--reporter names: give a file, as names=FILE")
        return PassedNames(dest)
"""


def reporter_run(tmp_path, *args):
    write(tmp_path, "plugins/names_reporter.py", REPORTER)
    write(tmp_path, "test_one.py", ONE_TASK)
    return mtrun(*args, "-p", "names_reporter", cwd=tmp_path, pythonpath=tmp_path / "plugins")


def test_reporter_is_repeatable_with_its_own_dest(tmp_path):
    result = reporter_run(tmp_path, "test_one.py", "--reporter", "names=first.txt",
                          "--reporter=names=second.txt")
    assert result.ret == 0, result.stderr
    assert (tmp_path / "first.txt").read_text() == "test_one"
    assert (tmp_path / "second.txt").read_text() == "test_one"


def test_unknown_reporter_lists_the_available_ones(tmp_path):
    result = reporter_run(tmp_path, "test_one.py", "--reporter", "nope")
    assert_error(result, 4, "--reporter nope: unknown reporter (available: names)")


def test_reporter_refusing_its_dest_is_one_line(tmp_path):
    result = reporter_run(tmp_path, "test_one.py", "--reporter", "names")
    assert_error(result, 4, "--reporter names: give a file, as names=FILE")


def test_the_cores_reporter_error_is_a_value_error_and_exit_4(tmp_path):
    """A reporter that needs only the core raises threaded_order.reporting.ReporterError."""
    write(tmp_path, "plugins/names_reporter.py", REPORTER.replace(
        "from threaded_order_cli import ReporterError",
        "from threaded_order.reporting import ReporterError\n"
        "    assert issubclass(ReporterError, ValueError)"))
    write(tmp_path, "test_one.py", ONE_TASK)
    result = mtrun("test_one.py", "--reporter", "names", "-p", "names_reporter", cwd=tmp_path,
                   pythonpath=tmp_path / "plugins")
    assert_error(result, 4, "--reporter names: give a file, as names=FILE")


def test_plugins_lists_the_reporters_on_offer(tmp_path):
    result = reporter_run(tmp_path, "--plugins")
    assert result.ret == 0, result.stderr
    assert re.search(r"^  names +the passed tasks' names", result.stdout, re.M)
