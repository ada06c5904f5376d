"""How many worker threads a run has, and which are still being started.

Only the first worker is started by ``start()``; a worker that takes a task while more are
ready and none is idle starts the next one (as ThreadPoolExecutor grows its pool), outside
the lock, then says so. Everything here is guarded by the run's lock.
"""

from __future__ import annotations

import threading
from typing import Any


class WorkerStarts:
    def __init__(self, lock: Any, limit: int) -> None:
        self.limit = limit  # at most this many threads (lowered if one cannot be started)
        self.started = 0  # threads started, or being started, so far
        self.spawning = 0  # of those, how many a worker is starting right now
        self.quiet = threading.Condition(lock)

    def claim(self) -> int:
        """The number of the next worker to start (the caller starts it, then calls
        ``done``), or -1 at the limit."""
        if self.started >= self.limit:
            return -1
        self.started += 1
        self.spawning += 1
        return self.started - 1

    def done(self, ok: bool) -> None:
        """A claimed worker was started, or could not be (no thread to be had: carry on
        with those there are)."""
        if not ok:
            self.limit = self.started
        self.spawning -= 1
        if not self.spawning:
            self.quiet.notify_all()

    def wait_quiet(self) -> None:
        """Until no worker is being started, so none still starts once ``start()`` has
        returned or raised."""
        while self.spawning:
            self.quiet.wait()
