"""Helpers shared by the scale tests. Task bodies live in ``tasks.py``, which the worker
processes import by name."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from threaded_order import Scheduler, TaskResult
from threaded_order_cli.testing import TIMEOUT

__all__ = ["TIMEOUT", "alive", "check_hostile", "start", "write"]


def start(scheduler: Scheduler) -> dict[str, Any]:
    """``scheduler.start()``, failing the test instead of hanging it."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["summary"] = scheduler.start()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    if thread.is_alive():
        scheduler.interrupt(cancel=True)
        thread.join(TIMEOUT)
        pytest.fail(f"start() still running after {TIMEOUT:g}s")
    if "error" in box:
        raise box["error"]
    return box["summary"]  # type: ignore[no-any-return]


def check_hostile(records: dict[str, TaskResult]) -> None:
    """The tasks of ``tasks.py`` that return or raise hostile objects failed, each with a
    message that says why, and the task after them still ran."""
    assert records["still_runs"].ok
    assert (records["raises_unprintable"].error_type, records["raises_unprintable"].error) \
        == ("Unprintable", "<unprintable Unprintable>")
    assert (records["raises_no_repr"].error_type, records["raises_no_repr"].error) \
        == ("NoRepr", "<unprintable NoRepr>")
    assert records["returns_unpicklable"].error.endswith("cannot be pickled to send it back: "
                                                         "SystemExit: 3")
    assert records["returns_worse"].error.endswith(": Unprintable: <unprintable Unprintable>")


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not). Linux: reads /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def write(folder: Path, name: str, source: str) -> Path:
    """Write a dedented test module into ``folder`` and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path
