"""The structlog reporter: JSON lines through its own processors, never the global config."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.typing import EventDict, WrappedLogger

from threaded_order import Scheduler
from threaded_order.reporting import ReporterError
from threaded_order_structlog import StructlogReporter, bind_task

from ._support import SAMPLE_NAMES, SAMPLE_STATUS, describe, mtrun, write_sample

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")

USER_MODULE = '''\
import os

import structlog
from threaded_order import dmark
from threaded_order_structlog import bind_task

# The application's own global structlog setup, done at import as applications do.
structlog.configure(
    processors=[structlog.contextvars.merge_contextvars,
                structlog.processors.KeyValueRenderer(key_order=["event", "task"])],
    logger_factory=structlog.PrintLoggerFactory(open(os.environ["USER_LOG"], "a")),
)
log = structlog.get_logger()


@dmark()
@bind_task
def test_one():
    log.info("user-event")
    structlog.contextvars.bind_contextvars(leaked="yes")


@bind_task
@dmark(after=["test_one"])
def test_two():
    log.info("user-event")
'''


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def check_events(events: list[dict[str, Any]], names: list[str]) -> None:
    """Each line is complete, and the events come in the order the hooks promise."""
    for event in events:
        assert ISO_UTC.match(event["timestamp"]) and event["level"] in (
            "debug", "info", "warning", "error")
        # Every line ends with the run's fields: one run, this machine, not this process.
        assert list(event)[-3:] == ["run_id", "host", "pid"]
        assert (event["run_id"], event["host"]) == (events[0]["run_id"], socket.gethostname())
        assert re.fullmatch(r"[0-9a-f]{32}", event["run_id"]) and event["pid"] != os.getpid()
    assert events[0]["event"] == "scheduler_start" and events[0]["total_tasks"] == len(names)
    assert events[-1]["event"] == "scheduler_done"
    done = {e["task"]: e for e in events if e["event"] == "task_done"}
    assert sorted(done) == sorted(names)
    for name in names:
        kinds = [e["event"] for e in events if e.get("task") == name]
        ran = done[name]["status"] != "skipped"  # a skipped task only ever has its done
        assert kinds == (["task_start", "task_run", "task_done"] if ran else ["task_done"])


NODE_IDS = [f"test_sample.py::{name}" for name in SAMPLE_NAMES]


def test_mtrun_logs_json_lines_to_stderr(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "structlog", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    events = json_lines(done.stderr)
    check_events(events, NODE_IDS)  # node ids, even when one file runs
    done_by_task = {e["task"].rsplit("::", 1)[-1]: e for e in events
                    if e["event"] == "task_done"}
    assert {n: e["status"] for n, e in done_by_task.items()} == SAMPLE_STATUS
    failed = done_by_task["test_fails"]
    assert failed["level"] == "error" and failed["thread"].startswith("thread_")
    assert failed["error"] == "AssertionError: expected <failure> & more"
    assert done_by_task["test_after_failure"]["skip_reason"] == "dependency 'test_fails' failed"
    assert done_by_task["test_ok"]["duration"] >= 0
    assert events[-1] | {"timestamp": None} == {
        "timestamp": None, "level": "error", "event": "scheduler_done", "status": "failed",
        "total": 4, "passed": 2, "failed": 1, "skipped": 1, "cancelled": 0, "xfailed": 0,
        "xpassed": 0, "duration": events[-1]["duration"], "run_id": events[0]["run_id"],
        "host": socket.gethostname(), "pid": events[0]["pid"]}
    assert json_lines(done.stdout) == []


def test_file_dest_and_the_users_own_structlog_setup(tmp_path: Path) -> None:
    """Two modules, so mtrun names tasks "file.py::name"; the tasks' own structlog calls
    go through the user's global config, carry the task name, and do not leak."""
    write_sample(tmp_path)
    write_sample(tmp_path, "test_user_log.py", USER_MODULE)
    user_log = tmp_path / "user.log"
    done = mtrun("--skip-deps", "--workers", "1", "--reporter", "structlog=events.jsonl",
                 "test_sample.py", "test_user_log.py", cwd=tmp_path,
                 env={"USER_LOG": str(user_log)})
    assert done.ret == 1, describe(done)
    events = json_lines((tmp_path / "events.jsonl").read_text(encoding="utf-8"))
    names = [f"test_sample.py::{n}" for n in SAMPLE_NAMES]
    names += ["test_user_log.py::test_one", "test_user_log.py::test_two"]
    check_events(events, names)
    assert json_lines(done.stderr) == []
    run_id = events[0]["run_id"]  # bound for the tasks, as their task is
    assert user_log.read_text(encoding="utf-8").splitlines() == [
        f"event='user-event' task='test_user_log.py::test_one' run_id='{run_id}'",
        f"event='user-event' task='test_user_log.py::test_two' run_id='{run_id}'",
    ]


