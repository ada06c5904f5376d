"""``structlog_stdlib``: the tasks' stdlib ``logging`` records as the reporter's JSON lines,
and the README's recipe for shipping the lines, checked with the real ``jq``."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from threaded_order import Scheduler
from threaded_order.reporting import ReporterError
from threaded_order_structlog import StructlogReporter

from ._support import describe, mtrun, write_sample

TASKS = '''\
import logging

from threaded_order import dmark

log = logging.getLogger("app")
log.warning("at import: not in a task")


@dmark()
def test_logs():
    log.info("hello %s", "world")
    try:
        {}["key"]
    except KeyError:
        log.exception("lookup failed")


@dmark(timeout=30)
def test_in_the_timeout_helper():
    log.warning("from the helper thread")


@dmark()
async def test_async():
    log.warning("from a coroutine")


@dmark()
def test_debug_is_below_the_level():
    log.debug("not a line")
'''

NODE = "test_std.py::"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def when(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))


def check_task_lines(lines: list[dict[str, Any]]) -> None:
    """The records of tasks, each a line with its task, inside that task's span."""
    records = {line["event"]: line for line in lines if "logger" in line}
    assert sorted(records) == ["from a coroutine", "from the helper thread", "hello world",
                               "lookup failed"]
    assert records["hello world"]["level"] == "info"
    assert records["hello world"]["task"] == NODE + "test_logs"
    assert records["from the helper thread"]["task"] == NODE + "test_in_the_timeout_helper"
    assert records["from a coroutine"]["task"] == NODE + "test_async"
    (stack,) = records["lookup failed"]["exception"]
    assert (stack["exc_type"], stack["exc_value"]) == ("KeyError", "'key'")
    assert stack["frames"][-1]["name"] == "test_logs"
    run_id = lines[0]["run_id"]
    for line in records.values():
        assert line["logger"] == "app" and line["run_id"] == run_id
        assert list(line)[:3] == ["timestamp", "level", "event"]
        span = [when(x) for x in lines if x.get("task") == line["task"]
                and x["event"] in ("task_run", "task_done")]
        assert span[0] <= when(line) <= span[1], line
    for task in {line["task"] for line in records.values()}:  # in the file, in that span too
        kinds = [x["event"] for x in lines if x.get("task") == task]
        assert kinds[:2] == ["task_start", "task_run"] and kinds[-1] == "task_done", kinds


@pytest.mark.parametrize("where", ["-o", "pyproject.toml"])
def test_records_of_tasks_become_lines(tmp_path: Path, where: str) -> None:
    write_sample(tmp_path, "test_std.py", TASKS)
    args = ["-o", "structlog_stdlib=true", "-o", "structlog_stdlib_level=INFO"]
    if where == "pyproject.toml":
        (tmp_path / "pyproject.toml").write_text(
            '[tool.mtrun]\nstructlog_stdlib = true\nstructlog_stdlib_level = "INFO"\n')
        args = []
    done = mtrun(*args, "--reporter", "structlog=events.jsonl", "test_std.py", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    check_task_lines(json_lines((tmp_path / "events.jsonl").read_text(encoding="utf-8")))
    assert json_lines(done.stderr) == [] and json_lines(done.stdout) == []


def test_records_reach_stderr_past_the_tasks_capture(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_std.py", TASKS)
    done = mtrun("-o", "structlog_stdlib=yes", "-o", "structlog_stdlib_level=info",
                 "--reporter", "structlog", "test_std.py", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    check_task_lines(json_lines(done.stderr))


def test_off_by_default(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_std.py", TASKS)
    done = mtrun("--reporter", "structlog=events.jsonl", "test_std.py", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    lines = json_lines((tmp_path / "events.jsonl").read_text(encoding="utf-8"))
    assert [line for line in lines if "logger" in line] == []


@pytest.mark.parametrize(("setting", "message"), [
    ("structlog_stdlib=maybe", "-o structlog_stdlib=maybe: want true or false, got 'maybe'"),
    ("structlog_stdlib_level=LOUD", "structlog reporter: unknown logging level 'LOUD'"),
])
def test_a_bad_setting_is_one_line(tmp_path: Path, setting: str, message: str) -> None:
    write_sample(tmp_path, "test_std.py", TASKS)
    done = mtrun("-o", setting, "--reporter", "structlog", "test_std.py", cwd=tmp_path)
    assert done.ret == 4, describe(done)
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_logging_is_as_it_was_after_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    seen: list[int] = []
    s = Scheduler(workers=1, plugins=[StructlogReporter("-", stdlib=True, stdlib_level="DEBUG")])

    def task() -> None:
        seen.append(logging.getLogger().level)
        logging.getLogger("lib").debug("in %s", "a task")

    s.register(task, "a")
    s.start()
    logging.getLogger("lib").error("after the run: not a line")
    assert (list(root.handlers), root.level) == before and seen == [logging.DEBUG]
    lines = json_lines(capsys.readouterr().out)
    assert [(x["event"], x.get("task")) for x in lines if "logger" in x] == [("in a task", "a")]
    with pytest.raises(ReporterError, match="unknown logging level 'verbose'"):
        StructlogReporter(stdlib=True, stdlib_level="verbose")


README = Path(__file__).parents[2] / "packages/threaded-order-reporters/structlog/README.md"


def readme_jq_query() -> str:
    """The query of the README's shipping recipe, as a user copies it."""
    text = README.read_text(encoding="utf-8")
    start = text.index("jq -s '") + len("jq -s '")
    return text[start:text.index("' logs/*.jsonl", start)]


SHIPPED = '''\
import logging

from threaded_order import dmark

log = logging.getLogger("app")


@dmark()
def test_login():
    log.warning("logging in")


@dmark(after=["test_login"])
def test_upload():
    log.warning("uploading")
    raise AssertionError("status 500")
'''


def test_the_readme_jq_query_groups_by_run_and_task(tmp_path: Path) -> None:
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed")
    write_sample(tmp_path, "test_api.py", SHIPPED)
    run_ids = []
    for run in ("run1.jsonl", "run2.jsonl"):
        done = mtrun("-o", "structlog_stdlib=true", "--reporter", f"structlog={run}",
                     "test_api.py", cwd=tmp_path)
        assert done.ret == 1, describe(done)
        run_ids.append(json_lines((tmp_path / run).read_text(encoding="utf-8"))[0]["run_id"])
    out = subprocess.run([jq, "-s", readme_jq_query(), "run1.jsonl", "run2.jsonl"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=30, check=True).stdout
    expected = []
    for run_id in sorted(run_ids):
        expected += [
            {"run_id": run_id, "task": "test_api.py::test_login", "status": "passed",
             "events": ["task_start", "task_run", "logging in", "task_done"]},
            {"run_id": run_id, "task": "test_api.py::test_upload", "status": "failed",
             "events": ["task_start", "task_run", "uploading", "task_done"]}]
    assert json.loads(out) == expected
