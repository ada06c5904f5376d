"""``--executor``: where task bodies run. Threads (the default), a process pool (built in), or
whatever a plugin offers through ``threaded_order_cli_make_executor`` (Dask).

The scheduler itself always stays in mtrun's process; see ``threaded_order._remote``.
"""

from __future__ import annotations

import sys
from concurrent.futures import Executor
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Optional

from .config import Config, UsageError

if TYPE_CHECKING:
    from .hooks import CliHooks

THREADS, PROCESSES = "threads", "processes"
BUILTIN = {
    THREADS: "worker threads in this process (the default)",
    PROCESSES: "up to --workers processes on this machine, started as tasks need them",
}
# Executors that a known distribution provides, for a useful error when it is missing.
PROVIDERS = {"dask": "threaded-order-dask"}


def parse(value: str) -> tuple[str, Optional[str]]:
    name, sep, address = value.partition("=")
    if not name or (sep and not address):
        raise UsageError(f"--executor {value!r}: expected NAME or NAME=ADDRESS")
    return name, address or None


def available(hooks: CliHooks) -> dict[str, str]:
    return {**BUILTIN, **hooks.executors()}


def check(hooks: CliHooks, name: str, address: Optional[str]) -> None:
    """Refuse an unknown or missing executor before anything is collected."""
    names = available(hooks)
    if name not in names:
        if name in PROVIDERS:
            raise UsageError(f"--executor {name}: needs the {PROVIDERS[name]} package "
                             f"(pip install {PROVIDERS[name]})")
        raise UsageError(f"--executor {name}: unknown executor (available: "
                         f"{', '.join(sorted(names))})")
    if name in BUILTIN and address is not None:
        raise UsageError(f"--executor {name} takes no address, got {name}={address}")


def make(config: Config, name: str, address: Optional[str], workers: int
         ) -> Optional[Executor]:
    """The executor for this run, or None for threads."""
    if name == THREADS:
        return None
    if name == PROCESSES:
        from .process_pool import ProcessExecutor  # multiprocessing only when asked for

        return ProcessExecutor(workers)
    return config.hooks.make_executor(name, address, workers, config)


def to_ship(modules: list[ModuleType]) -> list[ModuleType]:
    """The test modules, and the modules they loaded from their folders: their source goes
    to the workers, which cannot import them by the names mtrun gave them."""
    from threaded_order.ext import module_source

    shipped = []
    folders = {Path(m.__file__).resolve().parent for m in modules if m.__file__}
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        name = getattr(module, "__name__", "")
        if not filename or not filename.endswith(".py") or \
                name.startswith(("threaded_order", "__main__", "__mp_main__")):
            continue
        path = Path(filename).resolve()
        if {"site-packages", "dist-packages"} & set(path.parts):
            continue  # installed: the workers import it by name
        if module in modules or any(f == path.parent or f in path.parents for f in folders):
            try:
                module_source(module)
            except (OSError, UnicodeDecodeError, ValueError):
                continue  # no readable source: the workers may still import it by name
            shipped.append(module)
    return shipped
