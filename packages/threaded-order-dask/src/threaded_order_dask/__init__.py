"""threaded-order-dask: run threaded-order's and mtrun's task bodies on a Dask cluster.

``DaskExecutor`` is imported lazily, so loading the entry point does not import dask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .executor import DaskExecutor

from threaded_order.ext import installed_version as _installed_version

__version__ = _installed_version("threaded-order-dask", __file__)

__all__ = ["DaskExecutor", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "DaskExecutor":
        from .executor import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
