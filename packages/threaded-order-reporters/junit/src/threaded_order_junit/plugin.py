"""Entry point of the junit reporter: it offers ``--reporter junit[=DEST]`` and declares its
settings (``-o junit_family=xunit1``, ``[tool.mtrun]``).

Nothing heavy is imported here; the reporter module loads when the reporter is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from threaded_order import hookimpl

from . import DEFAULT_DEST, settings

if TYPE_CHECKING:
    from threaded_order_cli.config import Config

NAME = "junit"


@hookimpl(optionalhook=True)
def threaded_order_cli_reporters() -> dict[str, str]:
    return {NAME: f"JUnit XML for CI servers (DEST default: {DEFAULT_DEST}; - for stdout)"}


@hookimpl(optionalhook=True)
def threaded_order_cli_addini(add_ini: Callable[..., Any]) -> None:
    settings.declare(add_ini)


@hookimpl(optionalhook=True)
def threaded_order_cli_make_reporter(name: str, dest: Optional[str], config: Config) -> Any:
    if name != NAME:
        return None
    from .reporter import JUnitReporter

    return JUnitReporter(dest or DEFAULT_DEST, config=config)
