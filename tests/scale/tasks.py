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


# -- hostile objects: a return value or an exception that cannot become bytes or text --------


class ReduceExits:
    def __reduce__(self) -> Any:
        raise SystemExit(3)


class Unprintable(Exception):
    def __str__(self) -> str:
        raise SystemExit("from __str__")


class NoRepr(Exception):
    def __str__(self) -> str:
        raise ValueError("str")

    def __repr__(self) -> str:
        raise ValueError("repr")


class ReduceRaisesUnprintable:
    def __reduce__(self) -> Any:
        raise Unprintable()


def returns_unpicklable() -> Any:
    return ReduceExits()


def returns_worse() -> Any:
    return ReduceRaisesUnprintable()


def raises_unprintable() -> None:
    raise Unprintable()


def raises_no_repr() -> None:
    raise NoRepr()


# -- handshakes through files in state["dir"] -------------------------------------------------


def _wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def writes_pid_and_hangs(state: dict[str, Any]) -> None:
    (Path(state["dir"]) / "hangs.pid").write_text(str(os.getpid()))
    time.sleep(60)


def blocks_until_released(state: dict[str, Any]) -> None:
    """Runs until the file ``release`` appears, then says it ended."""
    folder = Path(state["dir"])
    _wait_for(folder / "release")
    (folder / "stuck.ended").write_text("")


def second_in_group(state: dict[str, Any]) -> str:
    folder = Path(state["dir"])
    ended = (folder / "stuck.ended").exists()
    (folder / "second.started").write_text("")
    assert ended, "started while the timed-out body of its group was still running"
    return "after the body ended"


def runs_until_second_started(state: dict[str, Any]) -> None:
    _wait_for(Path(state["dir"]) / "second.started")


def crashes_once_innocent_waits() -> None:
    """Kills its Dask worker once the task named 'innocent' waits on that worker too."""
    from distributed import get_worker

    worker = get_worker()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            str(key).startswith("innocent-") for key in worker.state.tasks):
        time.sleep(0.01)
    os._exit(13)


def forks() -> str:
    """A child forked by the body comes back out of it: it must end there."""
    pid = os.fork()
    if pid == 0:
        return "child"
    _, status = os.waitpid(pid, 0)
    return f"parent; the child ended with {os.waitstatus_to_exitcode(status)}"
