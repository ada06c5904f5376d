"""The progress reporter: a live bar with counts, elapsed time, an estimate and the tasks
running now.

rich's ``Live`` redraws the bar on its own refresh thread, so the clock and the estimate
move while a long task runs and no event comes; the hooks only change the counts (and
redraw at once when the last redraw is older than ``refresh_interval``). The state the
drawing reads is changed and read under one lock. When the output is not a terminal the
reporter does nothing at all.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from threaded_order import FAILED, PASSED, SKIPPED, TaskResult, hookimpl
from threaded_order.ext import check_seconds
from threaded_order.reporting import ReporterError

from .routing import Router

if TYPE_CHECKING:
    from threaded_order import Summary
    from threaded_order_cli.config import Config

_STREAMS = {None: "stderr", "stderr": "stderr", "-": "stdout", "stdout": "stdout"}
# The refresh thread redraws at most this often, whatever ``refresh_interval`` says.
_FASTEST = 0.05


def clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def console_for(dest: Optional[str]) -> Console:
    """A console on the real stream named by DEST, held directly (not looked up on ``sys``
    each time), so swapping ``sys.stderr`` for a proxy cannot loop back into it."""
    if dest not in _STREAMS:
        raise ReporterError(
            f"progress reporter: DEST must be stderr (the default) or stdout (or -), "
            f"not {dest!r}"
        )
    return Console(file=getattr(sys, _STREAMS[dest]), highlight=False)


class _Live(Live):
    """rich's ``Live``, with the lock its refresh thread holds while redrawing: a line
    printed above the bar under it never lands in the middle of a redraw."""

    @property
    def lock(self) -> threading.RLock:
        return self._lock


class ProgressReporter:
    """A live progress bar for a run: ``Scheduler(plugins=[ProgressReporter()])``.

    ``dest``: ``"stderr"`` (None, the default) or ``"stdout"``/``"-"``. ``console``: draw on
    this rich console instead (it decides whether this is a terminal). ``refresh_interval``:
    seconds between redraws of rich's refresh thread (at least 0.05), and the least age of
    the last redraw for a task event to redraw at once (0: every event redraws). While the
    bar is shown, terminal output from print, logging and mtrun's terminal reporter goes
    through the bar's console, and under mtrun the terminal reporter leaves out its
    ``.F s`` characters (this reporter claims the terminal).
    """

    def __init__(
        self,
        dest: Optional[str] = None,
        *,
        config: Optional[Config] = None,
        console: Optional[Console] = None,
        refresh_interval: float = 0.1,
        max_running_lines: int = 8,
    ) -> None:
        check_seconds(refresh_interval, "refresh_interval", zero_ok=True)
        self.console = console if console is not None else console_for(dest)
        self.config = config
        self.refresh_interval = refresh_interval
        self.max_running_lines = max_running_lines
        self.live: Optional[_Live] = None
        self.router: Optional[Router] = None
        self._state = threading.Lock()  # the hooks write what the refresh thread reads
        self._reset(0, 0)

    def _reset(self, total: int, workers: int) -> None:
        with self._state:
            self.total, self.workers = total, workers
            self.counts = {PASSED: 0, FAILED: 0, SKIPPED: 0}
            self.cancelled = 0
            self.running: dict[str, str] = {}  # task name -> thread, in start order
            self.started = time.monotonic()
            self.last_refresh = 0.0
            self.finished_in: Optional[float] = None
            self.final = False

    # -- hooks -----------------------------------------------------------------------

    @hookimpl(optionalhook=True)
    def threaded_order_cli_claims_terminal(self) -> bool:
        """The bar is drawn only on a terminal; there, it is the run's display."""
        return bool(self.console.is_terminal)

    @hookimpl
    def threaded_order_scheduler_start(self, meta: dict[str, Any]) -> None:
        self.stop()
        self._reset(meta["total_tasks"], meta["workers"])
        if not self.console.is_terminal:
            return
        live = _Live(
            console=self.console, get_renderable=self.render, auto_refresh=True,
            refresh_per_second=1 / max(self.refresh_interval, _FASTEST), transient=False,
            redirect_stdout=False, redirect_stderr=False,
        )
        self.router = Router(self.console, live.lock)
        self.router.route()
        self.live = live
        live.start(refresh=True)

    @hookimpl
    def threaded_order_task_run(self, name: str, thread: str) -> None:
        if self.live is not None:
            with self._state:
                self.running[name] = thread
            self.refresh()

    @hookimpl
    def threaded_order_task_done(self, result: TaskResult) -> None:
        if self.live is not None:
            with self._state:
                self.running.pop(result.name, None)
                self.counts[result.status] = self.counts.get(result.status, 0) + 1
            self.refresh()

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        if self.live is not None:
            with self._state:
                self.cancelled = len(summary["cancelled"])
                self.finished_in = summary["duration"]
                self.running.clear()
        self.stop()

    @hookimpl(optionalhook=True)
    def threaded_order_cli_unconfigure(self) -> None:
        """A safety net: if the run ended without scheduler_done, still give the terminal
        back."""
        self.stop()

    # -- drawing ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw now, unless a redraw (of the refresh thread or a hook) is recent."""
        live = self.live
        if live is not None and time.monotonic() - self.last_refresh >= self.refresh_interval:
            live.refresh()

    def stop(self) -> None:
        """Put every stream back, draw the final bar and leave it on screen."""
        live, self.live = self.live, None
        router, self.router = self.router, None
        try:
            if router is not None:
                router.restore()
        finally:
            if live is not None:
                with self._state:
                    self.final = True
                live.stop()  # stops the refresh thread, then draws once more

    def render(self) -> RenderableType:
        """One bar line, then one line per running task (only the bar line at the end).
        Called by rich on its refresh thread, and on the thread of a hook."""
        now = self.last_refresh = time.monotonic()
        with self._state:
            final = self.final
            done = sum(self.counts.values())
            passed, failed, skipped = (self.counts[k] for k in (PASSED, FAILED, SKIPPED))
            elapsed = self.finished_in if final and self.finished_in is not None else (
                now - self.started)
            total, cancelled = self.total, self.cancelled
            running = list(self.running.items())
        bar = ProgressBar(
            total=max(total, 1), completed=done if total else 1, width=30,
            complete_style="red" if failed else "green",
            finished_style="red" if failed else "green",
        )
        percent = 100 * done // total if total else 100
        parts: list[Any] = [
            f" {done}/{total} {percent:3d}% • ",
            (f"{passed} passed", "green"), ", ",
            (f"{failed} failed", "red" if failed else ""), ", ",
            (f"{skipped} skipped", "yellow" if skipped else ""),
        ]
        if cancelled:
            parts += [", ", (f"{cancelled} cancelled", "yellow")]
        parts.append(f" • {clock(elapsed)}")
        if not final:
            # The rate so far, now: while no task ends, the estimate grows with the clock.
            left = elapsed / done * (total - done) if done else None
            parts.append(f" • ETA {clock(left)}" if left is not None else " • ETA -:--:--")
        line = Table.grid()
        line.add_column(no_wrap=True)
        line.add_column(no_wrap=True, overflow="ellipsis")
        line.add_row(bar, Text.assemble(*parts))
        if final:
            return line
        rows: list[RenderableType] = [line]
        shown = running[: self.max_running_lines]
        for name, thread in shown:
            rows.append(Text(f"  {thread}  {name}", no_wrap=True, overflow="ellipsis",
                             style="dim"))
        hidden = len(running) - len(shown)
        if hidden > 0:
            rows.append(Text(f"  ... and {hidden} more", style="dim"))
        return Group(*rows)
