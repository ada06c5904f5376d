"""Signals for the whole of one ``mtrun`` run.

CI systems cancel a job with SIGTERM (SIGHUP when a terminal goes away): mtrun treats both as
a Ctrl-C that also cancels the running tasks, so the summary and every report are still
written. Before the run a signal stops mtrun at once (a slow import must not keep it going);
while the scheduler runs it is handed to ``Scheduler.interrupt`` (the core has its own SIGINT
handler then); after the run it is only recorded, so that writing the summary and the reports
cannot be cut short, and the exit code says the run was interrupted.

Also here: how whatever stops mtrun becomes an exit code and one line on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any, Callable, NamedTuple, Optional, TypeVar

import click

from threaded_order import hookimpl
from threaded_order.ext import safe_format_exception, safe_repr, safe_str, type_name

from .config import (
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TESTS_FAILED,
    EXIT_USAGE_ERROR,
    ReporterError,
    UsageError,
)
from .terminal import discard_rest

T = TypeVar("T")

SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
SETUP, RUNNING, FINISHING = "setup", "running", "finishing"
# How long signals must go on after the run before a stuck step is broken into.
ESCALATE_AFTER = 2.0


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """A signal stopped mtrun before its run; a KeyboardInterrupt, so a test module's
    ``except Exception`` cannot swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


class Lifecycle:
    """Installs mtrun's handlers on entry and puts the previous ones back on exit.

    ``final``: mtrun's own process is about to exit (the console entry point); instead of the
    previous handlers, leave ones that exit at once with the run's exit code, so a signal
    during interpreter shutdown cannot turn a written result into a traceback.
    """

    def __init__(self, final: bool = False) -> None:
        self.final = final
        self.phase = SETUP
        self.received: list[int] = []  # every signal our handlers took, in order
        self.pending: list[int] = []  # taken while running, before the scheduler could
        self.scheduler: Any = None
        self.forwarding = False
        self.sigints_forwarded = 0
        self.previous: dict[int, Any] = {}
        self.exit_code: int = EXIT_INTERNAL_ERROR
        self.pid = os.getpid()
        self.finishing_since: Optional[float] = None

    # -- installing --------------------------------------------------------------------

    def __enter__(self) -> Lifecycle:
        if threading.current_thread() is not threading.main_thread():
            return self  # signal.signal works only there; the caller owns signals then
        for signum in SIGNALS:
            try:
                old = signal.getsignal(signum)
                if old == signal.SIG_IGN:
                    continue  # nohup, a background job: the user asked to ignore it
                signal.signal(signum, self._handle)
            except (OSError, ValueError):
                continue
            self.previous[signum] = old
        return self

    def __exit__(self, *exc: object) -> None:
        previous, self.previous = self.previous, {}
        for signum, old in previous.items():
            handler = self._late if self.final else (signal.SIG_DFL if old is None else old)
            try:
                signal.signal(signum, handler)
            except (OSError, ValueError):
                pass

    # -- the phases ----------------------------------------------------------------------

    @property
    def interrupted(self) -> bool:
        return bool(self.received)

    def begin_run(self, scheduler: Any) -> None:
        """Just before ``scheduler.start()``: from now on signals go to the scheduler."""
        self.scheduler = scheduler
        self.phase = RUNNING
        if self.received:  # one that arrived before and was swallowed by a test module
            self.phase = FINISHING
            raise Interrupted(self.received[0])

    def end_run(self) -> None:
        """``start()`` returned or raised: signals are only recorded from now on."""
        self.phase = FINISHING
        self.forwarding = False
        self.scheduler = None

    def stop_setup(self) -> None:
        """mtrun is stopping before its run (an error): a signal must not cut that short."""
        if self.phase == SETUP:
            self.phase = FINISHING

    def exit_code_for(self, code: int) -> int:
        """An interrupt turns a pass or a failure into 2; worse outcomes keep their code."""
        if self.received and code in (EXIT_OK, EXIT_TESTS_FAILED):
            return EXIT_INTERRUPTED
        return code

    @hookimpl(tryfirst=True)
    def threaded_order_scheduler_start(self, scheduler: Any) -> None:
        """The run exists now: hand it the signals taken since ``begin_run``."""
        if self.phase != RUNNING or scheduler is not self.scheduler:
            return
        self.forwarding = True  # before reading pending: a signal from now on is forwarded
        pending, self.pending = self.pending, []
        self._forward(pending)

    # -- handlers --------------------------------------------------------------------------

    def _in_child(self, signum: int) -> bool:
        """A forked child (a process pool's worker, a task's ``os.fork()``) inherits our
        handlers; there the signal does what it would without mtrun: usually, end it."""
        if os.getpid() == self.pid:
            return False
        try:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        except (OSError, ValueError):
            os._exit(128 + signum)
        return True

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._in_child(signum):
            return
        self.received.append(signum)
        if self.phase == SETUP:
            self.phase = FINISHING  # later signals are only recorded while mtrun stops
            raise Interrupted(signum)
        if self.phase == RUNNING:
            if self.forwarding:
                self._forward([signum])
            else:
                self.pending.append(signum)
        elif self.phase == FINISHING:
            self._escalate()

    def _escalate(self) -> None:
        """Signals after the run wait for the reports. Only when they go on for
        ``ESCALATE_AFTER`` seconds (something after the run hangs: a plugin's hook, an
        executor's shutdown) is the waiting broken into, as the core does for Ctrl-C."""
        now = time.monotonic()
        if self.finishing_since is None:
            self.finishing_since = now
        elif now - self.finishing_since >= ESCALATE_AFTER:
            self.finishing_since = None
            raise KeyboardInterrupt

    def _forward(self, signums: list[int]) -> None:
        if not signums:
            return
        interrupt = getattr(self.scheduler, "interrupt", None)
        if interrupt is None:  # not a threaded_order Scheduler: recorded only
            return
        for signum in signums:
            if signum == signal.SIGINT:
                self.sigints_forwarded += 1
                interrupt(cancel=self.sigints_forwarded > 1)
            else:
                interrupt(cancel=True)

    @staticmethod
    def ignore_at_exit() -> None:
        """For ``atexit``, registered before the run so it comes last: the interpreter then
        puts every Python signal handler back to the default, and a Ctrl-C in that moment
        would kill a process whose work is done. Ignored ones are left alone."""
        for signum in SIGNALS:
            try:
                signal.signal(signum, signal.SIG_IGN)
            except (OSError, ValueError):
                pass

    def _late(self, signum: int, frame: Optional[FrameType]) -> None:
        """After the run, in mtrun's own process: everything is written, so exit now."""
        if self._in_child(signum):
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(self.exit_code)


