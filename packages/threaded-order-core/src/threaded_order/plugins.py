"""Plugin manager and entry-point discovery; hooks are called through ``_hooks``."""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Iterable
from typing import Any, Callable, NamedTuple, Optional

import pluggy

from . import hookspecs
from ._hooks import STRICT_ENV, env_flag, one_line, strict_plugins
from .hookspecs import PROJECT_NAME

__all__ = ["ENTRY_POINT_GROUP", "NO_AUTOLOAD_ENV", "STRICT_ENV", "PluginInfo", "PluginManager",
           "PluginWarning", "create_plugin_manager", "env_flag", "installed_plugins",
           "load_entrypoint_plugins", "strict_plugins"]

ENTRY_POINT_GROUP = "threaded_order"
NO_AUTOLOAD_ENV = "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD"
_PREFIX = "threaded_order_"


class PluginWarning(UserWarning):
    """A plugin could not be loaded, or one of its hooks raised."""


class PluginInfo(NamedTuple):
    name: str
    distribution: str
    version: str


def namespace(hook_name: str) -> str:
    """The area of a hook: ``task`` for ``threaded_order_task_done``, ``cli`` for
    ``threaded_order_cli_addoption``."""
    return hook_name[len(_PREFIX):].split("_", 1)[0]


class PluginManager(pluggy.PluginManager):
    """Accepts unmarked ``threaded_order_*`` functions as impls, as pytest does for ``pytest_*``.

    One plugin may implement hooks of several areas (the scheduler's, mtrun's, another
    distribution's). ``check_pending`` refuses an unknown hook only in an area whose specs
    were added here, where it must be a typo; hooks of areas this manager does not know
    (mtrun's, in a bare ``Scheduler``) are left for the program that knows them.
    """

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.namespaces: set[str] = set()
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, PluginInfo] = {}
        self.hook_trace: Any = None  # pluggy's tracer for "hook" calls, while tracing

    def trace_hooks(self, write: Callable[[str], object]) -> Callable[[], None]:
        """Write every hook call, its arguments and its results with ``write`` (``mtrun
        --debug-plugins``); returns the function that stops it.

        pluggy's tracing covers the calls through ``pm.hook`` (the firstresult hooks); the
        isolating dispatcher writes the same lines for the others (see ``_hooks``). Only
        callers made after this call trace: a run in progress keeps its own.
        """
        self.trace.root.setwriter(write)
        undo = self.enable_tracing()
        self.hook_trace = self.trace.root.get("hook")

        def stop() -> None:
            undo()
            self.hook_trace = None
            self.trace.root.setwriter(None)

        return stop

    def add_hookspecs(self, module_or_class: Any) -> None:
        super().add_hookspecs(module_or_class)
        self.namespaces.update(namespace(name) for name in dir(module_or_class)
                               if name.startswith(_PREFIX))

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Optional[pluggy.HookimplOpts]:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(_PREFIX) and inspect.isroutine(getattr(plugin, name)):
            opts = {"wrapper": False, "hookwrapper": False, "optionalhook": False,
                    "tryfirst": False, "trylast": False, "specname": None}
        return opts

    def check_pending(self) -> None:
        for name in self.hook.__dict__:
            if name[0] == "_":
                continue
            caller = getattr(self.hook, name)
            if caller.has_spec() or (name.startswith(_PREFIX)
                                     and namespace(name) not in self.namespaces):
                continue
            for impl in caller.get_hookimpls():
                if not impl.optionalhook:
                    raise pluggy.PluginValidationError(
                        impl.plugin,
                        f"unknown hook {name!r} in plugin {impl.plugin!r}",
                    )


def create_plugin_manager(plugins: Iterable[Any] = ()) -> PluginManager:
    pm = PluginManager()
    for plugin in plugins:
        pm.register(plugin)
    return pm


def _entry_points() -> Any:
    """Read from dist-info folders directly; importlib.metadata only where that can't be."""
    from ._entrypoints import scan

    found = scan(ENTRY_POINT_GROUP)
    if found is not None:
        return found
    if sys.version_info >= (3, 10):
        from importlib.metadata import entry_points
    else:  # pragma: no cover - Python 3.9
        from importlib_metadata import entry_points
    return entry_points(group=ENTRY_POINT_GROUP)


def installed_plugins() -> list[PluginInfo]:
    """Every plugin entry point installed, loaded or not, sorted by name."""
    found = []
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        found.append(
            PluginInfo(ep.name, dist.name if dist else "?", dist.version if dist else "?")
        )
    return sorted(found)


def load_entrypoint_plugins(
    pm: PluginManager, blocked: Iterable[str] = (), warn: Optional[Callable[[str], None]] = None
) -> list[PluginInfo]:
    """Load each entry point of the ``threaded_order`` group on its own; a broken one warns.

    Returns the plugins that loaded. ``blocked`` names are skipped (``-p no:NAME``).
    Autoloading is off when the disable variable is set.
    """
    if env_flag(NO_AUTOLOAD_ENV):
        return []
    blocked = set(blocked)
    loaded = []
    for ep in _entry_points():
        if ep.name in blocked or pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        info = PluginInfo(ep.name, dist.name if dist else "?", dist.version if dist else "?")
        try:
            pm.register(ep.load(), name=ep.name)
        except BaseException as exc:  # SystemExit at import too; never a real Ctrl-C
            if isinstance(exc, KeyboardInterrupt) or strict_plugins():
                raise
            message = (
                f"plugin {ep.name!r} ({info.distribution} {info.version}) could not be loaded: "
                f"{one_line(exc)}"
            )
            (warn or _warn)(message)
            continue
        pm.distributions[ep.name] = info
        loaded.append(info)
    return loaded


def _warn(message: str) -> None:
    warnings.warn(message, PluginWarning, stacklevel=3)
