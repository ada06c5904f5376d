"""Fixtures for every core test."""

from __future__ import annotations

import faulthandler

import pytest

# A scheduler bug can hang start() forever; no test here takes more than a few seconds.
HANG_LIMIT = 120


@pytest.fixture(autouse=True)
def _fail_instead_of_hanging():
    """Dump every thread's stack and exit if one test runs far too long."""
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
