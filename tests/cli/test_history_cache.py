"""The cache of past runs (``.mtrun_cache/``) and the committed durations file."""

from __future__ import annotations

import json
import textwrap

from threaded_order_cli.testing import spawn_mtrun

from ._support import QUIET, TIMEOUT, assert_error, counts, mtrun, write

SUITE = """
    import os
    from threaded_order import dmark

    @dmark()
    def test_setup():
        pass

    @dmark(after=["test_setup"])
    def test_login():
        pass

    @dmark(after=["test_login"])
    def test_upload():
        assert os.environ.get("FIXED") == "1", "broken"

    @dmark()
    def test_other():
        pass

    @dmark()
    def test_skipped():
        from threaded_order import skip
        skip("not today")
"""


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_suite.py", SUITE)
    return tmp_path


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_run_leaves_a_tagged_cache_of_outcomes_and_durations(tmp_path):
    folder = _project(tmp_path)
    result = mtrun("test_suite.py", cwd=folder)
    assert result.ret == 1, result.stderr
    cache = folder / ".mtrun_cache"
    assert (cache / "CACHEDIR.TAG").read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    outcomes = _read(cache / "v" / "outcomes.json")
    assert outcomes["test_suite.py::test_upload"] == "failed"
    assert outcomes["test_suite.py::test_setup"] == "passed"
    durations = _read(cache / "v" / "durations.json")
    assert set(durations["test_suite.py::test_upload"]) == {"mean", "last"}
    assert "test_suite.py::test_setup" in durations
    assert not [p for p in (cache / "v").iterdir() if p.name.endswith(".tmp")]


def test_durations_keep_a_smoothed_mean_and_the_last_value(tmp_path):
    folder = _project(tmp_path)
    durations = folder / ".mtrun_cache" / "v" / "durations.json"
    mtrun("test_suite.py", cwd=folder)
    node = "test_suite.py::test_setup"
    saved = _read(durations)
    saved[node] = {"mean": 100.0, "last": 100.0}  # a slow past, far from today's
    durations.write_text(json.dumps(saved), encoding="utf-8")
    mtrun("test_suite.py", cwd=folder)
    entry = _read(durations)[node]
    assert entry["last"] < 1.0
    assert 60.0 < entry["mean"] < 80.0  # moved towards today's value, not replaced by it


