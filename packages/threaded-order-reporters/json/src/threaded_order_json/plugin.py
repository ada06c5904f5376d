"""Entry point of the json reporter: it only offers ``--reporter json[=DEST]``.

Nothing heavy is imported here; the reporter module loads when the reporter is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from threaded_order import hookimpl

from . import DEFAULT_DEST

if TYPE_CHECKING:
    from threaded_order_cli.config import Config

NAME = "json"


@hookimpl(optionalhook=True)
def threaded_order_cli_reporters() -> dict[str, str]:
    return {NAME: f"one JSON document of the run (DEST default: {DEFAULT_DEST}; - for stdout)"}


@hookimpl(optionalhook=True)
def threaded_order_cli_make_reporter(name: str, dest: Optional[str], config: Config) -> Any:
    if name != NAME:
        return None
    from .reporter import JSONReporter

    return JSONReporter(dest or DEFAULT_DEST, config=config)
