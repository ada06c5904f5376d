"""mtrun: the dependency-aware parallel test runner built on threaded-order."""

from __future__ import annotations

from threaded_order import hookimpl

from .config import Config, ReporterError, UsageError

__version__ = "2.0.0"

__all__ = ["Config", "ReporterError", "UsageError", "__version__", "hookimpl"]