def test_a_task_cut_short_by_its_timeout_does_not_update_its_duration(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_slow.py", """
        import threading
        from threaded_order import dmark

        @dmark(timeout=0.2)
        def test_hangs():
            threading.Event().wait(5)
    """)
    result = mtrun("test_slow.py", cwd=tmp_path)
    assert result.ret == 1, result.stderr
    cache = tmp_path / ".mtrun_cache" / "v"
    assert _read(cache / "outcomes.json") == {"test_slow.py::test_hangs": "failed"}
    assert _read(cache / "durations.json") == {}


def test_cache_clear_empties_it_and_no_cacheprovider_turns_it_off(tmp_path):
    folder = _project(tmp_path)
    cache = folder / ".mtrun_cache"
    mtrun("test_suite.py", cwd=folder)
    (cache / "v" / "stale.json").write_text("{}", encoding="utf-8")
    mtrun("test_suite.py", "--cache-clear", cwd=folder)
    assert not (cache / "v" / "stale.json").exists()
    assert (cache / "v" / "outcomes.json").exists()  # and this run's outcomes are back

    other = tmp_path / "off"
    other.mkdir()
    _project(other)
    result = mtrun("test_suite.py", "-p", "no:cacheprovider", "--store-durations", cwd=other)
    assert result.ret != 0 and not (other / ".mtrun_cache").exists()
    assert not (other / ".mtrun-durations.json").exists()
    result = mtrun("test_suite.py", "-p", "no:cacheprovider", cwd=other)
    assert counts(result) == (3, 1, 1) and not (other / ".mtrun_cache").exists()


def test_a_torn_or_foreign_cache_file_counts_as_empty(tmp_path):
    folder = _project(tmp_path)
    v = folder / ".mtrun_cache" / "v"
    v.mkdir(parents=True)
    (v / "outcomes.json").write_text('{"test_suite.py::test_up', encoding="utf-8")
    (v / "durations.json").write_text('["not", "ours"]', encoding="utf-8")
    result = mtrun("test_suite.py", "--lf", cwd=folder)
    assert counts(result) == (3, 1, 1), result.stderr
    assert "no previously failed tasks" in result.stdout
    assert _read(v / "outcomes.json")["test_suite.py::test_upload"] == "failed"


def test_store_durations_writes_a_sorted_stable_file_at_the_rootdir(tmp_path):
    folder = _project(tmp_path)
    (folder / "sub").mkdir()
    result = mtrun(folder / "test_suite.py", "--store-durations", cwd=folder / "sub")
    assert result.ret == 1, result.stderr
    stored = folder / ".mtrun-durations.json"
    text = stored.read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert set(data) == {f"test_suite.py::test_{n}" for n in
                         ("setup", "login", "upload", "other")}  # skipped: not timed
    assert text.endswith("}\n") and text.count("\n") == len(data) + 2  # one task a line

    # A task that is not in this run keeps its line; the given PATH is from the rootdir.
    data["elsewhere.py::test_kept"] = 1.5
    stored.write_text(json.dumps(data), encoding="utf-8")
    mtrun("test_suite.py::test_other", "--store-durations", cwd=folder)
    assert _read(stored)["elsewhere.py::test_kept"] == 1.5
    (folder / "ci").mkdir()
    mtrun("test_suite.py::test_other", "--store-durations=ci/d.json", cwd=folder)
    assert list(_read(folder / "ci" / "d.json")) == ["test_suite.py::test_other"]


def test_an_unwritable_durations_path_is_one_line(tmp_path):
    folder = _project(tmp_path)
    result = mtrun("test_suite.py", "--store-durations=missing/d.json", cwd=folder)
    assert_error(result, 4, "--store-durations missing/d.json: no such folder")
    assert not (folder / ".mtrun_cache").exists()  # nothing ran


def test_concurrent_runs_in_one_checkout_never_tear_the_cache(tmp_path):
    """Two real mtrun processes finish together, many times over: each cache file is whole
    JSON afterwards, from one run or the other (the last writer wins)."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    source = """
        import os, pathlib, time
        from threaded_order import dmark

        @dmark()
        def test_meet():
            here = pathlib.Path(os.environ["MARKS"])
            (here / os.environ["ME"]).write_text("up")
            other = here / os.environ["OTHER"]
            deadline = time.monotonic() + 30
            while not other.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
    """
    source = textwrap.dedent(source) + "".join(f"\n@dmark()\ndef test_n{i}():\n    pass\n"
                                               for i in range(40))
    (tmp_path / "test_meet.py").write_text(source.lstrip(), encoding="utf-8")
    cache = tmp_path / ".mtrun_cache" / "v"
    cache.mkdir(parents=True)
    # A large history from earlier runs (every run rewrites it whole): long writes, which
    # two runs finishing together would interleave if a write were not atomic.
    old = {f"gone/test_{i}.py::test_{i}": {"mean": 0.5, "last": 0.5} for i in range(20000)}
    (cache / "durations.json").write_text(json.dumps(old), encoding="utf-8")
    (cache / "outcomes.json").write_text(json.dumps({k: "passed" for k in old}))
    for round_ in range(10):
        marks = tmp_path / f"marks{round_}"
        marks.mkdir()
        procs = [spawn_mtrun("test_meet.py", cwd=tmp_path,
                             env={**QUIET, "MARKS": str(marks), "ME": me, "OTHER": other})
                 for me, other in (("a", "b"), ("b", "a"))]
        try:
            results = [p.finish(TIMEOUT) for p in procs]
        finally:
            for p in procs:
                p.kill()
        assert [r.ret for r in results] == [0, 0], results[0].stderr + results[1].stderr
        assert len(_read(cache / "outcomes.json")) == 20041
        assert len(_read(cache / "durations.json")) == 20041
        assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


RESULTS = """
    import os
    from threaded_order import dmark

    @dmark(with_state=True)
    def test_token(state):
        print("RAN test_token")
        return {"token": "t-1", "ids": [1, 2]}

    @dmark(with_state=True)
    def test_handle(state):
        print("RAN test_handle")
        return ("not", "json")  # a tuple comes back a list: never stored

    @dmark(with_state=True, after=["test_token", "test_handle"])
    def test_use(state):
        assert state["results"]["test_token"] == {"token": "t-1", "ids": [1, 2]}
        assert os.environ.get("FIXED") == "1", "broken"
"""


def test_lf_skip_deps_reuses_stored_results_and_reruns_what_it_cannot(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_results.py", RESULTS)
    assert mtrun("test_results.py", cwd=tmp_path).ret == 1
    stored = _read(tmp_path / ".mtrun_cache" / "v" / "results.json")
    assert stored == {"test_results.py::test_token": {"token": "t-1", "ids": [1, 2]}}
    result = mtrun("test_results.py", "--lf", "--skip-deps", "-s", cwd=tmp_path,
                   env={"FIXED": "1"})
    assert result.ret == 0, result.stdout + result.stderr
    assert "RAN test_token" not in result.stdout  # its stored result stood in
    assert "RAN test_handle" in result.stdout  # nothing JSON keeps: run again
    assert ("run-last-failure: rerun previous 1 failure (+1 dependency); 1 dependency from "
            "stored results; no stored result for test_handle: run again") in result.stdout
    assert counts(result) == (2, 0, 0)


def test_lf_skip_deps_runs_a_dependency_whose_last_run_failed(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_results.py", RESULTS.replace(
        'print("RAN test_token")', 'print("RAN test_token"); assert os.environ.get("FIXED")'))
    assert mtrun("test_results.py", cwd=tmp_path).ret == 1
    result = mtrun("test_results.py", "--lf", "--skip-deps", "-s", cwd=tmp_path,
                   env={"FIXED": "1"})
    assert result.ret == 0, result.stdout + result.stderr
    assert "RAN test_token" in result.stdout
    assert counts(result) == (3, 0, 0)


def test_a_failed_task_loses_its_stored_result(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_results.py", RESULTS)
    mtrun("test_results.py", cwd=tmp_path)
    write(tmp_path, "test_results.py", RESULTS.replace('print("RAN test_token")',
                                                        'raise ValueError("now broken")'))
    mtrun("test_results.py", cwd=tmp_path)
    assert _read(tmp_path / ".mtrun_cache" / "v" / "results.json") == {}


def test_a_cache_that_cannot_be_written_is_one_warning_and_changes_no_outcome(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write(tmp_path, "test_ok.py", """
        from threaded_order import dmark

        @dmark()
        def test_ok():
            pass
    """)
    (tmp_path / ".mtrun_cache").write_text("not a folder", encoding="utf-8")
    result = mtrun("test_ok.py", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert result.stderr.startswith("mtrun: warning: cannot write the cache in ")
    assert len(result.stderr.splitlines()) == 1
    assert counts(result) == (1, 0, 0)
