"""Every hook call goes through here: typed callers with one method per hook, and the one
function that calls a hook's implementations.

Notification hooks are not called as ``pm.hook.NAME(**kwargs)``: pluggy's ``_multicall``
stops at the first implementation that raises, and a plugin must never stop the others or
the run. So ``dispatch`` calls each implementation (in pluggy's order: LIFO, tryfirst and
trylast) in its own ``try``, with the arguments it names, and keeps one line per failure.
A hook that returns one answer (``firstresult=True``: mtrun's make_reporter and
make_executor) is called through pluggy, whose semantics are exactly what is wanted there.

Tracing (``PluginManager.trace_hooks``, ``mtrun --debug-plugins``): pluggy's own tracing
(``enable_tracing``, ``add_hookcall_monitoring``) sees only calls through ``pm.hook``.
Sending each implementation through pluggy to get it (one ``subset_hook_caller`` per plugin,
cached per run) costs about 2.2 µs per implementation and hook call, where ``dispatch``
costs about 0.45 µs, and a task makes three hook calls (measured with two ``task_done``
implementations, pluggy 1.7, CPython 3.11; an un-isolated ``pm.hook`` call is 1.7 µs for
both). So ``dispatch`` writes pluggy's trace lines itself, through the plugin manager's
tracer, and a caller made while tracing is off costs nothing more (the choice is made once,
when the caller is made).

The scheduler's SIGINT relay (``_signals``) may break into a hook that never returns only
while the innermost frame of ours is ``dispatch``: keep the implementations called from it
directly, never through a helper of this package.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

import pluggy

from ._text import safe_str, type_name
from .results import PASSED, Summary, TaskResult

if TYPE_CHECKING:
    from .scheduler import Scheduler

logger = logging.getLogger("threaded_order")

STRICT_ENV = "THREADED_ORDER_STRICT_PLUGINS"
_PREFIX = "threaded_order_"
# What a callback set with on_<event>() receives, in order, before its own *args.
_CALLBACK_ARGS = {
    "scheduler_start": ("meta",), "task_start": ("name",), "task_run": ("name", "thread"),
    "task_done": ("name", "ok"), "scheduler_done": ("summary",),
}
Callback = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Impl(NamedTuple):
    """One implementation, ready to call: ``function(*[kwargs[a] for a in argnames])``.

    ``failed`` starts the line recorded when it raises; ``extra`` is a callback's own
    ``(args, kwargs)``, passed after the values it receives.
    """

    function: Callable[..., Any]
    argnames: tuple[str, ...]
    failed: str
    extra: Optional[tuple[tuple[Any, ...], dict[str, Any]]] = None


class Hook(list):  # type: ignore[type-arg]  # list[Impl] is not subclassable on Python 3.9
    """A hook's implementations in call order, and the hook's name (for tracing)."""

    __slots__ = ("name",)

    def __init__(self, name: str, impls: list[Impl]) -> None:
        super().__init__(impls)
        self.name = name


def env_flag(name: str) -> bool:
    """An on/off environment variable: unset, empty, 0, false or no mean off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def strict_plugins() -> bool:
    """Plugin authors set the strict variable so plugin errors raise instead of warning."""
    return env_flag(STRICT_ENV)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, for any exception, even one that cannot be printed."""
    text = " ".join(part.strip() for part in safe_str(exc).splitlines() if part.strip())
    if isinstance(exc, KeyboardInterrupt) and not text:
        text = "interrupted by Ctrl-C"
    return f"{type_name(exc)}: {text}" if text else type_name(exc)


def dispatch(hook: list[Impl], kwargs: dict[str, Any], errors: list[str]) -> list[Any]:
    """Call each implementation on its own: one that raises anything (``SystemExit``, a
    ``KeyboardInterrupt`` too) is logged and recorded in ``errors`` in one line, and the
    others are still called. Returns the results that are not None, in call order.

    With the strict-plugins variable set, the first error is raised instead.
    """
    results = []
    for function, argnames, failed, extra in hook:
        try:
            if extra is None:
                value = function(*[kwargs[a] for a in argnames])
            else:
                value = function(*[kwargs[a] for a in argnames], *extra[0], **extra[1])
            if value is not None:
                results.append(value)
        except BaseException as exc:
            if strict_plugins():
                raise
            record(errors, f"{failed}: {one_line(exc)}")
    return results


def record(errors: list[str], message: str) -> None:
    """One plugin error: kept for the summary, and logged (mtrun shows it on stderr)."""
    errors.append(message)
    try:
        logger.error("threaded-order: %s", message)
    except Exception:  # a broken logging handler is one more hook-like fault
        pass


def _traced(trace: Any) -> Callable[[Hook, dict[str, Any], list[str]], list[Any]]:
    """``dispatch`` that also writes the call and its results as pluggy's tracing does."""

    def traced(hook: Hook, kwargs: dict[str, Any], errors: list[str]) -> list[Any]:
        trace.root.indent += 1
        try:
            trace(hook.name, kwargs)
            results = dispatch(hook, kwargs, errors)
            trace("finish", hook.name, "-->", results)
            return results
        finally:
            trace.root.indent -= 1

    return traced


