"""Entry point of the structlog reporter: ``--reporter structlog[=DEST]`` and its settings.

Nothing heavy is imported here; structlog loads when the reporter is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from threaded_order import hookimpl

if TYPE_CHECKING:
    from threaded_order_cli.config import Config

NAME = "structlog"


@hookimpl(optionalhook=True)
def threaded_order_cli_reporters() -> dict[str, str]:
    return {NAME: "JSON lines, one per event (DEST default: stderr; a file path; - for stdout)"}


@hookimpl(optionalhook=True)
def threaded_order_cli_addini(add_ini: Callable[..., None]) -> None:
    add_ini("structlog_stdlib", "structlog reporter: the tasks' logging records become JSON "
            "lines too", default=False)
    add_ini("structlog_stdlib_level", "structlog reporter: the root logger's level while the "
            "tasks run with structlog_stdlib (DEBUG, INFO, ...; empty: unchanged)", default="")


@hookimpl(optionalhook=True)
def threaded_order_cli_make_reporter(name: str, dest: Optional[str], config: Config) -> Any:
    if name != NAME:
        return None
    from .reporter import StructlogReporter

    return StructlogReporter(dest, config=config)
