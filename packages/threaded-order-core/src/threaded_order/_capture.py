"""Per-task capture of stdout, stderr and log records while tasks share threads and streams.

``sys.stdout`` and ``sys.stderr`` are replaced for the length of a run by streams that write
to the buffer of the task running on the current thread, or to the real stream otherwise.
A root-logger handler does the same for log records.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any, Optional, TextIO

_local = threading.local()


class TaskBuffers:
    __slots__ = ("log", "stderr", "stdout")

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.log = io.StringIO()


def current() -> Optional[TaskBuffers]:
    return getattr(_local, "buffers", None)


def begin() -> TaskBuffers:
    """Start capturing for the task about to run on this thread."""
    buffers = _local.buffers = TaskBuffers()
    return buffers


def adopt(buffers: Optional[TaskBuffers]) -> None:
    """Capture into another thread's task buffers (a timed task's helper thread)."""
    _local.buffers = buffers


def end() -> None:
    _local.buffers = None


class _RoutingStream(io.TextIOBase):
    """Writes to the current task's buffer, or passes through to the real stream."""

    def __init__(self, real: TextIO, which: str) -> None:
        self._real = real
        self._which = which

    def write(self, text: str) -> int:
        buffers = getattr(_local, "buffers", None)
        if buffers is None:
            return self._real.write(text)
        stream: io.StringIO = getattr(buffers, self._which)
        return stream.write(text)

    def flush(self) -> None:
        if getattr(_local, "buffers", None) is None:
            self._real.flush()

    def isatty(self) -> bool:
        return getattr(_local, "buffers", None) is None and self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def buffer(self) -> _RoutingBuffer:
        """Bytes written here go where text would: a task's bytes are decoded into its
        buffer, so ``sys.stdout.buffer.write`` works and is captured like ``print``."""
        return _RoutingBuffer(self)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _RoutingBuffer(io.RawIOBase):
    """The binary side of a routing stream."""

    def __init__(self, text: _RoutingStream) -> None:
        super().__init__()
        self._text = text

    def write(self, data: Any) -> int:
        size = len(memoryview(data).cast("B"))
        if getattr(_local, "buffers", None) is None:
            real = getattr(self._text._real, "buffer", None)
            if real is not None:
                self._text._real.flush()  # text written before these bytes comes first
                return int(real.write(data))
        self._text.write(bytes(data).decode(self._text.encoding or "utf-8", "replace"))
        return size

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        if getattr(_local, "buffers", None) is None:
            self._text.flush()
            real = getattr(self._text._real, "buffer", None)
            if real is not None:
                real.flush()

    def fileno(self) -> int:
        return self._text.fileno()

    def isatty(self) -> bool:
        return self._text.isatty()


class _LogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        buffers = getattr(_local, "buffers", None)
        if buffers is not None:
            try:
                buffers.log.write(self.format(record) + "\n")
            except Exception:
                self.handleError(record)


class Capture:
    """Installs the routing streams and log handler for one run, and restores them after."""

    FORMAT = "%(levelname)-8s %(name)s:%(filename)s:%(lineno)d %(message)s"

    def __init__(self) -> None:
        self._saved: Optional[tuple[TextIO, TextIO]] = None
        self._handler = _LogHandler()
        self._handler.setFormatter(logging.Formatter(self.FORMAT))

    def __enter__(self) -> Capture:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _RoutingStream(sys.stdout, "stdout")
        sys.stderr = _RoutingStream(sys.stderr, "stderr")
        logging.getLogger().addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self._handler)
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved
            self._saved = None
