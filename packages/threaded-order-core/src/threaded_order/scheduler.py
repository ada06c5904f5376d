"""The Scheduler: registration, callbacks and the run, with the original project's API."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from ._capture import Capture
from ._engine import Run
from ._hooks import DISPATCH_CODE, Callback, SchedulerHooks
from ._leftovers import Leftovers
from ._order import check_order, critical_path, efficiency, inverse, renumbered
from ._run_control import _END
from ._signals import SigintRelay
from ._text import check_seconds
from .graph import DAGraph, Task, normalize_after
from .plugins import PluginManager, create_plugin_manager
from .results import Summary, TaskResult, build_summary

if TYPE_CHECKING:
    from concurrent.futures import Executor

F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("threaded_order")

default_workers = min(8, os.cpu_count() or 1)

def _check_defaults(retries: Any, timeout: Any) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    if timeout is not None:
        check_seconds(timeout, "timeout")


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    """A lone string is one tag, not its characters (as ``after="a"`` is one name)."""
    return (tags,) if isinstance(tags, str) else tuple(tags)


class Scheduler:
    """Runs registered callables on worker threads, each after the tasks it depends on."""

    max_workers = default_workers

    def __init__(
        self,
        workers: Optional[int] = None,
        state: Optional[dict[str, Any]] = None,
        store_results: bool = True,
        clear_results_on_start: bool = True,
        setup_logging: bool = False,
        add_stream_handler: bool = True,
        verbose: bool = False,
        *,
        skip_dependents: bool = False,
        max_failures: Optional[int] = None,
        plugins: Iterable[Any] = (),
        plugin_manager: Optional[PluginManager] = None,
        capture: bool = False,
        limits: Optional[dict[str, int]] = None,
        retries: int = 0,
        timeout: Optional[float] = None,
        executor: Optional[Executor] = None,
        ship_modules: Iterable[ModuleType] = (),
        order: str = "registration",
        expected_durations: Optional[dict[str, float]] = None,
    ) -> None:
        if workers is None:
            workers = self.max_workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
        if max_failures is not None and (
            isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1
        ):
            raise ValueError(f"max_failures must be a whole number >= 1, got {max_failures!r}")
        for group, limit in (limits or {}).items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"limit of group {group!r} must be a whole number >= 1, "
                                 f"got {limit!r}")
        _check_defaults(retries, timeout)
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise ValueError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
        self.executor = executor  # None: bodies run on the worker threads themselves
        # Modules whose source goes with every task to an executor's workers, which cannot
        # import them by name (mtrun's test files); see _remote.module_source.
        self.ship_modules: list[ModuleType] = list(ship_modules)
        # Which ready task starts first (see _order.py): the longest remaining path, in
        # expected seconds (``expected_durations``, per task name), or registration order.
        self.order = check_order(order)
        self.expected_durations = dict(expected_durations or {})
        self.workers = workers
        self.limits = dict(limits or {})
        self.retries = retries
        self.timeout = timeout
        self.state: dict[str, Any] = {} if state is None else state
        self.state.setdefault("_state_lock", threading.RLock())
        self.store_results = store_results
        if store_results:
            self.state.setdefault("results", {})
        self.clear_results_on_start = clear_results_on_start
        self.skip_dependents = skip_dependents
        self.max_failures = max_failures
        self.capture = capture
        self._graph = DAGraph()
        # on_<event>() callbacks: called after the plugins' hooks, never registered as a
        # plugin, so schedulers that share a plugin manager never see each other's.
        self._callbacks: dict[str, Callback] = {}
        self.plugin_manager = plugin_manager or create_plugin_manager()
        for plugin in plugins:
            self.plugin_manager.register(plugin)
        self._running: Optional[Run] = None
        self._start_guard = threading.Lock()
        self._leftovers = Leftovers()  # timed-out bodies that outlive their run
        # Context managers entered on the worker around each task body, each made by
        # ``scope(node_id)``: a ContextVar set there reaches the body (a structlog reporter
        # binds ``task`` this way). Plugins add theirs in ``threaded_order_scheduler_start``,
        # before any worker starts, and remove them in ``threaded_order_scheduler_done``.
        self.task_scopes: list[Callable[[str], AbstractContextManager[Any]]] = []
        if setup_logging or verbose:
            from .thread_logging import configure_logging

            configure_logging(workers, "thread", add_stream_handler, verbose)

    # -- registration ------------------------------------------------------------------

    @property
    def graph(self) -> DAGraph:
        return self._graph

    def register(
        self,
        obj: Callable[..., Any],
        name: str,
        after: Any = None,
        with_state: bool = False,
        *,
        tags: Iterable[str] = (),
        module: Optional[str] = None,
        retries: Optional[int] = None,
        retry_delay: Optional[float] = None,
        timeout: Optional[float] = None,
        group: Optional[str] = None,
        priority: int = 0,
    ) -> None:
        """Add a task; its dependencies must already be registered (see ``add_tasks``).

        ``retries``, ``retry_delay``, ``timeout`` and ``group`` are the task's policies;
        unset ones take the scheduler's defaults. A higher ``priority`` starts the task
        before other ready ones.
        """
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ValueError(f"task {name!r}: priority must be a whole number, got {priority!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"task name must be a non-empty string, got {name!r}")
        task = Task(name, obj, normalize_after(name, after), bool(with_state), _tags(tags), module,
                    retries, retry_delay, timeout, group, priority)
        self._graph.add(task)

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        """Add many tasks at once: dependencies may point forward. All or nothing."""
        self._graph.add_all(
            t._replace(after=normalize_after(t.name, t.after), tags=_tags(t.tags)) for t in tasks
        )

    def dregister(self, after: Any = None, with_state: bool = False,
                  **policies: Any) -> Callable[[F], F]:
        """Decorator: register the function under its own name; it stays callable.

        Keyword arguments are the task's policies, as for ``register``.
        """

        def decorate(fn: F) -> F:
            self.register(fn, fn.__name__, after=after, with_state=with_state, **policies)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return fn(*args, **kwargs)

            wrapper.__original__ = fn  # type: ignore[attr-defined]
            return wrapper  # type: ignore[return-value]

        return decorate

    # -- callbacks (one per event; a later call replaces the earlier one) --------------

    def _set(self, event: str, fn: Callable[..., Any], args: Any, kwargs: Any) -> None:
        if not callable(fn):
            raise ValueError(f"on_{event} needs a callable, got {fn!r}")
        self._callbacks[event] = (fn, args, kwargs)

    def on_scheduler_start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._set("scheduler_start", fn, args, kwargs)

    def on_task_start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._set("task_start", fn, args, kwargs)

    def on_task_run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._set("task_run", fn, args, kwargs)

    def on_task_done(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._set("task_done", fn, args, kwargs)

    def on_scheduler_done(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._set("scheduler_done", fn, args, kwargs)

    # -- the run -----------------------------------------------------------------------

    def start(self) -> Summary:
        """Run every registered task once, honouring dependencies, and return the summary."""
        # Check and claim in one step: a second start() (from another thread, or from a
        # callback) must fail even while the first is still setting up.
        if not self._start_guard.acquire(blocking=False):
            raise RuntimeError("this scheduler is already running")
        try:
            return self._start()
        finally:
            self._start_guard.release()

    def _start(self) -> Summary:
        hooks = SchedulerHooks(self.plugin_manager, self._callbacks)
        compiled = self._graph.compile()
        renumbering: Optional[list[int]] = None
        if self.order == "critical-path":
            compiled, renumbering = renumbered(compiled, self.expected_durations)
        if self.store_results:
            results = self.state.setdefault("results", {})
            if self.clear_results_on_start:
                results.clear()
        emit = hooks.task_events
        remote = None
        if self.executor is not None and compiled.tasks:
            from ._remote import Remote  # checks that tasks and state pickle, before the run

            remote = Remote(self.executor, compiled, self.state, self.capture,
                            self.ship_modules)
        run = Run(
            compiled, self.workers, self.state, self.store_results, self.skip_dependents,
            self.max_failures, emit, self.capture, self.limits, self.retries, self.timeout,
            remote, self.task_scopes, self._leftovers,
        )
        meta = {"total_tasks": len(compiled.tasks), "workers": self.workers,
                "start_time": run.wall0}
        relay = SigintRelay(self._sigint, DISPATCH_CODE)
        self._running = run
        with relay:
            try:
                hooks.scheduler_start(meta, self)
                with Capture() if self.capture else contextlib.nullcontext():
                    self._drive(run, hooks)
            finally:
                self._running = None
                self._leftovers.detach(run)
                if remote is not None:
                    remote.close()
            duration = time.perf_counter() - run.clock0
            records = run.records
            if renumbering is not None:  # back to registration order, for every reader
                records = list(map(records.__getitem__, inverse(renumbering)))
            tasks: dict[str, TaskResult] = {r.name: r for r in records if r is not None}
            summary = build_summary(
                tasks, run.ran, run.wall0, time.time(), duration,
                run.stop_reason == "interrupted" or relay.count > 0, hooks.errors,
            )
            path = critical_path(tasks, run.ran)
            summary["critical_path"] = path
            summary["efficiency"] = efficiency(tasks, self.workers, duration, path)
            hooks.scheduler_done(summary)
        if relay.count:  # a Ctrl-C after the last task is still an interrupt: say so
            summary["interrupted"] = True
        return summary

    def _sigint(self) -> None:
        """The relay's action for one Ctrl-C (in a signal handler: queue it, nothing more)."""
        run = self._running
        if run is not None:
            run.request_interrupt(None)

    def interrupt(self, cancel: bool = False) -> None:
        """Stop the run in progress, from any thread or a signal handler; else do nothing.

        ``cancel=False`` is a first Ctrl-C: nothing new starts and running tasks finish.
        ``cancel=True`` also records the running tasks as failed (``CancelledError``) and
        lets ``start()`` return without waiting for them (mtrun does this on SIGTERM).
        """
        run = self._running
        if run is not None:
            run.request_interrupt(bool(cancel))

    @staticmethod
    def _interrupted(run: Run) -> None:
        """First Ctrl-C: start nothing new and say which running tasks we wait for."""
        running = run.running_names()
        run.interrupt()
        if running:
            logger.warning(
                "threaded-order: interrupted: waiting for %d running task(s) to finish (%s); "
                "press Ctrl-C again to stop waiting", len(running), ", ".join(running),
            )

    def _drive(self, run: Run, hooks: SchedulerHooks) -> None:
        task_start, task_run = hooks.task_start, hooks.task_run

        def on_start(name: str, thread: str) -> None:
            task_start(name)
            task_run(name, thread)

        interrupts = 0
        announced = cancelled = False

        def on_interrupt(cancel: Optional[bool]) -> None:
            nonlocal interrupts, announced, cancelled
            if cancel is None:  # one Ctrl-C: the first stops new work, the second cancels
                interrupts += 1
                cancel = interrupts >= 2
            if cancel and not cancelled:
                cancelled = True
                run.cancel_running()
            elif not announced and not cancelled:
                announced = True
                self._interrupted(run)

        try:
            started = False
            while True:
                # With the signal relay (start() on the main thread) Ctrl-C arrives as an
                # event. Without it (another thread's start(), or a KeyboardInterrupt
                # raised by hand) it is counted here the same way, never raised.
                try:
                    if not started:
                        started = True
                        if not run.start_workers():
                            run.finish_empty()
                    run.events_until_end(on_start, hooks.task_done, on_interrupt)
                    break
                except KeyboardInterrupt:
                    run.request_interrupt(None)
                    if run.finished:  # its end event may be gone with the interrupt
                        run.events.put((_END,))
        except BaseException:
            # A strict plugin error or a fault of ours: stop the workers, then raise.
            run.cancel_running()
            raise