# -- how mtrun ends -----------------------------------------------------------------------

def error(message: str) -> None:
    sys.stderr.write(f"mtrun: error: {one_line(message)}\n")
    sys.stderr.flush()


def one_line(message: object) -> str:
    """One line, even when an exception's message (or a plugin's) spans several."""
    return " ".join(line.strip() for line in safe_str(message).splitlines() if line.strip())


class OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))


@contextlib.contextmanager
def core_messages() -> Iterator[None]:
    """Send the core's own warnings (Ctrl-C, a plugin hook that raised) to stderr.

    Without this they reach the root logger, where capture's handler swallows them while
    tasks run; with it they are one line on stderr whether capture is on or not.
    """
    logger = logging.getLogger("threaded_order")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine("%(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def settled(life: Lifecycle, body: Callable[[], T], on_error: Callable[[BaseException], T]
             ) -> T:
    """``body()``, or ``on_error`` of what it raised. Once ``body`` ends, no signal raises any
    more, and the one that may land in between is caught here too."""
    try:
        try:
            return body()
        finally:
            life.stop_setup()
    except BaseException as exc:
        return on_error(exc)


class Outcome(NamedTuple):
    """How mtrun ends: the exit code, the error line (if any) and, with --verbose, the
    traceback printed after it."""

    code: int
    message: Optional[str] = None
    details: str = ""


def report(end: Outcome) -> int:
    if end.message:
        error(end.message)
    if end.details:
        sys.stderr.write(end.details)
    return end.code


def outcome(exc: BaseException, verbose: bool) -> Outcome:
    """The exit code and the error line for what stopped mtrun."""
    if isinstance(exc, UsageError):
        code, message = exc.exit_code, safe_str(exc)
    elif isinstance(exc, ReporterError):
        code, message = EXIT_USAGE_ERROR, safe_str(exc)
    elif isinstance(exc, click.exceptions.Exit):
        return Outcome(exc.exit_code)
    elif isinstance(exc, click.ClickException):
        return Outcome(EXIT_USAGE_ERROR, exc.format_message())
    elif isinstance(exc, Interrupted) and exc.signum != signal.SIGINT:
        return Outcome(EXIT_INTERRUPTED, f"interrupted by {signal_name(exc.signum)}")
    elif isinstance(exc, KeyboardInterrupt):
        return Outcome(EXIT_INTERRUPTED, "interrupted")
    elif isinstance(exc, BrokenPipeError):  # mtrun --collect-only | head: the reader had enough
        discard_rest(sys.stdout)
        return Outcome(EXIT_OK)
    elif isinstance(exc, SystemExit):
        code = EXIT_INTERNAL_ERROR
        message = f"internal error: sys.exit({safe_repr(exc.code)}) was called outside a task"
    else:
        code, message = EXIT_INTERNAL_ERROR, f"internal error: {type_name(exc)}: {safe_str(exc)}"
    return Outcome(code, message, safe_format_exception(exc, exc.__traceback__) if verbose else "")


def describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"sys.exit({safe_repr(exc.code)}) was called"
    return f"{type_name(exc)}: {safe_str(exc)}"
