"""Where the reporter's lines go: a stream looked up at each write, or a file written whole."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Optional

from threaded_order.reporting import discard, open_beside, publish, replaceable


class Sink:
    """The end of the processor chain: writes each rendered line and flushes it.

    stderr and stdout are looked up at each write, so a live display that redirects them
    (the progress reporter) still gets our lines. A file is written beside its DEST and
    renamed over it when the run ends (``close``), so the DEST holds every line of a run or
    none, never half of one; a later run's lines are added to it the same way. After a write
    fails, the rest of the run's lines are dropped, so the failure is reported once rather
    than per event. Only the scheduler thread writes (lines logged in tasks wait in the
    reporter until its next event), so no lock is needed and capture never takes a line.
    """

    def __init__(self, stream: Optional[str], path: Optional[Path]) -> None:
        self.stream = stream
        self.path = path
        self.file: Optional[IO[bytes]] = None
        self.temp: Optional[Path] = None
        self.opened_before = False
        self.failed = False

    def msg(self, message: str) -> None:
        if self.failed:
            return
        try:
            if self.path is None:
                out = getattr(sys, self.stream or "stderr")
                out.write(message + "\n")
                out.flush()
                return
            if self.file is None:
                self._open(self.path)
            assert self.file is not None
            self.file.write((message + "\n").encode("utf-8", "backslashreplace"))
            self.file.flush()
        except OSError as exc:
            self.failed = True
            self._discard(stale=True)
            raise self._error(exc) from None

    debug = info = warning = error = critical = exception = log = msg

    def _open(self, path: Path) -> None:
        if not replaceable(path):  # /dev/null, a FIFO: nothing to rename over
            self.file = open(path, "ab" if self.opened_before else "wb")  # noqa: SIM115
        else:
            self.file, self.temp = open_beside(path)
            if self.opened_before and path.exists():  # an earlier run's lines come first
                self.file.write(path.read_bytes())
        self.opened_before = True

    def _discard(self, stale: bool) -> None:
        file, self.file = self.file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        temp, self.temp = self.temp, None
        if temp is not None:
            discard(temp, self.path if stale else None)

    def close(self) -> None:
        """Put the run's lines in place; a failure is one line, raised once."""
        file, temp = self.file, self.temp
        try:
            if file is not None:
                file.close()
                if temp is not None and self.path is not None:
                    publish(temp, self.path)
                    self.temp = None
        except OSError as exc:
            self._discard(stale=True)
            raise self._error(exc) from None
        finally:
            self.file = None
            self._discard(stale=False)
            self.failed = False

    def _error(self, exc: OSError) -> OSError:
        return OSError(f"structlog reporter: cannot write {str(self)!r}: {exc.strerror or exc}")

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else (self.stream or "stderr")