def test_dash_writes_to_stdout(tmp_path: Path) -> None:
    write_sample(tmp_path)
    done = mtrun("--skip-deps", "--reporter", "structlog=-", "test_sample.py", cwd=tmp_path)
    assert done.ret == 1, describe(done)
    check_events(json_lines(done.stdout), NODE_IDS)


@pytest.fixture
def user_structlog() -> Iterator[list[dict[str, Any]]]:
    """A global structlog configuration of the test's own, restored afterwards."""
    saved = structlog.get_config()
    seen: list[dict[str, Any]] = []

    def keep(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        seen.append(dict(event_dict))
        raise structlog.DropEvent

    structlog.configure(processors=[structlog.contextvars.merge_contextvars, keep],
                        cache_logger_on_first_use=False)
    try:
        yield seen
    finally:
        structlog.reset_defaults()
        structlog.configure(**saved)


def test_the_global_configuration_is_untouched(user_structlog: list[dict[str, Any]],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    before = structlog.get_config()
    s = Scheduler(workers=1, plugins=[StructlogReporter("-")])
    log = structlog.get_logger()

    @bind_task
    def a() -> None:
        log.info("from a")

    s.register(a, "a")
    s.register(lambda: log.info("from b"), "b", after="a")
    s.start()
    assert structlog.get_config() == before
    assert structlog.is_configured()
    # The user's logger still goes through the user's processors, with the task bound ...
    events = json_lines(capsys.readouterr().out)
    run_id = events[0]["run_id"]
    assert user_structlog == [{"event": "from a", "task": "a", "run_id": run_id},
                              {"event": "from b", "task": "b", "run_id": run_id}]
    # ... and our lines went only to our sink.
    check_events([{**e, "pid": -1} for e in events], ["a", "b"])
    assert {e["pid"] for e in events} == {os.getpid()}
    structlog.get_logger().info("after the run")
    assert user_structlog[-1] == {"event": "after the run"}


def test_bind_task_does_not_leak_between_tasks_on_one_thread(
        user_structlog: list[dict[str, Any]]) -> None:
    s = Scheduler(workers=1)  # no reporter: the function's own name is used
    log = structlog.get_logger()

    @bind_task
    def first() -> None:
        structlog.contextvars.bind_contextvars(user="alice")
        log.info("one")

    @bind_task(name="custom")
    def second() -> None:
        log.info("two")

    s.register(first, "first")
    s.register(second, "second", after="first")
    s.register(lambda: log.info("three"), "third", after="second")
    assert s.start()["passed"] == ["first", "second", "third"]
    assert user_structlog == [{"event": "one", "task": "first", "user": "alice"},
                              {"event": "two", "task": "custom"}, {"event": "three"}]


def test_a_write_failure_is_reported_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    reporter = StructlogReporter(str(out / "events.jsonl"))
    out.rmdir()  # gone after the check: every write now fails
    s = Scheduler(workers=1, plugins=[reporter])
    s.register(lambda: None, "a")
    summary = s.start()
    assert summary["passed"] == ["a"]
    (error,) = summary["plugin_errors"]
    assert "structlog reporter: cannot write" in error and "events.jsonl" in error


def test_bad_dest_fails_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")  # a missing folder is created; one below a file cannot be
    with pytest.raises(ReporterError, match=r"^structlog reporter: cannot write .*cannot create"):
        StructlogReporter(str(tmp_path / "a_file" / "nowhere" / "e.jsonl"))
