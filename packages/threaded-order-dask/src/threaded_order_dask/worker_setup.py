"""Preloaded into the worker processes of the local cluster that ``DaskExecutor.local``
starts (also those the nanny restarts after a crash).

Ctrl-C in a terminal reaches the whole process group, workers included: they ignore it, so
the scheduler decides what it means, as with threads (the first lets running tasks finish,
the second stops waiting for them, and closing the cluster then ends them).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
