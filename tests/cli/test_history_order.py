"""--order, the expected durations the scheduler gets from the history, and the critical path
in the terminal and the JSON report."""

from __future__ import annotations

import json
import re

from ._support import assert_error, mtrun, write

SUITE = "import pathlib\nfrom threaded_order import dmark\n" + "".join(f"""
@dmark()
def test_{name}():
    with open(pathlib.Path(__file__).with_name("ran.txt"), "a") as f:
        f.write("{name}\\n")
""" for name in "abcd")
EDGE = """
@dmark(after=["test_a"])
def test_e():
    with open(pathlib.Path(__file__).with_name("ran.txt"), "a") as f:
        f.write("e\\n")
"""


def _project(tmp_path, edge=True):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "test_order.py").write_text(SUITE + (EDGE if edge else ""), encoding="utf-8")
    return tmp_path


def _ran(folder):
    path = folder / "ran.txt"
    names = path.read_text(encoding="utf-8").split()
    path.unlink()
    return names


def _seed_cache(folder, durations):
    v = folder / ".mtrun_cache" / "v"
    v.mkdir(parents=True, exist_ok=True)
    (v / "durations.json").write_text(json.dumps(
        {f"test_order.py::test_{k}": {"mean": s, "last": s} for k, s in durations.items()}))


def test_the_longest_expected_task_starts_first_unless_order_is_registration(tmp_path):
    folder = _project(tmp_path)
    _seed_cache(folder, {"a": 0.001, "b": 0.001, "c": 50.0, "d": 0.001})
    mtrun("test_order.py", "--workers", "1", cwd=folder)
    assert _ran(folder)[0] == "c"
    _seed_cache(folder, {"a": 0.001, "b": 0.001, "c": 50.0, "d": 0.001})
    mtrun("test_order.py", "--workers", "1", "--order=registration", cwd=folder)
    assert _ran(folder) == ["a", "b", "c", "d", "e"]


def test_independent_tasks_start_longest_expected_first(tmp_path):
    folder = _project(tmp_path, edge=False)
    _seed_cache(folder, {"a": 0.001, "b": 0.001, "c": 50.0, "d": 0.001})
    mtrun("test_order.py", "--workers", "1", cwd=folder)
    assert _ran(folder)[0] == "c"


def test_the_committed_durations_file_is_read_and_the_cache_wins(tmp_path):
    folder = _project(tmp_path)
    (folder / ".mtrun-durations.json").write_text(json.dumps(
        {"test_order.py::test_b": 1.0, "test_order.py::test_c": 1.0,
         "test_order.py::test_d": 100.0}))
    mtrun("test_order.py", "--workers", "1", "-p", "no:cacheprovider", cwd=folder)
    assert _ran(folder) == ["a", "b", "c", "d", "e"]  # no cacheprovider: no history at all
    mtrun("test_order.py", "--workers", "1", "--cache-clear", cwd=folder)
    assert _ran(folder)[0] == "d"  # from the file alone
    _seed_cache(folder, {"b": 1000.0})
    mtrun("test_order.py", "--workers", "1", cwd=folder)
    assert _ran(folder)[0] == "b"  # the cache's 1000 s beats the file's 1 s


def test_a_bad_order_is_refused_in_one_line(tmp_path):
    folder = _project(tmp_path)
    assert_error(mtrun("test_order.py", "--order=fastest", cwd=folder), 4, "--order")


CHAIN = """
    import time
    from threaded_order import dmark

    @dmark()
    def test_setup():
        time.sleep(0.05)

    @dmark(after=["test_setup"])
    def test_login():
        time.sleep(0.05)

    @dmark(after=["test_login"])
    def test_upload():
        time.sleep(0.05)

    @dmark()
    def test_other():
        pass
"""


def test_the_critical_path_is_in_the_terminal_and_the_json_report(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_chain.py", CHAIN)
    result = mtrun("test_chain.py", "--workers", "2", "--reporter", "json=report.json",
                   cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"}, autoload=True)
    assert result.ret == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("critical path:"))
    assert re.fullmatch(r"critical path: test_setup → test_login → test_upload "
                        r"\d+\.\d\d s of \d+\.\d\d s wall; efficiency \d+ % of 2 workers",
                        line), line
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["critical_path"]["tasks"] == ["test_setup", "test_login", "test_upload"]
    assert report["critical_path"]["duration"] > 0
    assert set(report["efficiency"]) >= {"workers", "busy", "wall", "parallel",
                                         "lower_bound"}
    quiet = mtrun("test_chain.py", "-q", cwd=tmp_path)
    assert "critical path" not in quiet.stdout
