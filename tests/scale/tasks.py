"""Task bodies for the scale tests: module-level, so pool processes and Dask workers can
import them (pytest puts ``tests/`` on sys.path, which spawned workers inherit)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any


def pid() -> int:
    return os.getpid()


def one() -> int:
    return 1


def add_upstream(state: dict[str, Any]) -> dict[str, Any]:
    """Sees its dependencies' results and the initial state; its mutations stay here."""
    with state["_state_lock"]:  # a local RLock stands in for the scheduler's lock
        seen = sorted(state["results"])
        total = state["results"]["a"] + state["results"]["b"] + state["base"]
        state["base"] = "changed in the child"
        state["results"]["a"] = "changed in the child"
        state["extra"] = "added in the child"
    return {"seen": seen, "total": total, "lock": type(state["_state_lock"]).__name__}


def a() -> int:
    return 1


def b() -> int:
    return 2


def fails() -> None:
    value = 41
    raise AssertionError(f"expected 42, got {value}")


def exits() -> None:
    sys.exit(3)


def prints() -> str:
    print("to stdout from", os.getpid())
    print("to stderr", file=sys.stderr)
    logging.getLogger("scale").warning("a log record")
    return "printed"


async def sleeps_async() -> str:
    await asyncio.sleep(0.01)
    return "async done"


def hangs() -> None:
    time.sleep(30)


def crashes() -> None:
    os._exit(13)


def unpicklable_result() -> Any:
    return threading.Lock()


def flaky(state: dict[str, Any]) -> str:
    """Fails on its first attempt: the attempts are counted in a file, as each may run in
    another process."""
    marker = Path(state["marker"])
    if not marker.exists():
        marker.write_text("tried")
        raise RuntimeError("first attempt fails")
    return "passed on retry"


def returns_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "_state_lock"}
