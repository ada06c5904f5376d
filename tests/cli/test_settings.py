"""Plugins' settings (``threaded_order_cli_addini``): from ``-o NAME=VALUE``, else the
configuration file, else the default; every mistake refused in one line before the run.
And ``config.run_id``: one per run."""

from __future__ import annotations

import json

from ._support import assert_error, mtrun, write

PLUGIN = """
    import json
    from threaded_order import hookimpl

    @hookimpl
    def threaded_order_cli_addini(add_ini):
        add_ini("greeting", "how to greet", default="hello", choices=("hello", "hi"))
        add_ini("loud", "shout it", default=False)
        add_ini("times", "how often", default=1)
        add_ini("names", "who", default=[])

    @hookimpl
    def threaded_order_cli_configure(config):
        values = {k: config.getini(k) for k in ("greeting", "loud", "times", "names")}
        print("SETTINGS " + json.dumps(values, sort_keys=True))
        print("RUN_ID " + config.run_id)
"""
TEST = """
    from threaded_order import dmark

    @dmark()
    def test_one():
        pass
"""


def _project(tmp_path, table=""):
    write(tmp_path, "greeter.py", PLUGIN)
    write(tmp_path, "test_one.py", TEST)
    write(tmp_path, "pyproject.toml", "[tool.mtrun]\n" + table)
    return tmp_path


def _settings(result):
    assert result.ret == 0, result.stderr + result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith("SETTINGS "))
    return json.loads(line[len("SETTINGS "):])


def _run(tmp_path, *args):
    return mtrun("-p", "greeter", *args, "test_one.py", cwd=tmp_path, pythonpath=tmp_path)


def test_defaults_without_file_or_option(tmp_path):
    got = _settings(_run(_project(tmp_path)))
    assert got == {"greeting": "hello", "loud": False, "times": 1, "names": []}


def test_the_file_sets_and_the_command_line_wins(tmp_path):
    _project(tmp_path, 'greeting = "hi"\nloud = true\ntimes = 3\nnames = ["a", "b"]\n')
    assert _settings(_run(tmp_path)) == {"greeting": "hi", "loud": True, "times": 3,
                                         "names": ["a", "b"]}
    got = _settings(_run(tmp_path, "-o", "greeting=hello", "--override-ini", "loud=no",
                         "-o", "times=5", "-o", "names=c d"))
    assert got == {"greeting": "hello", "loud": False, "times": 5, "names": ["c", "d"]}


def test_run_id_differs_between_runs(tmp_path):
    _project(tmp_path)
    ids = set()
    for _ in range(2):
        result = _run(tmp_path)
        assert result.ret == 0, result.stderr
        line = next(x for x in result.stdout.splitlines() if x.startswith("RUN_ID "))
        run_id = line.split()[1]
        assert len(run_id) == 32 and int(run_id, 16) >= 0
        ids.add(run_id)
    assert len(ids) == 2


def test_a_wrong_value_in_the_file_names_file_and_key(tmp_path):
    _project(tmp_path, 'greeting = "yo"\n')
    assert_error(_run(tmp_path), 4, "pyproject.toml: [tool.mtrun]: greeting",
                 "want one of hello, hi", "'yo'")


def test_a_wrong_type_in_the_file(tmp_path):
    _project(tmp_path, 'loud = "maybe"\n')
    assert_error(_run(tmp_path), 4, "[tool.mtrun]: loud", "want true or false")
    _project(tmp_path, "times = 1.5\n")
    assert_error(_run(tmp_path), 4, "[tool.mtrun]: times", "want an integer")


def test_an_unknown_key_suggests_a_plugins_setting(tmp_path):
    _project(tmp_path, 'greting = "hi"\n')
    assert_error(_run(tmp_path), 4, "unknown key 'greting'", "did you mean 'greeting'")


def test_an_unknown_key_is_refused_without_the_plugin(tmp_path):
    _project(tmp_path, 'greeting = "hi"\n')
    result = mtrun("test_one.py", cwd=tmp_path)
    assert_error(result, 4, "unknown key 'greeting'")


def test_override_mistakes_are_one_line(tmp_path):
    _project(tmp_path)
    assert_error(_run(tmp_path, "-o", "greeting"), 4, "-o greeting: want NAME=VALUE")
    assert_error(_run(tmp_path, "-o", "greting=hi"), 4, "unknown setting 'greting'",
                 "did you mean 'greeting'")
    assert_error(_run(tmp_path, "-o", "times=many"), 4, "-o times=many: want an integer")
    assert_error(_run(tmp_path, "-o", "workers=2"), 4, "-o workers=2",
                 "mtrun's own option")
    result = mtrun("-o", "greeting=hi", "test_one.py", cwd=tmp_path)
    assert_error(result, 4, "unknown setting 'greeting'", "no plugin declares a setting")


def test_show_config_lists_the_settings(tmp_path):
    _project(tmp_path, "times = 2\n")
    result = _run(tmp_path, "--show-config")
    assert result.ret == 0, result.stderr
    assert "times = 2" in result.stdout.splitlines()
    assert "greeting = 'hello'" in result.stdout.splitlines()


def test_a_plugin_that_declares_a_core_key_is_a_plugin_error(tmp_path):
    write(tmp_path, "bad.py", """
        from threaded_order import hookimpl

        @hookimpl
        def threaded_order_cli_addini(add_ini):
            add_ini("workers", "clash", default=1)
    """)
    write(tmp_path, "test_one.py", TEST)
    result = mtrun("-p", "bad", "test_one.py", cwd=tmp_path, pythonpath=tmp_path)
    assert result.ret == 3, result.stderr
    assert "the setting 'workers': it is mtrun's own key" in result.stderr
    assert "Traceback" not in result.stderr
