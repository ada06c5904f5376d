"""Sending other output through the live console while the bar is on screen.

Anything written straight to the terminal while rich's ``Live`` is drawing lands where the
bar is and leaves torn bars behind. So, while the bar is shown, streams that point at the
terminal (``sys.stdout``/``sys.stderr``, logging ``StreamHandler``s, the terminal
reporter's output) are swapped for a ``LineProxy`` that prints whole lines above the bar,
and they are put back afterwards.

A complete line is printed at once, on the thread that wrote it (a worker's ``print``
under ``-s`` shows while the task still runs), under the lock that rich's refresh thread
holds while it redraws: a line and a redraw never interleave. A process forked by a task
writes to the real stream instead: the lock may have been held, at the fork, by a thread
that does not exist in it.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import sys
import threading
from contextlib import AbstractContextManager
from typing import Any, Optional, TextIO

from rich.console import Console
from rich.text import Text


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class LineProxy(io.TextIOBase):
    """A terminal stream that hands complete lines to its ``Router``.

    Each thread keeps its own unfinished line, so lines written by different threads
    never tear each other. It stands in for ``sys.stdout`` and friends, so it keeps what
    code expects of them: ``buffer`` (bytes, decoded and routed the same way), ``fileno``,
    ``encoding``, ``errors`` and ``isatty``.
    """

    def __init__(self, router: Router, real: TextIO) -> None:
        self.router = router
        self.real = real
        self._pending: dict[int, str] = {}
        self._buffer: Optional[BytesProxy] = None

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        key = threading.get_ident()
        pending = self._pending.pop(key, "") + text
        complete, newline, rest = pending.rpartition("\n")
        if rest:
            self._pending[key] = rest
        if newline:
            self.router.emit(complete, self.real)
        return len(text)

    def flush(self) -> None:
        """Lines leave when complete; an unfinished line waits for its newline."""

    def flush_pending(self) -> None:
        """Hand over every thread's unfinished line (at the end, when workers are done)."""
        if self._buffer is not None:
            self._buffer.flush_pending()
        for key in list(self._pending):
            text = self._pending.pop(key, "")
            if text:
                self.router.emit(text, self.real)

    def isatty(self) -> bool:
        return isatty(self.real)

    def fileno(self) -> int:
        return self.real.fileno()

    def writable(self) -> bool:
        return True

    @property
    def buffer(self) -> BytesProxy:
        if self._buffer is None:
            self._buffer = BytesProxy(self)
        return self._buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self.real, "errors", None) or "strict"

    @property
    def name(self) -> Any:
        return getattr(self.real, "name", "<terminal>")


class BytesProxy(io.BufferedIOBase):
    """``LineProxy.buffer``: bytes written here are decoded (per thread, so a character
    split across two writes stays whole) and routed as text."""

    def __init__(self, text: LineProxy) -> None:
        self.text = text
        self._decoders: dict[int, codecs.IncrementalDecoder] = {}

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        key = threading.get_ident()
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = codecs.getincrementaldecoder(self.text.encoding)(errors="replace")
            self._decoders[key] = decoder
        self.text.write(decoder.decode(bytes(view)))
        return len(view)

    def flush(self) -> None:
        """As with the text stream: a line leaves when it is complete."""

    def flush_pending(self) -> None:
        for key in list(self._decoders):
            decoder = self._decoders.pop(key)
            text = decoder.decode(b"", final=True)
            if text:
                self.text.write(text)

    def isatty(self) -> bool:
        return self.text.isatty()

    def fileno(self) -> int:
        return self.text.fileno()

    def writable(self) -> bool:
        return True


class Router:
    """Swaps terminal streams for proxies, prints their lines above the bar, and puts back
    exactly what it swapped.

    ``lock``: held while a line is printed; the live display's own lock, so that the line
    and the display's redraws take turns.
    """

    def __init__(self, console: Console,
                 lock: Optional[AbstractContextManager[Any]] = None) -> None:
        self.console = console
        self.lock: AbstractContextManager[Any] = lock if lock is not None else threading.RLock()
        self.pid = os.getpid()
        self.proxies: dict[int, LineProxy] = {}
        self.undo: list[tuple[Any, str, Any, LineProxy]] = []

    def emit(self, text: str, real: Optional[Any] = None) -> None:
        """Print one line above the bar, now, whichever thread wrote it (in a forked
        child: to ``real``, the stream the proxy stands for)."""
        if os.getpid() != self.pid:
            stream = real if real is not None else self.console.file
            stream.write(text + "\n")
            stream.flush()
            return
        with self.lock:
            self.console.print(Text.from_ansi(text), soft_wrap=True, highlight=False)

    def proxy_for(self, stream: Any) -> Optional[LineProxy]:
        """The proxy of a terminal stream; None for files, pipes and proxies."""
        if isinstance(stream, LineProxy) or not isatty(stream):
            return None
        if id(stream) not in self.proxies:
            self.proxies[id(stream)] = LineProxy(self, stream)
        return self.proxies[id(stream)]

    def swap(self, owner: Any, attribute: str) -> None:
        old = getattr(owner, attribute, None)
        proxy = self.proxy_for(old)
        if proxy is not None:
            setattr(owner, attribute, proxy)
            self.undo.append((owner, attribute, old, proxy))

    def route(self) -> None:
        self.swap(sys, "stdout")
        self.swap(sys, "stderr")
        for handler in _stream_handlers():
            proxy = self.proxy_for(handler.stream)
            if proxy is not None:
                old = handler.setStream(proxy)
                self.undo.append((handler, "", old, proxy))

    def restore(self) -> None:
        """Print what is left, then put back each stream that still holds our proxy."""
        for proxy in self.proxies.values():
            proxy.flush_pending()
        for owner, attribute, old, proxy in reversed(self.undo):
            if not attribute:
                if owner.stream is proxy:
                    owner.setStream(old)
            elif getattr(owner, attribute, None) is proxy:
                setattr(owner, attribute, old)
        self.undo.clear()
        self.proxies.clear()


def _stream_handlers() -> list[logging.StreamHandler]:  # type: ignore[type-arg]
    """Every StreamHandler (not FileHandler) on the root logger and the named loggers."""
    loggers: list[Any] = [logging.getLogger()]
    loggers += [lg for lg in list(logging.Logger.manager.loggerDict.values())
                if isinstance(lg, logging.Logger)]
    found: list[logging.StreamHandler] = []  # type: ignore[type-arg]
    for lg in loggers:
        for handler in list(lg.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ) and handler not in found:
                found.append(handler)
    return found
