"""The run's configuration, handed to every CLI hook."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from threaded_order import ExitCode, PluginManager
from threaded_order.reporting import ReporterError as _CoreReporterError

if TYPE_CHECKING:
    from .hooks import CliHooks
    from .settings import Settings

EXIT_OK = ExitCode.OK
EXIT_TESTS_FAILED = ExitCode.TESTS_FAILED
EXIT_INTERRUPTED = ExitCode.INTERRUPTED
EXIT_INTERNAL_ERROR = ExitCode.INTERNAL_ERROR
EXIT_USAGE_ERROR = ExitCode.USAGE_ERROR
EXIT_NO_TESTS = ExitCode.NO_TESTS_COLLECTED


class UsageError(Exception):
    """A mistake in what the user asked for: one line, exit code 4 (or ``exit_code``)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


ReporterError = _CoreReporterError  # a ValueError from the core; mtrun exits 4 on it


class Config:
    """Parsed options, the plugin manager, the state and, after collection, the tasks.

    ``hooks`` calls mtrun's hooks, one typed method each (``hooks.report_header(config)``),
    and keeps the plugin errors of the session.
    """

    def __init__(
        self,
        options: dict[str, Any],
        plugin_manager: PluginManager,
        rootdir: Path,
        state: dict[str, Any],
        hooks: Optional[CliHooks] = None,
    ) -> None:
        if hooks is None:
            from .hooks import CliHooks

            hooks = CliHooks(plugin_manager)
        self.options = options
        self.plugin_manager = plugin_manager
        self.hooks = hooks
        self.rootdir = rootdir
        self.state = state
        self.tasks: list[Any] = []  # the selected tasks, after collection
        self.deselected = 0  # how many tasks collected were not selected (--tags)
        self.workers = 0  # the run's worker count, once the run is set up
        self.reporters: list[tuple[str, Any]] = []
        self.executor: Optional[Any] = None  # where task bodies run; None: threads
        # Report destinations taken so far (a resolved path, or "-"): reporter name.
        self.destinations: dict[str, str] = {}
        self.configfile = ""  # the configuration file read, relative to the rootdir
        self.state_keys: list[str] = []  # --key=value and --state keys, for the header
        self.early_plugins: list[str] = []  # -p NAME, for the header
        self.run_id = uuid.uuid4().hex  # one per mtrun run: reporters stamp it on what they write
        self.settings: Optional[Settings] = None  # plugins' settings, once declared

    def getini(self, name: str) -> Any:
        """A setting a plugin declared in ``threaded_order_cli_addini``: from ``-o``, else the
        configuration file, else its default. ValueError for a setting nobody declared."""
        if self.settings is None:
            raise ValueError(f"unknown setting {name!r}: no plugin declared it")
        return self.settings.get(name)

    def getoption(self, name: str, default: Optional[Any] = None) -> Any:
        """An option's value by its name without dashes (``"workers"``, ``"my_opt"``)."""
        value = self.options.get(name.lstrip("-").replace("-", "_"), default)
        return default if value is None else value
