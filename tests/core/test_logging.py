"""ThreadProxyLogger and configure_logging: lines carry the thread name, handlers are kept."""

from __future__ import annotations

import logging
import threading

import pytest

from threaded_order import Scheduler, ThreadProxyLogger, configure_logging

from ._support import TIMEOUT


@pytest.fixture
def root_logger():
    """Give the test the root logger and put its handlers and level back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def _ours(root):
    return [h for h in root.handlers if type(h).__name__ == "_ThreadedOrderHandler"]


def test_thread_proxy_logger_logs_through_the_current_threads_logger(caplog):
    proxy = ThreadProxyLogger()
    caplog.set_level(logging.INFO)

    def log_from_thread():
        proxy.info("hello from %s", "worker")

    thread = threading.Thread(target=log_from_thread, name="thread_7")
    thread.start()
    thread.join(TIMEOUT)
    proxy.warning("from the test")
    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("thread_7", "hello from worker") in records
    assert (threading.current_thread().name, "from the test") in records


def test_tasks_log_under_their_worker_names(caplog):
    proxy = ThreadProxyLogger()
    caplog.set_level(logging.INFO)
    s = Scheduler(workers=2)
    barrier = threading.Barrier(2)

    def task():
        barrier.wait(timeout=TIMEOUT)
        proxy.info("task ran")

    s.register(task, "a")
    s.register(task, "b")
    assert s.start()["failed"] == []
    names = sorted(r.name for r in caplog.records if r.getMessage() == "task ran")
    assert names == ["thread_0", "thread_1"]


def test_configure_logging_lines_carry_the_thread_name(root_logger, capsys):
    configure_logging()
    thread = threading.Thread(target=lambda: logging.getLogger("x").info("line"), name="thread_3")
    thread.start()
    thread.join(TIMEOUT)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.endswith("INFO line")]
    assert len(lines) == 1 and "[thread_3]" in lines[0]


def test_configure_logging_is_idempotent_and_keeps_other_handlers(root_logger):
    users = logging.NullHandler()
    root_logger.addHandler(users)
    configure_logging()
    configure_logging()
    configure_logging(verbose=True)
    assert len(_ours(root_logger)) == 1
    assert users in root_logger.handlers
    assert root_logger.level == logging.DEBUG
    configure_logging(add_stream_handler=False)
    assert _ours(root_logger) == [] and users in root_logger.handlers
    assert root_logger.level == logging.INFO


def test_scheduler_setup_logging_configures_once(root_logger):
    Scheduler(workers=1, setup_logging=True)
    Scheduler(workers=1, setup_logging=True)
    assert len(_ours(root_logger)) == 1
    Scheduler(workers=1, setup_logging=True, add_stream_handler=False)
    assert _ours(root_logger) == []


def test_configure_logging_writes_a_file_when_asked(root_logger, tmp_path):
    path = tmp_path / "run.log"
    configure_logging(add_stream_handler=False, log_file=str(path))
    logging.getLogger("y").warning("to the file")
    for handler in list(root_logger.handlers):
        if getattr(handler, "_threaded_order", 0):
            handler.close()
            root_logger.removeHandler(handler)
    text = path.read_text()
    assert "to the file" in text and f"[{threading.current_thread().name}]" in text
