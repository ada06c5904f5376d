"""Logging whose lines carry the name of the thread that wrote them."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Optional

FORMAT = "%(asctime)s [%(threadName)s] %(levelname)s %(message)s"


class ThreadProxyLogger:
    """Logs through the logger named after the current thread (``thread_0``, ...)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(logging.getLogger(threading.current_thread().name), name)


class _ThreadedOrderHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module added, so a second call replaces it."""


def configure_logging(
    workers: Optional[int] = None,
    prefix: str = "thread",
    add_stream_handler: bool = True,
    verbose: bool = False,
    log_file: Optional[str] = None,
) -> None:
    """Send log lines with thread names to stderr (INFO, or DEBUG when verbose).

    Unlike the original it keeps other handlers and writes no files unless ``log_file``
    is given. ``workers`` and ``prefix`` are accepted for compatibility.
    """
    root = logging.getLogger()
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    for handler in list(root.handlers):
        if isinstance(handler, _ThreadedOrderHandler) or getattr(handler, "_threaded_order", False):
            root.removeHandler(handler)
    formatter = logging.Formatter(FORMAT)
    if add_stream_handler:
        stream = _ThreadedOrderHandler(sys.stderr)
        stream.setLevel(level)
        stream.setFormatter(formatter)
        root.addHandler(stream)
    if log_file:
        file_handler = logging.FileHandler(log_file)
        file_handler._threaded_order = 1  # type: ignore[attr-defined]
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
