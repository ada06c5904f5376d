"""Hook specifications of ``mtrun``: options, reporters, configuration and the report.

Plugins implement them beside the scheduler's hooks (``threaded_order.hookspecs``); both
use the ``threaded_order`` project marker and the ``threaded_order`` entry-point group.
Every hook is called on the main thread, and each implementation is isolated: one that
raises is reported in one line and the others go on (the two ``make`` hooks excepted: the
first answer wins, and an error there stops mtrun with one line). mtrun calls them through
``threaded_order_cli.hooks.CliHooks``.

The built-in terminal reporter is a plugin like any other, registered as
``terminalreporter``: it prints its header at ``run_start`` and its report at
``unconfigure``, so ``-p no:terminalreporter`` silences it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from threaded_order.hookspecs import hookspec

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from threaded_order.results import Summary

    from .config import Config


@hookspec
def threaded_order_cli_addoption(add_option: Callable[..., None]) -> None:
    """Add command-line options before the command line is parsed.

    ``add_option("--name", ...)`` takes the arguments of ``click.Option``; read the value
    back with ``config.getoption("name")``.
    """


@hookspec
def threaded_order_cli_addini(add_ini: Callable[..., None]) -> None:
    """Declare settings, as pytest's ``parser.addini``.

    ``add_ini("junit_family", "help", default="xunit2", choices=("xunit1", "xunit2"))``: the
    default's type (str, bool, int or a list of strings) is the setting's. Users set it in
    ``[tool.mtrun]`` (or ``mtrun.toml``) or with ``-o NAME=VALUE``; read it back with
    ``config.getini("junit_family")``.
    """


@hookspec
def threaded_order_cli_reporters() -> Optional[dict[str, str]]:
    """Name the reporters this plugin offers, for ``--reporter NAME[=DEST]``.

    :return: ``{name: one-line description, including the default DEST}``.
    """


@hookspec(firstresult=True)
def threaded_order_cli_make_reporter(name: str, dest: Optional[str], config: Config) -> Any:
    """Create the reporter ``name`` if it is yours, or return None.

    Called before collection, so a bad DEST (an unwritable path) is caught before the run:
    raise ``ReporterError`` with one line that says what is wrong. The object returned is
    registered as a plugin for the run. ``threaded_order.reporting`` has the helpers:
    ``Destination(name, dest, config)`` (or ``check_file``) checks DEST, refuses one that
    another reporter already writes, and writes the report whole or not at all.
    """


@hookspec
def threaded_order_cli_executors() -> Optional[dict[str, str]]:
    """Name the executors this plugin offers, for ``--executor NAME[=ADDRESS]``.

    :return: ``{name: one-line description}``.
    """


@hookspec(firstresult=True)
def threaded_order_cli_make_executor(
    name: str, address: Optional[str], workers: int, config: Config
) -> Optional[Executor]:
    """Create the executor ``name`` if it is yours, or return None.

    Called after collection, before the run; ``address`` is what follows ``=`` (or None)
    and ``workers`` the number of tasks mtrun keeps in flight. Task bodies run in the
    ``concurrent.futures.Executor`` returned. After the run mtrun calls its
    ``shutdown(wait=False)``: nothing submitted is needed any more (a timed-out body may
    still run), so release whatever you started without waiting for it. Raise
    ``UsageError`` with one line for a bad address.
    """


@hookspec
def threaded_order_cli_configure(config: Config) -> None:
    """Called after the command line is parsed and reporters are made, before collection."""


@hookspec
def threaded_order_cli_collection_error(path: str, message: str, config: Config) -> None:
    """Called for each error that stops mtrun before its run: a collection error (syntax or
    import error, unknown dependency, cycle; ``path`` is the file), or, with ``path`` empty,
    a usage error found after the reporters were made (a state the executor cannot take)
    or an interrupt; mtrun then exits with code 4 (or 2)."""


@hookspec
def threaded_order_cli_run_start(config: Config) -> None:
    """Called once the tasks are collected, just before the run (not for ``--collect-only``
    or ``--graph``): ``config.tasks``, ``config.deselected``, ``config.workers`` and
    ``config.executor`` are set. The terminal reporter prints its header here."""


@hookspec
def threaded_order_cli_claims_terminal(config: Config) -> Optional[bool]:
    """Return True if this plugin draws on the terminal while the tasks run (a live display,
    lines on stdout).

    Asked once per run by the terminal reporter, at ``run_start``: when any plugin says
    True, it leaves out its ``.F s`` progress characters, and it writes its other lines of
    the run (``--log``) through ``sys.stdout`` as it is then, so that a display that
    redirects ``sys.stdout`` gets them.
    """


@hookspec
def threaded_order_cli_report_header(config: Config) -> Union[str, list[str], None]:
    """Return lines to add to the header printed before the run (the terminal reporter
    asks)."""


@hookspec
def threaded_order_cli_report_summary(
    summary: Summary, config: Config, exitcode: int
) -> Union[str, list[str], None]:
    """Return lines to print after the failures section, before the final summary line (the
    terminal reporter asks)."""


@hookspec
def threaded_order_cli_unconfigure(
    config: Config, exitcode: int, summary: Optional[Summary]
) -> None:
    """Called last, once, whether a run happened or not: reporters write their reports here.

    ``summary`` is the run's summary, final: every plugin error up to this call is in its
    ``plugin_errors``, and ``interrupted`` counts a signal taken after the last task; it is
    None when mtrun stopped before its run. ``exitcode`` is the code ``mtrun`` returns as
    it stands when the implementation is called: one that fails (or a signal meanwhile)
    changes it for those called after it. The terminal reporter prints its report first
    (``tryfirst``); mark an implementation that records the code ``trylast``, as the json
    reporter does.
    """
