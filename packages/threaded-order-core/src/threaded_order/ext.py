"""The core's internals that its sister distributions use: mtrun (threaded-order-cli), the
reporters and the Dask executor import them from here and nowhere else.

For threaded-order's own distributions, no stability promise: anything here may change or go
in any release, together with those distributions. Plugins and applications use the public
API, ``threaded_order`` and ``threaded_order_cli``.

The remote-execution helpers are imported on first use only (they bring in pickle and
asyncio), so importing this module costs no more than ``import threaded_order``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._hooks import Hook, Hooks, record
from ._legacy import installed_version
from ._text import check_seconds, safe_format_exception, safe_repr, safe_str, type_name
from .markers import marked_functions, task_from_marked

if TYPE_CHECKING:
    from ._remote import module_source
    from ._remote_call import announce_start, die_with, quiet_signals, run_task, serve_calls

__all__ = [
    "Hook",
    "Hooks",
    "announce_start",
    "check_seconds",
    "die_with",
    "installed_version",
    "marked_functions",
    "module_source",
    "quiet_signals",
    "record",
    "run_task",
    "safe_format_exception",
    "safe_repr",
    "safe_str",
    "serve_calls",
    "task_from_marked",
    "type_name",
]

_LAZY = {
    "module_source": "._remote",
    "announce_start": "._remote_call",
    "die_with": "._remote_call",
    "quiet_signals": "._remote_call",
    "run_task": "._remote_call",
    "serve_calls": "._remote_call",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __package__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
