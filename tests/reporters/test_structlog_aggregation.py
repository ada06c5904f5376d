"""The structlog reporter for log aggregation: run ids, timestamps that put a task's own
lines inside its span, failures as structured data, and the user's bound context."""

from __future__ import annotations

import json
import socket
import sys
import traceback
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from threaded_order import Scheduler
from threaded_order_structlog import StructlogReporter
from threaded_order_structlog.tracebacks import exception_dicts

from ._support import describe, mtrun, write_sample

# Holds the scheduler thread in task_start until the task's body has logged its first line,
# so that a line stamped when the hook is handled is always later than the body's line.
HANDSHAKE = '''\
import threading

from threaded_order import hookimpl

logged = threading.Semaphore(0)  # one release per task that has logged


@hookimpl(tryfirst=True)
def threaded_order_task_start(name):
    if not logged.acquire(timeout=30):
        raise RuntimeError("the task never logged")
'''

# The application's structlog setup: JSON lines, ISO timestamps, into its own file.
USER_LOGGING = '''\
import os

import structlog

structlog.configure(
    processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer()],
    logger_factory=structlog.PrintLoggerFactory(open(os.environ["USER_LOG"], "a")),
)
log = structlog.get_logger()
'''

SPANS = USER_LOGGING + '''
import handshake
from threaded_order import dmark
from threaded_order_structlog import bind_task


@dmark()
@bind_task
def test_first():
    log.info("begin")
    handshake.logged.release()
    log.info("end")


@dmark(after=["test_first"])
@bind_task
def test_second():
    log.info("begin")
    handshake.logged.release()
    log.info("end")
'''


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def when(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))


def spawn_env(tmp_path: Path) -> dict[str, str]:
    return {"USER_LOG": str(tmp_path / "user.jsonl"), "PYTHONPATH": str(tmp_path / "plugins")}


def test_a_tasks_own_lines_sort_inside_its_run_and_done(tmp_path: Path) -> None:
    """The body logs before the scheduler thread hears that it started; sorted by
    timestamp, its lines still come after its task_run and before its task_done."""
    write_sample(tmp_path, "plugins/handshake.py", HANDSHAKE)
    write_sample(tmp_path, "test_spans.py", SPANS)
    done = mtrun("-p", "handshake", "--reporter", "structlog=events.jsonl", "test_spans.py",
                 cwd=tmp_path, env=spawn_env(tmp_path))
    assert done.ret == 0, describe(done)
    ours, users = read_lines(tmp_path / "events.jsonl"), read_lines(tmp_path / "user.jsonl")
    merged = sorted(ours + users, key=when)  # stable: file order breaks ties
    for task in ("test_spans.py::test_first", "test_spans.py::test_second"):
        mine = [line["event"] for line in merged if line.get("task") == task]
        assert mine == ["task_start", "task_run", "begin", "end", "task_done"], (task, merged)
        # ... and written in that order too: start, run, done, one after the other.
        kinds = [line["event"] for line in ours if line.get("task") == task]
        assert kinds == ["task_start", "task_run", "task_done"]
    spans = [line["event"] for line in merged if line["event"] in ("task_run", "task_done")]
    assert spans == ["task_run", "task_done"] * 2  # the chain: one span after the other


def test_each_mtrun_run_has_one_run_id_on_every_line(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_one.py", "from threaded_order import dmark\n\n"
                 "@dmark()\ndef test_a():\n    pass\n")
    write_sample(tmp_path, "plugins/record_run_id.py",
                 "def threaded_order_cli_configure(config):\n"
                 "    open('run_id.txt', 'a').write(config.run_id + '\\n')\n")
    seen = []
    for _ in range(2):
        done = mtrun("-p", "record_run_id", "--reporter", "structlog=events.jsonl",
                     "test_one.py", cwd=tmp_path, env=spawn_env(tmp_path))
        assert done.ret == 0, describe(done)
        run_id = (tmp_path / "run_id.txt").read_text(encoding="utf-8").split()[-1]
        lines = read_lines(tmp_path / "events.jsonl")  # each mtrun run writes the file anew
        assert [line["run_id"] for line in lines] == [run_id] * 5
        assert {line["host"] for line in lines} == {socket.gethostname()}
        assert len({line["pid"] for line in lines}) == 1
        seen.append((run_id, lines[0]["pid"]))
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]


def test_each_start_of_a_library_scheduler_is_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    s = Scheduler(workers=1, plugins=[StructlogReporter("-")])
    s.register(lambda: None, "a")
    s.start()
    s.start()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    first, second = lines[:5], lines[5:]
    assert len({line["run_id"] for line in first}) == len({line["run_id"] for line in second}) == 1
    assert first[0]["run_id"] != second[0]["run_id"]


