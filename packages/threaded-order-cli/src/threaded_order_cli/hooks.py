"""Every call of an mtrun hook: ``CliHooks``, one typed method per hook of ``hookspecs``.

Notifications go through the core's isolating dispatcher (see ``threaded_order._hooks``):
an implementation that raises is one line in ``errors`` and the others go on. The two
``make`` hooks are ``firstresult`` and go through pluggy (``pm.hook``): the first answer
wins, and an error there is what the user asked for failing, so it stops mtrun in one line.
Implementations are looked up at each call, since reporters are registered as the session
goes on.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Callable, Optional

from threaded_order import PluginManager
from threaded_order.ext import Hook, Hooks, record, safe_str, type_name

from .config import ReporterError, UsageError
from .lifecycle import describe

if TYPE_CHECKING:
    from threaded_order.results import Summary

    from .config import Config


def _lines(values: list[Any]) -> list[str]:
    """Hooks' lines: each answer a string or a list of them; anything else is shown as its
    str(), so a plugin returning the wrong type cannot end the run with an internal error."""
    lines: list[str] = []
    for value in values:
        if isinstance(value, (list, tuple)):
            lines.extend(safe_str(v) for v in value)
        else:
            lines.append(safe_str(value))
    return lines


class CliHooks(Hooks):
    """mtrun's hook calls, and the plugin errors of the session (``errors``)."""

    pm: PluginManager  # mtrun's, which knows the distributions it loaded plugins from

    def _offers(self, hook_name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for offered in self._notify(hook_name):
            if isinstance(offered, dict):
                found.update((safe_str(k), safe_str(v)) for k, v in offered.items())
            else:
                record(self.errors, f"a plugin's {hook_name} returned a "
                                    f"{type_name(offered)}, not a dict of names and descriptions")
        return found

    @staticmethod
    def _first(call: Callable[..., Any], what: str, keep: type[Exception],
               **kwargs: Any) -> Any:
        """A firstresult hook: its answer; an error in one line naming the option."""
        try:
            return call(**kwargs)
        except (keep, KeyboardInterrupt):
            raise
        except BaseException as exc:  # sys.exit() in a plugin too: one line
            raise keep(f"{what}: could not start: {describe(exc)}") from exc

    # -- before the command line is parsed ------------------------------------------------

    def addoption(self, add_option: Callable[..., None]) -> None:
        self._notify("threaded_order_cli_addoption", add_option=add_option)

    def addini(self, add_ini: Callable[..., None]) -> None:
        self._notify("threaded_order_cli_addini", add_ini=add_ini)

    # -- reporters and executors ----------------------------------------------------------

    def reporters(self) -> dict[str, str]:
        """Every reporter on offer: ``{name: description}``."""
        return self._offers("threaded_order_cli_reporters")

    def make_reporter(self, name: str, dest: Optional[str], config: Config) -> Any:
        reporter = self._first(self.pm.hook.threaded_order_cli_make_reporter,
                               f"--reporter {name}", ReporterError,
                               name=name, dest=dest, config=config)
        if reporter is None:
            raise UsageError(f"--reporter {name}: no plugin could make it")
        return reporter

    def executors(self) -> dict[str, str]:
        """The executors plugins offer: ``{name: description}``."""
        return self._offers("threaded_order_cli_executors")

    def make_executor(self, name: str, address: Optional[str], workers: int,
                      config: Config) -> Executor:
        spec = name if address is None else f"{name}={address}"
        executor = self._first(self.pm.hook.threaded_order_cli_make_executor,
                               f"--executor {spec}", UsageError,
                               name=name, address=address, workers=workers, config=config)
        if executor is None:
            raise UsageError(f"--executor {name}: no plugin could make it")
        return executor  # type: ignore[no-any-return]

    # -- the session ------------------------------------------------------------------------

    def configure(self, config: Config) -> None:
        self._notify("threaded_order_cli_configure", config=config)

    def collection_error(self, path: str, message: str, config: Config) -> None:
        self._notify("threaded_order_cli_collection_error", path=path, message=message,
                     config=config)

    def run_start(self, config: Config) -> None:
        self._notify("threaded_order_cli_run_start", config=config)

    def claims_terminal(self, config: Config) -> bool:
        """Whether any plugin draws on the terminal during the run."""
        return any(self._notify("threaded_order_cli_claims_terminal", config=config))

    def report_header(self, config: Config) -> list[str]:
        return _lines(self._notify("threaded_order_cli_report_header", config=config))

    def report_summary(self, summary: Summary, config: Config, exitcode: int) -> list[str]:
        return _lines(self._notify("threaded_order_cli_report_summary", summary=summary,
                                   config=config, exitcode=exitcode))

    def adopt(self, summary: Summary) -> None:
        """From the end of the run on, the errors are the summary's: ours first, then the
        scheduler's, then any later one, so every reporter sees them all."""
        errors = summary["plugin_errors"]
        errors[:0] = self.errors
        self.errors = errors

    def unconfigure(self, config: Config, summary: Optional[Summary], code: int,
                    settle: Callable[[int], int]) -> int:
        """Each implementation in turn, with ``settle(code)``, the exit code as it stands
        when it is called (an earlier one may have failed, a signal may have come); returns
        the code as the last one left it, still to be settled once more by the caller."""
        name = "threaded_order_cli_unconfigure"
        for impl in self._impls(name):
            code = settle(code)
            self._dispatch(Hook(name, [impl]),
                           {"config": config, "exitcode": code, "summary": summary},
                           self.errors)
        return code