def _callback_name(fn: Any) -> str:
    try:
        name = getattr(fn, "__name__", None)
    except BaseException:
        name = None
    return name if isinstance(name, str) else type_name(fn)


class Hooks:
    """What every typed caller shares: the plugin manager and the errors of its calls.

    ``errors`` holds one line per implementation that raised, in call order.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.errors: list[str] = []
        trace = getattr(pm, "hook_trace", None)
        self._tracing = trace is not None  # then even a hook nobody implements is shown
        self._dispatch = dispatch if trace is None else _traced(trace)

    def _impls(self, hook_name: str) -> Hook:
        """The implementations of a notification hook, in pluggy's call order."""
        caller = getattr(self.pm.hook, hook_name, None)
        impls = []
        for impl in reversed(caller.get_hookimpls() if caller is not None else []):
            if impl.hookwrapper or impl.wrapper:
                raise pluggy.PluginValidationError(
                    impl.plugin,
                    f"plugin {impl.plugin_name!r}: {hook_name} is a notification hook and "
                    "cannot be a wrapper",
                )
            failed = f"plugin {impl.plugin_name!r} failed in {hook_name}"
            impls.append(Impl(impl.function, tuple(impl.argnames), failed))
        return Hook(hook_name, impls)

    def _notify(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook whose implementations may change between calls (mtrun's)."""
        return self._dispatch(self._impls(hook_name), kwargs, self.errors)


class SchedulerHooks(Hooks):
    """The scheduler's hooks (``threaded_order.hookspecs``) for one run.

    The implementations are collected once, when the run starts; the scheduler's callbacks
    (``on_task_done(fn)`` and the others) come after the plugins'. A hook nobody implements
    costs one truth test (unless tracing is on).
    """

    def __init__(self, pm: pluggy.PluginManager, callbacks: Mapping[str, Callback]) -> None:
        super().__init__(pm)
        check_pending = getattr(pm, "check_pending", None)
        if check_pending is not None:
            check_pending()  # a misspelled hook name fails the run before it starts

        def collect(event: str) -> Hook:
            hook = self._impls(_PREFIX + event)
            if event in callbacks:
                fn, args, kwargs = callbacks[event]
                failed = f"on_{event} callback {_callback_name(fn)!r} failed"
                hook.append(Impl(fn, _CALLBACK_ARGS[event], failed, (args, kwargs)))
            return hook

        self._scheduler_start = collect("scheduler_start")
        self._task_start = collect("task_start")
        self._task_run = collect("task_run")
        self._task_done = collect("task_done")
        self._scheduler_done = collect("scheduler_done")

    @property
    def task_events(self) -> bool:
        """Whether any per-task hook has an implementation (else the engine sends none)."""
        return bool(self._task_start or self._task_run or self._task_done or self._tracing)

    def scheduler_start(self, meta: dict[str, Any], scheduler: Scheduler) -> None:
        if self._scheduler_start or self._tracing:
            self._dispatch(self._scheduler_start, {"meta": meta, "scheduler": scheduler},
                           self.errors)

    def task_start(self, name: str) -> None:
        if self._task_start or self._tracing:
            self._dispatch(self._task_start, {"name": name}, self.errors)

    def task_run(self, name: str, thread: str) -> None:
        if self._task_run or self._tracing:
            self._dispatch(self._task_run, {"name": name, "thread": thread}, self.errors)

    def task_done(self, result: TaskResult) -> None:
        if self._task_done or self._tracing:
            self._dispatch(self._task_done, {"name": result.name,
                                             "ok": result.status == PASSED,
                                             "result": result}, self.errors)

    def scheduler_done(self, summary: Summary) -> None:
        if self._scheduler_done or self._tracing:
            self._dispatch(self._scheduler_done, {"summary": summary}, self.errors)


DISPATCH_CODE = dispatch.__code__  # the frame the SIGINT relay may break into
