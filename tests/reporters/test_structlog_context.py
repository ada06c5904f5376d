"""While the structlog reporter is in a run, the user's own structlog calls in a task carry
``task`` (and ``run_id``) with no decorator, and nothing a task binds reaches the next."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from threaded_order import Scheduler
from threaded_order_structlog import StructlogReporter, bind_task

from ._support import describe, mtrun, write_sample

TASKS = '''\
import os

import structlog
from threaded_order import dmark

structlog.configure(
    processors=[structlog.contextvars.merge_contextvars, structlog.processors.JSONRenderer()],
    logger_factory=structlog.PrintLoggerFactory(open(os.environ["USER_LOG"], "a")),
)
log = structlog.get_logger()


@dmark()
def test_plain():
    log.info("plain")


@dmark(after=["test_plain"], timeout=30)
def test_in_the_timeout_helper():
    log.info("helper")


@dmark(after=["test_in_the_timeout_helper"])
async def test_async():
    log.info("coroutine")


@dmark(after=["test_async"])
def test_binds():
    structlog.contextvars.bind_contextvars(user="alice")
    log.info("binds")


@dmark(after=["test_binds"])
def test_next_on_the_same_worker():
    log.info("next")
'''


def test_user_structlog_calls_carry_the_task_with_no_decorator(tmp_path: Path) -> None:
    write_sample(tmp_path, "test_ctx.py", TASKS)
    user_log = tmp_path / "user.jsonl"
    done = mtrun("--workers", "1", "--reporter", "structlog=events.jsonl", "test_ctx.py",
                 cwd=tmp_path, env={"USER_LOG": str(user_log)})
    assert done.ret == 0, describe(done)
    run_id = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[0])["run_id"]
    lines = [json.loads(line) for line in user_log.read_text(encoding="utf-8").splitlines()]
    node = "test_ctx.py::test_"
    assert lines == [
        {"task": node + "plain", "run_id": run_id, "event": "plain"},
        {"task": node + "in_the_timeout_helper", "run_id": run_id, "event": "helper"},
        {"task": node + "async", "run_id": run_id, "event": "coroutine"},
        {"user": "alice", "task": node + "binds", "run_id": run_id, "event": "binds"},
        {"task": node + "next_on_the_same_worker", "run_id": run_id, "event": "next"},
    ]


@pytest.fixture
def default_structlog() -> Iterator[None]:
    """structlog as a user who never configured it has it; restored afterwards."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.configure(**saved)


def test_structlogs_default_configuration_shows_the_task(
        default_structlog: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    s = Scheduler(workers=2, plugins=[StructlogReporter(str(tmp_path / "events.jsonl"))])
    s.register(lambda: structlog.get_logger().info("from a"), "a")
    s.register(bind_task(lambda: structlog.get_logger().info("from b")), "b")  # still works
    s.start()
    assert s.task_scopes == []  # the reporter's scope is gone with the run
    out = capsys.readouterr().out
    assert re.search(r"from a\s.*\btask=a\b", out) and re.search(r"from b\s.*\btask=b\b", out)
    structlog.get_logger().info("after the run")
    assert "task=" not in capsys.readouterr().out
    assert structlog.contextvars.get_contextvars() == {}


def test_without_the_reporter_nothing_is_bound(default_structlog: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    s = Scheduler(workers=1)
    s.register(lambda: structlog.get_logger().info("plain"), "a")
    s.start()
    assert "task=" not in capsys.readouterr().out
    assert s.task_scopes == []
