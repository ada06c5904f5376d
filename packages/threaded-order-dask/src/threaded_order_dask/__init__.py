"""threaded-order-dask: run threaded-order's and mtrun's task bodies on a Dask cluster.

``DaskExecutor`` is imported lazily, so loading the entry point does not import dask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .executor import DaskExecutor

__version__ = "2.0.0"

__all__ = ["DaskExecutor", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from .executor import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
