"""Fixtures for every test folder."""

from __future__ import annotations

import faulthandler
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from threaded_order_cli.testing import TIMEOUT, MtrunProcess, spawn_mtrun

# Every wait in the tests gives up after TIMEOUT; this catches what no wait covers (a
# start() that never returns in-process). Well above one test's waits added up.
HANG_LIMIT = 3 * TIMEOUT


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging() -> Iterator[None]:
    """Dump every thread's stack and exit if one test runs far too long."""
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def spawn() -> Iterator[Callable[..., MtrunProcess]]:
    """``spawn_mtrun``, with every mtrun it started killed (if still running) after the
    test, even one that failed half-way."""
    started: list[MtrunProcess] = []

    def start(*args: Any, **options: Any) -> MtrunProcess:
        started.append(spawn_mtrun(*args, **options))
        return started[-1]

    yield start
    for process in started:
        process.__exit__(None, None, None)
