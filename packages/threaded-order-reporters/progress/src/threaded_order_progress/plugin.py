"""Entry point of the progress reporter: it only offers ``--reporter progress[=DEST]``.

Nothing heavy is imported here; rich loads when the reporter is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from threaded_order import hookimpl

if TYPE_CHECKING:
    from threaded_order_cli.config import Config

NAME = "progress"


@hookimpl(optionalhook=True)
def threaded_order_cli_reporters() -> dict[str, str]:
    return {NAME: "live progress bar, only on a terminal (DEST: stderr (default) or stdout/-)"}


@hookimpl(optionalhook=True)
def threaded_order_cli_make_reporter(name: str, dest: Optional[str], config: Config) -> Any:
    if name != NAME:
        return None
    from .reporter import ProgressReporter

    return ProgressReporter(dest, config=config)
