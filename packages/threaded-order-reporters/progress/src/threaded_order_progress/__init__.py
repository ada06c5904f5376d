"""The progress reporter for mtrun: a live bar on the terminal, drawn from the hooks.

``ProgressReporter`` is imported lazily, so loading the entry point imports neither rich
nor the reporter when it is not selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reporter import ProgressReporter

__all__ = ["ProgressReporter"]


def __getattr__(name: str) -> Any:
    if name == "ProgressReporter":
        from .reporter import ProgressReporter

        return ProgressReporter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
