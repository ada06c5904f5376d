"""Task policies with mtrun: a flaky test retried, a hung test timed out, tests sharing a
database kept apart, and async tests.

Run it with: mtrun examples/policies.py --skip-deps
"""

import asyncio
import threading

from threaded_order import dmark

attempts = {"flaky": 0}
hang_forever = threading.Event()


@dmark(retries=2, retry_delay=0.01)
def test_flaky():
    """Fails on its first try, passes on its second: reported as passed, attempts 2."""
    attempts["flaky"] += 1
    assert attempts["flaky"] > 1, "first try fails"


@dmark(timeout=0.5)
def test_hung():
    """Never returns: failed with TimeoutError after 0.5 s; the run goes on."""
    hang_forever.wait()


@dmark(after=["test_hung"])
def test_needs_hung():
    """Skipped with --skip-deps, since test_hung failed."""


@dmark(group="db")
def test_db_write():
    """test_db_write and test_db_read never run at the same time (group db, limit 1)."""


@dmark(group="db", after=["test_flaky"])
def test_db_read():
    pass


@dmark()
async def test_async_fetch():
    """async def tasks run on their worker's event loop."""
    await asyncio.sleep(0.01)
    return "fetched"


@dmark(after=["test_async_fetch"], with_state=True)
async def test_async_use(state):
    assert state["results"]["test_async_fetch"] == "fetched"
