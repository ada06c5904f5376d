"""The child side of ``testing.spawn_mtrun``: reading its output streams into lines a test
can wait for, the signals it starts with, and its pseudo-terminal. Internal to ``testing``."""

from __future__ import annotations

import codecs
import signal
import sys
import threading
import time
from typing import BinaryIO, Callable, Optional


class ChildOutput:
    """One output stream of the child, read by a thread into lines a test can wait for."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._partial = ""
        self._seen = 0  # lines already looked at by next_with
        self._ended = False
        self._changed = threading.Condition()

    def pump(self, stream: BinaryIO, encoding: str) -> None:
        """Read ``stream`` to its end, then close it."""
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        read = getattr(stream, "read1", stream.read)
        with stream:
            try:
                while True:
                    try:
                        data = read(65536)
                    except OSError:  # EIO once the child has closed its terminal
                        data = b""
                    self._feed(decoder.decode(data, final=not data))
                    if not data:
                        return
            finally:
                self.end()

    def end(self) -> None:
        with self._changed:
            self._lines += [self._partial] if self._partial else []
            self._partial, self._ended = "", True
            self._changed.notify_all()

    def _feed(self, text: str) -> None:
        with self._changed:
            *complete, self._partial = (self._partial + text).split("\n")
            self._lines.extend(line + "\n" for line in complete)
            self._changed.notify_all()

    def text(self) -> str:
        with self._changed:
            return "".join(self._lines) + self._partial

    def next_with(self, text: str, deadline: float) -> Optional[str]:
        """The next line containing ``text``; None once the stream ended or time ran out."""
        with self._changed:
            while True:
                while self._seen < len(self._lines):
                    self._seen += 1
                    if text in self._lines[self._seen - 1]:
                        return self._lines[self._seen - 1]
                remaining = deadline - time.monotonic()
                if self._ended or remaining <= 0:
                    return None
                self._changed.wait(remaining)


def child_setup(ignore: tuple[int, ...], then: Optional[Callable[[], None]]
                 ) -> Optional[Callable[[], None]]:
    """What the child runs before mtrun, only when needed: a preexec_fn is not free when
    this process has threads."""
    inherited = sys.platform != "win32" and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if not (ignore or then or inherited):
        return None

    def setup() -> None:  # pragma: no cover - runs in the child
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for signum in ignore:
            signal.signal(signum, signal.SIG_IGN)
        if then is not None:
            then()

    return setup


def open_tty(size: tuple[int, int]) -> tuple[int, int]:
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    return master, slave
