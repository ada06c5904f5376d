"""--lf (with the dependencies the failures need), --lfnf, --ff and --nf."""

from __future__ import annotations

from ._support import assert_error, counts, mtrun, write

SUITE = """
    import os, pathlib
    from threaded_order import dmark

    def _ran(name):
        with open(pathlib.Path(__file__).with_name("ran.txt"), "a") as f:
            f.write(name + "\\n")

    @dmark()
    def test_setup():
        _ran("setup")

    @dmark(after=["test_setup"])
    def test_login():
        _ran("login")

    @dmark(after=["test_login"])
    def test_upload():
        _ran("upload")
        assert os.environ.get("FIXED") == "1", "broken"

    @dmark()
    def test_other():
        _ran("other")

    @dmark()
    def test_lonely():
        _ran("lonely")
        assert os.environ.get("FIXED") == "1", "broken too"
"""


def _project(tmp_path, source=SUITE):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_suite.py", source)
    return tmp_path


def _ran(folder):
    path = folder / "ran.txt"
    names = path.read_text(encoding="utf-8").split() if path.exists() else []
    path.unlink(missing_ok=True)
    return names


def test_lf_reruns_the_failures_with_the_dependencies_they_need(tmp_path):
    folder = _project(tmp_path)
    assert counts(mtrun("test_suite.py", cwd=folder)) == (3, 2, 0)
    _ran(folder)
    result = mtrun("test_suite.py", "--lf", cwd=folder, env={"FIXED": "1"})
    assert result.ret == 0, result.stderr
    assert "run-last-failure: rerun previous 2 failures (+2 dependencies)" in result.stdout
    assert sorted(_ran(folder)) == ["login", "lonely", "setup", "upload"]
    assert counts(result) == (4, 0, 0)

    # Nothing failed now: --lf runs everything and says so; --lfnf=none runs nothing.
    result = mtrun("test_suite.py", "--last-failed", cwd=folder, env={"FIXED": "1"})
    assert "run-last-failure: no previously failed tasks, running all tasks" in result.stdout
    assert counts(result) == (5, 0, 0)
    _ran(folder)
    result = mtrun("test_suite.py", "--lf", "--lfnf=none", cwd=folder)
    assert_error(result, 5, "no previously failed tasks")
    assert _ran(folder) == []


def test_lf_with_the_failures_outside_the_targets_runs_the_targets(tmp_path):
    folder = _project(tmp_path)
    mtrun("test_suite.py", cwd=folder)
    _ran(folder)
    result = mtrun("test_suite.py::test_other", "--lf", cwd=folder)
    assert "2 known failures not in selected tasks" in result.stdout
    assert _ran(folder) == ["other"]


def test_lf_with_collect_only_lists_the_selection(tmp_path):
    folder = _project(tmp_path)
    mtrun("test_suite.py", cwd=folder)
    result = mtrun("test_suite.py", "--lf", "--collect-only", cwd=folder)
    assert result.ret == 0, result.stderr
    assert "test_upload" in result.stdout and "test_other" not in result.stdout


ORDER = "".join(f"""
    @dmark()
    def test_{name}():
        _ran("{name}")
        {'assert os.environ.get("FIXED") == "1"' if name in ("c", "e") else 'pass'}
""" for name in "abcde")


def test_ff_starts_last_failures_first_and_nf_new_tasks_first(tmp_path):
    head = SUITE.split("@dmark()")[0]
    folder = _project(tmp_path, head + ORDER)
    mtrun("test_suite.py", "--workers", "1", cwd=folder)
    assert _ran(folder) == ["a", "b", "c", "d", "e"]
    result = mtrun("test_suite.py", "--workers", "1", "--ff", cwd=folder)
    assert counts(result) == (3, 2, 0)
    ran = _ran(folder)  # among equal priorities, the longest expected duration first
    assert sorted(ran[:2]) == ["c", "e"] and sorted(ran[2:]) == ["a", "b", "d"]

    write(folder, "test_suite.py", head + ORDER + """
    @dmark()
    def test_new():
        _ran("new")
""")
    mtrun("test_suite.py", "--workers", "1", "--nf", "--ff", cwd=folder)
    ran = _ran(folder)
    assert ran[0] == "new" and sorted(ran[1:3]) == ["c", "e"], ran


def test_without_the_cacheprovider_lf_is_not_an_option(tmp_path):
    folder = _project(tmp_path)
    result = mtrun("test_suite.py", "-p", "no:cacheprovider", "--lf", cwd=folder)
    assert_error(result, 4, "no such option: --lf")
