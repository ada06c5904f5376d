"""mtrun: the dependency-aware parallel test runner built on threaded-order."""

from __future__ import annotations

try:
    from threaded_order import hookimpl
    from threaded_order.ext import installed_version as _installed_version
except ImportError:  # threaded-order 1.x was installed over 2.x
    import sys

    sys.stderr.write("mtrun: error: threaded-order 1.x is installed; mtrun needs 2.x: "
                     "pip install -U threaded-order\n")
    raise SystemExit(3) from None

from .config import Config, ReporterError, UsageError

__version__ = _installed_version("threaded-order-cli", __file__)  # from the installed metadata

__all__ = ["Config", "ReporterError", "UsageError", "__version__", "hookimpl"]
