"""The junit reporter for mtrun: a JUnit XML file in pytest's shape (xunit2, or xunit1 with
``file`` and ``line``) for CI servers.

``JUnitReporter`` is imported lazily, so loading the entry point costs nothing when the
reporter is not selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reporter import JUnitReporter

DEFAULT_DEST = "junit.xml"

__all__ = ["DEFAULT_DEST", "JUnitReporter"]


def __getattr__(name: str) -> Any:
    if name == "JUnitReporter":
        from .reporter import JUnitReporter

        return JUnitReporter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