FAILURES = '''\
from threaded_order import dmark


def lookup(table):
    return table["missing"]  # line 5


@dmark()
def test_chained():
    try:
        lookup({})
    except KeyError as exc:
        raise ValueError("no such user") from exc  # line 13


@dmark()
def test_plain():
    raise AssertionError("one is not two")  # line 18
'''


def structlogs_own(module: Path, name: str) -> list[dict[str, Any]]:
    """What structlog's dict_tracebacks makes of the same failure, here, for comparison:
    the frames of the task's file only (ours leave out the runner's frames above it)."""
    namespace: dict[str, Any] = {"__name__": "test_failures"}
    exec(compile(module.read_text(encoding="utf-8"), str(module), "exec"), namespace)
    try:
        namespace[name]()
    except Exception:
        event = structlog.processors.dict_tracebacks(None, "error", {"exc_info": True})
    stacks: list[dict[str, Any]] = event["exception"]
    for stack in stacks:
        stack["frames"] = [{k: f[k] for k in ("filename", "lineno", "name")}
                           for f in stack["frames"] if f["filename"] == str(module)]
    return stacks


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_a_failure_carries_its_exception_as_dict_tracebacks_does(tmp_path: Path,
                                                                 executor: str) -> None:
    module = write_sample(tmp_path, "test_failures.py", FAILURES)
    done = mtrun("--executor", executor, "--reporter", "structlog=events.jsonl",
                 "test_failures.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    failed = {line["task"]: line for line in read_lines(tmp_path / "events.jsonl")
              if line["event"] == "task_done"}
    for name in ("test_chained", "test_plain"):
        line = failed[f"test_failures.py::{name}"]
        assert line["level"] == "error" and line["status"] == "failed"
        ours = line["exception"]
        for stack in ours:  # frames as written by the task, made absolute as structlog's
            stack["frames"] = [{**f, "filename": str(tmp_path / f["filename"])}
                               if not Path(f["filename"]).is_absolute() else f
                               for f in stack["frames"]]
        assert ours == structlogs_own(module, name), name
    chained = failed["test_failures.py::test_chained"]["exception"]
    assert [(s["exc_type"], s["is_cause"], [f["lineno"] for f in s["frames"]])
            for s in chained] == [("ValueError", False, [13]), ("KeyError", True, [11, 5])]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups and notes: 3.11+")
def test_exception_dicts_from_text_alone() -> None:
    """Notes, a message without text, and an exception group, as a traceback gives them."""
    try:
        try:
            raise ExceptionGroup(  # type: ignore[name-defined]  # noqa: F821
                "two", [KeyError("k"), TypeError("t")])
        except Exception as group:
            error = RuntimeError()
            error.add_note("a note")  # type: ignore[attr-defined]
            raise error from group
    except RuntimeError as exc:
        text = "".join(traceback.format_exception(exc))
        expected = structlog.processors.dict_tracebacks(None, "error", {"exc_info": exc})
    ours = exception_dicts(text, "RuntimeError", "")
    theirs = expected["exception"]
    keys = ("exc_type", "exc_value", "exc_notes", "is_cause", "is_group")
    assert [{k: s[k] for k in keys} for s in ours] == [{k: s[k] for k in keys} for s in theirs]
    assert [[(f["lineno"], f["name"]) for f in s["frames"]] for s in ours] == [
        [(f["lineno"], f["name"]) for f in s["frames"]] for s in theirs]
    assert exception_dicts(None, "CancelledError", "cancelled") == [{
        "exc_type": "CancelledError", "exc_value": "cancelled", "exc_notes": [],
        "syntax_error": None, "is_cause": False, "frames": [], "is_group": False,
        "exceptions": []}]


@pytest.fixture
def clean_context() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


def test_context_bound_before_the_run_is_on_every_line(
        clean_context: None, capsys: pytest.CaptureFixture[str]) -> None:
    structlog.contextvars.bind_contextvars(deploy="canary", event="not ours", task="nope")
    s = Scheduler(workers=1, plugins=[StructlogReporter("-")])
    s.register(lambda: None, "a")
    s.start()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5 and all(line["deploy"] == "canary" for line in lines)
    # The reporter's own fields win over the user's.
    assert [line["event"] for line in lines] == [
        "scheduler_start", "task_start", "task_run", "task_done", "scheduler_done"]
    assert lines[0]["task"] == "nope" and lines[1]["task"] == "a"


def test_mtrun_merges_what_the_test_module_bound(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_bound.py",
                 "import structlog\nfrom threaded_order import dmark\n\n"
                 "structlog.contextvars.bind_contextvars(suite='smoke')\n\n"
                 "@dmark()\ndef test_a():\n    pass\n")
    done = mtrun("--reporter", "structlog=events.jsonl", "test_bound.py", cwd=tmp_path)
    assert done.ret == 0, describe(done)
    lines = read_lines(tmp_path / "events.jsonl")
    assert [line.get("suite") for line in lines] == ["smoke"] * 5
