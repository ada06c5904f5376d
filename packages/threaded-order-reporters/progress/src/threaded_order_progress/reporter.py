"""The progress reporter: a live bar with counts, elapsed time, an estimate and the tasks
running now.

rich's ``Live`` runs with ``auto_refresh=False``: there is no refresh thread, and the bar is
redrawn only from the scheduler hooks, on the scheduler thread (at most every
``refresh_interval`` seconds, and always at the start and the end). When the output is not
a terminal the reporter does nothing at all.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from threaded_order import FAILED, PASSED, SKIPPED, TaskResult, hookimpl
from threaded_order_cli.config import ReporterError

from .routing import Router

if TYPE_CHECKING:
    from threaded_order import Summary
    from threaded_order_cli.config import Config

_STREAMS = {None: "stderr", "stderr": "stderr", "-": "stdout", "stdout": "stdout"}


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


class ProgressReporter:
    """A live progress bar for a run: ``Scheduler(plugins=[ProgressReporter()])``.

    ``dest``: ``"stderr"`` (None, the default) or ``"stdout"``/``"-"``. ``console``: draw on
    this rich console instead (it decides whether this is a terminal). While the bar is
    shown, terminal output from print, logging and mtrun's terminal reporter goes through
    the bar's console, and under mtrun the terminal reporter leaves out its ``.F s``
    characters (this reporter claims the terminal).
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
        self.console = console if console is not None else console_for(dest)
        self.config = config
        self.refresh_interval = refresh_interval
        self.max_running_lines = max_running_lines
        self.live: Optional[Live] = None
        self.router: Optional[Router] = None
        self._reset(0, 0)

    def _reset(self, total: int, workers: int) -> None:
        self.total, self.workers = total, workers
        self.counts = {PASSED: 0, FAILED: 0, SKIPPED: 0}
        self.cancelled = 0
        self.running: dict[str, str] = {}  # task name -> thread, in start order
        self.started = time.monotonic()
        self.last_refresh = 0.0
        self.finished_in: Optional[float] = None

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
        self.router = Router(self.console)
        self.router.route()
        self.live = Live(
            self.render(), console=self.console, auto_refresh=False, transient=False,
            redirect_stdout=False, redirect_stderr=False,
        )
        self.live.start(refresh=True)
        self.last_refresh = time.monotonic()

    @hookimpl
    def threaded_order_task_run(self, name: str, thread: str) -> None:
        if self.live is not None:
            self.running[name] = thread
            self.refresh()

    @hookimpl
    def threaded_order_task_done(self, result: TaskResult) -> None:
        if self.live is not None:
            self.running.pop(result.name, None)
            self.counts[result.status] = self.counts.get(result.status, 0) + 1
            self.refresh()

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        if self.live is not None:
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

    def refresh(self, force: bool = False) -> None:
        """Print the lines workers wrote, then redraw the bar if it is time to."""
        if self.router is not None:
            self.router.drain()
        now = time.monotonic()
        if self.live is None or (not force and now - self.last_refresh < self.refresh_interval):
            return
        self.last_refresh = now
        self.live.update(self.render(), refresh=True)

    def stop(self) -> None:
        """Put every stream back, draw the final bar and leave it on screen."""
        live, self.live = self.live, None
        router, self.router = self.router, None
        try:
            if router is not None:
                router.restore()
        finally:
            if live is not None:
                live.update(self.render(final=True))
                live.stop()

    def render(self, final: bool = False) -> RenderableType:
        """One bar line, then one line per running task (only the bar line at the end)."""
        done = sum(self.counts.values())
        elapsed = self.finished_in if final and self.finished_in is not None else (
            time.monotonic() - self.started)
        failed = self.counts[FAILED]
        bar = ProgressBar(
            total=max(self.total, 1), completed=done if self.total else 1, width=30,
            complete_style="red" if failed else "green",
            finished_style="red" if failed else "green",
        )
        percent = 100 * done // self.total if self.total else 100
        parts: list[Any] = [
            f" {done}/{self.total} {percent:3d}% • ",
            (f"{self.counts[PASSED]} passed", "green"), ", ",
            (f"{failed} failed", "red" if failed else ""), ", ",
            (f"{self.counts[SKIPPED]} skipped", "yellow" if self.counts[SKIPPED] else ""),
        ]
        if self.cancelled:
            parts += [", ", (f"{self.cancelled} cancelled", "yellow")]
        parts.append(f" • {clock(elapsed)}")
        if not final:
            left = elapsed / done * (self.total - done) if done else None
            parts.append(f" • ETA {clock(left)}" if left is not None else " • ETA -:--:--")
        line = Table.grid()
        line.add_column(no_wrap=True)
        line.add_column(no_wrap=True, overflow="ellipsis")
        line.add_row(bar, Text.assemble(*parts))
        if final:
            return line
        rows: list[RenderableType] = [line]
        shown = list(self.running.items())[: self.max_running_lines]
        for name, thread in shown:
            rows.append(Text(f"  {thread}  {name}", no_wrap=True, overflow="ellipsis",
                             style="dim"))
        hidden = len(self.running) - len(shown)
        if hidden > 0:
            rows.append(Text(f"  ... and {hidden} more", style="dim"))
        return Group(*rows)
