"""Plugin manager, entry-point discovery and isolated hook dispatch."""

from __future__ import annotations

import inspect
import logging
import os
import sys
import warnings
from collections.abc import Iterable
from typing import Any, Callable, NamedTuple, Optional

import pluggy

from . import hookspecs
from ._text import safe_str, type_name
from .hookspecs import PROJECT_NAME

ENTRY_POINT_GROUP = "threaded_order"
STRICT_ENV = "THREADED_ORDER_STRICT_PLUGINS"
NO_AUTOLOAD_ENV = "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD"
_PREFIX = "threaded_order_"

logger = logging.getLogger("threaded_order")


class PluginWarning(UserWarning):
    """A plugin could not be loaded, or one of its hooks raised."""


class PluginInfo(NamedTuple):
    name: str
    distribution: str
    version: str


def env_flag(name: str) -> bool:
    """An on/off environment variable: unset, empty, 0, false or no mean off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def strict_plugins() -> bool:
    """Plugin authors set the strict variable so plugin errors raise instead of warning."""
    return env_flag(STRICT_ENV)


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

    def add_hookspecs(self, module_or_class: Any) -> None:
        super().add_hookspecs(module_or_class)
        self.namespaces.update(namespace(name) for name in dir(module_or_class)
                               if name.startswith(_PREFIX))

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(_PREFIX) and inspect.isroutine(getattr(plugin, name)):
            opts = {}
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


class HookImpl(NamedTuple):
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    plugin_name: str


def hook_impls(pm: pluggy.PluginManager, hook_name: str, skip: Any = None) -> list[HookImpl]:
    """The impls of a notification hook in pluggy's call order (LIFO, tryfirst/trylast)."""
    caller = getattr(pm.hook, hook_name)
    impls = []
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            raise pluggy.PluginValidationError(
                impl.plugin,
                f"plugin {impl.plugin_name!r}: {hook_name} is a notification hook and "
                "cannot be a wrapper",
            )
        if skip is not None and skip(impl):
            continue
        impls.append(HookImpl(impl.function, tuple(impl.argnames), impl.plugin_name))
    return impls


def notify(
    impls: list[HookImpl], hook_name: str, errors: list[str], **kwargs: Any
) -> list[Any]:
    """Call each impl on its own; an exception is logged, recorded and does not spread.

    Returns the impls' results that are not None, in call order.
    """
    results = []
    for function, argnames, plugin_name in impls:
        try:
            value = function(*[kwargs[a] for a in argnames])
            if value is not None:
                results.append(value)
        except BaseException as exc:  # SystemExit too: a hook never ends the run
            if strict_plugins():
                raise
            message = f"plugin {plugin_name!r} failed in {hook_name}: {one_line(exc)}"
            errors.append(message)
            try:
                logger.error("threaded-order: %s", message)
            except Exception:  # a broken logging handler is one more hook-like fault
                pass
    return results


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, for any exception, even one that cannot be printed."""
    text = " ".join(part.strip() for part in safe_str(exc).splitlines() if part.strip())
    if isinstance(exc, KeyboardInterrupt) and not text:
        text = "interrupted by Ctrl-C"
    return f"{type_name(exc)}: {text}" if text else type_name(exc)


def call_hook(
    pm: pluggy.PluginManager, hook_name: str, errors: list[str], **kwargs: Any
) -> list[Any]:
    """Call every impl of a hook in isolation and collect their results (for CLI-level hooks)."""
    return notify(hook_impls(pm, hook_name), hook_name, errors, **kwargs)
