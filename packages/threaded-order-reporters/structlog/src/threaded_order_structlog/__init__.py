"""The structlog reporter for mtrun: one JSON line per scheduler event.

Everything here is imported lazily (``StructlogReporter``, ``bind_task``), so loading the
entry point imports neither structlog nor the reporter when it is not selected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import bind_task
    from .reporter import StructlogReporter

__all__ = ["StructlogReporter", "bind_task"]


def __getattr__(name: str) -> Any:
    if name == "StructlogReporter":
        from .reporter import StructlogReporter

        return StructlogReporter
    if name == "bind_task":
        from .context import bind_task

        return bind_task
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
