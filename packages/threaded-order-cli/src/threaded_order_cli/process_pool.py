"""mtrun's built-in process pool for ``--executor processes``; imported only when chosen."""

from __future__ import annotations

import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .executors import PROCESSES


def _ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group: let mtrun decide, as with threads."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor(ProcessPoolExecutor):
    """mtrun's process pool. On Linux it forks, so children inherit the imported test
    modules; ``shutdown`` ends the processes, since a timed-out body may still be running
    and nothing useful is once the run is over."""

    def __init__(self, workers: int) -> None:
        fork = sys.platform.startswith("linux")
        super().__init__(max_workers=workers, initializer=_ignore_interrupts,
                         mp_context=multiprocessing.get_context("fork") if fork else None)
        self.description = f"{PROCESSES} ({workers} worker processes)"

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        processes: dict[Any, Any] = dict(getattr(self, "_processes", None) or {})
        super().shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        if wait:
            for process in processes.values():
                process.join(5)
