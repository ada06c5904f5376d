"""Entry point of threaded-order-dask: offers ``mtrun --executor dask[=ADDRESS]``.

Nothing heavy is imported here; dask loads only when the executor is made.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING, Optional

from threaded_order import hookimpl

if TYPE_CHECKING:
    from threaded_order_cli.config import Config

NAME = "dask"


@hookimpl(optionalhook=True)
def threaded_order_cli_executors() -> dict[str, str]:
    return {NAME: "Dask: a local cluster of --workers processes, or dask=tcp://HOST:PORT"}


@hookimpl(optionalhook=True)
def threaded_order_cli_make_executor(name: str, address: Optional[str], workers: int,
                                     config: Config) -> Optional[Executor]:
    if name != NAME:
        return None
    from .executor import DaskExecutor

    if address is None:
        return DaskExecutor.local(workers)
    return DaskExecutor.connect(address)
