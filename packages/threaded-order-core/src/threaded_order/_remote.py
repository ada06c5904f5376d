"""Task bodies in a ``concurrent.futures.Executor`` (processes, a Dask cluster); the rest stays.

With ``Scheduler(executor=...)`` the engine's worker threads become dispatchers: a worker that
takes a task submits one picklable call (``remote_call.run_task``) and waits on its future,
then finishes the task as usual. The graph, ordering, skips, fail-fast, callbacks, hooks and
retries stay in the engine and here, so they behave the same whatever runs the bodies, and
``workers`` bounds the tasks in flight.

We pickle what crosses the process boundary ourselves, so a problem has a name: tasks and
state values are pickled once before the run starts (an unpicklable one raises
``NotPicklableError``, a ``ValueError``, naming it), and return values come back as bytes.

Timeouts count from the moment a body starts, never from when it was submitted (a call may
wait for a free worker). Where the body runs decides what a timeout does:

- ``run_task`` times the body itself (process pools) and reports it still running in its
  process. An executor with ``ends_timed_out_bodies`` (mtrun's pool) has ended that process
  already; a ``ProcessPoolExecutor``'s is ended here, and so the pool, which is replaced.
- An executor whose futures carry ``body_started`` (a ``threading.Event``; Dask) has the body
  timed here from that event. Its ``end_body(future)``, if it has one and it returns True,
  ends the body (the local cluster ends the worker process).
- Otherwise the body is left to run: the task keeps its group slot until the call's future
  ends (the engine's ``body_abandoned``) and is not retried, so there are never two copies
  of one body, nor more bodies of a group than its limit.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, CancelledError, Executor, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._remote_call import (
    PROTOCOL,
    Error,
    Reply,
    Shipment,
    describe,
    dumps_value,
    failure,
    fallback_pickler,
    grace,
    outcome_of,
    ping,
    run_task,
)
from ._text import safe_repr, safe_str, type_name
from .graph import Compiled, NotPicklableError
from .outcomes import apply_outcome
from .results import TaskResult

if TYPE_CHECKING:
    from ._engine import Run

# How long to wait for an executor that said it ends a timed-out body to have done so.
END_BODY_WAIT = 60.0


def module_source(module: ModuleType) -> tuple[str, str, str, bool, str]:
    """What travels with every task for ``Scheduler(ship_modules=[module])``: the source of
    a module that the workers cannot import by name (mtrun's test files). Workers load it
    under its own name and file name, once per process. ``ValueError`` or ``OSError`` when
    it has no readable source."""
    filename = getattr(module, "__file__", None)
    if not filename:
        raise ValueError(f"module {module.__name__!r} has no source file to ship")
    loader = getattr(module, "__loader__", None)
    source = None
    if hasattr(loader, "get_source"):
        source = loader.get_source(module.__name__)  # type: ignore[union-attr]
    if source is None:
        with open(filename, encoding="utf-8") as f:
            source = f.read()
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()
    is_package = hasattr(module, "__path__")
    return (module.__name__, filename, source, is_package, digest)


def dumps_task(name: str, func: Callable[..., Any], main_by_value: bool = True) -> bytes:
    """By reference where plain pickle can (the child imports it, tracebacks keep the real
    file); by value with cloudpickle for ``__main__`` (unless the children have it, as a
    process pool's do), for modules registered by value, and for what plain pickle refuses."""
    module = getattr(func, "__module__", None)
    by_value = fallback_pickler is not None and (
        (main_by_value and module == "__main__")
        or module in fallback_pickler.list_registry_pickle_by_value())
    try:
        if not by_value:
            try:
                return pickle.dumps(func, protocol=PROTOCOL)
            except Exception:
                if fallback_pickler is None:
                    raise
        return fallback_pickler.dumps(func, protocol=PROTOCOL)  # type: ignore[no-any-return]
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a __reduce__ may raise SystemExit
        raise NotPicklableError(
            f"task {name!r} cannot be pickled for the executor ({type_name(exc)}: "
            f"{safe_str(exc)}); define it at module level, in a module the workers can import"
        ) from exc


# -- the dispatcher's side -----------------------------------------------------------------


class Remote:
    """Sends a run's task bodies to an executor; one per ``start()``."""

    def __init__(self, executor: Executor, compiled: Compiled, state: dict[str, Any],
                 capture_output: bool, ship_modules: Sequence[ModuleType] = ()) -> None:
        self.executor = executor
        self.replacements: list[Executor] = []
        # id of a pool ended to stop a timed-out body -> (that pool, that task's name)
        self.ended: dict[int, tuple[Executor, str]] = {}
        self.capture = capture_output
        self.is_async = compiled.is_async
        by_value = not isinstance(executor, ProcessPoolExecutor)
        self.funcs = [dumps_task(t.name, t.func, by_value) for t in compiled.tasks]
        shipped = {m.__name__: module_source(m) for m in ship_modules}
        self.shipment: Optional[Shipment] = tuple(shipped[n] for n in sorted(shipped)) or None
        self.state = state
        self.state_blobs: Optional[dict[str, bytes]] = None
        self.cache: dict[str, tuple[Any, bytes]] = {}  # result name -> (value, its pickle)
        self.lock = threading.Lock()
        if any(t.with_state for t in compiled.tasks):
            self.state_blobs = {key: _dumps_state(f"state[{key!r}]", value)
                                for key, value in state.items()
                                if key not in ("_state_lock", "results")}
            for key, value in list(self._results().items()):
                self.cache[key] = (value, _dumps_state(f"state['results'][{key!r}]", value))
        if isinstance(executor, ProcessPoolExecutor) or \
                getattr(executor, "start_before_run", False):
            # A fork-based pool forks on the first submit: do that now, from this one
            # thread, before the run's threads exist and with every module imported.
            self._submit(ping)[1].result()

    def bind(self, run: Run) -> None:
        """The engine's run whose task bodies this sends (see ``_engine.BodyRunner``)."""
        self.run = run

    def close(self) -> None:
        """Shut down the pools made to replace broken ones; the caller's executor is theirs."""
        for pool in self.replacements:
            _shutdown_now(pool, terminate=True)
        self.replacements.clear()

    def run_body(self, index: int, thread_name: str) -> TaskResult:
        """Submit task ``index``'s body, with its retries and timeout; never raises."""
        run = self.run
        task = run.tasks[index]
        policy = run.policies[index] if run.policies is not None else None
        retries = policy.retries if policy is not None else 0
        timeout = policy.timeout if policy is not None else None
        failed_attempts: list[dict[str, Any]] = []
        outputs: list[tuple[str, str, str]] = []
        start = time.perf_counter()
        attempts = 0
        while True:
            attempts += 1
            reply, still_running = self._attempt(index, task, timeout)
            blob, error = reply[0], reply[1]
            outputs.append((reply[2], reply[3], reply[4]))
            if error is None and blob is not None:
                try:
                    value = pickle.loads(blob)
                except BaseException as exc:
                    error = (type_name(exc), f"the return value of task {task.name!r} cannot "
                             f"be unpickled here: {safe_str(exc)}", describe(exc)[2])
            if error is not None and still_running and attempts <= retries:
                error = (error[0], f"{error[1]}; not retried: its timed-out body is still "
                         "running, and a task never runs twice at once", error[2])
            outcome = outcome_of(error)
            if error is None or attempts > retries or still_running or outcome is not None:
                break  # an outcome (skip, xfail) is the body's own verdict: never retried
            failed_attempts.append(dict(zip(("error_type", "error", "traceback"), error)))
            if policy is not None and policy.retry_delay:
                time.sleep(policy.retry_delay)
        stop = time.perf_counter()
        if error is None:
            run.store_result(index, value)
            self.cache[task.name] = (value, blob)  # type: ignore[assignment]
        result = TaskResult._ran(task, thread_name, run.wall0 + (start - run.clock0),
                                 run.wall0 + (stop - run.clock0), attempts, error,
                                 failed_attempts)
        if outcome is not None:
            apply_outcome(result, *outcome)
        if self.capture:
            result.stdout, result.stderr, result.log = ("".join(o[i] for o in outputs)
                                                        for i in range(3))
        return result

    def _attempt(self, index: int, task: Any, timeout: Optional[float]) -> tuple[Reply, bool]:
        """One try: submit, wait, and turn every failure into a reply. Also says whether the
        body still runs (then the task is not tried again)."""
        executor: Optional[Executor] = None
        try:
            state = self.state_blobs if task.with_state else None
            results = self._result_blobs() if state is not None else None
            executor, future = self._submit(
                run_task, task.name, self.funcs[index], self.shipment, state, results,
                self.capture, self.is_async[index], timeout)
        except BaseException as exc:
            return self._lost(exc, executor), False
        try:
            started = getattr(future, "body_started", None)
            if timeout is None or started is None:
                reply = future.result()
                running = reply[5] if len(reply) > 5 else None
                if running is None:
                    return reply, False
                return self._still_running(index, executor, running, reply)
            started.wait()  # set when the body starts, or when the call ends without it
            limit = timeout + (grace(timeout) if self.is_async[index] else 0.0)
            try:
                return future.result(limit), False
            except FutureTimeout:
                return self._overran(index, task.name, timeout, executor, future)
        except BaseException as exc:  # KilledWorker, BrokenProcessPool, a lost connection
            return self._lost(exc, executor), False

    def _still_running(self, index: int, executor: Executor, pid: int,
                       reply: Reply) -> tuple[Reply, bool]:
        """``run_task`` timed out a body that still runs in process ``pid``."""
        error: Error = reply[1]  # type: ignore[assignment]
        if getattr(executor, "ends_timed_out_bodies", False):
            note = "its worker process was ended"
        elif isinstance(executor, ProcessPoolExecutor) and self._end_pool(executor, pid, index):
            note = ("its process was ended, and with it the pool, whose other tasks in "
                    "flight failed; a new pool runs the rest")
        else:
            self.run.body_abandoned(index, ends_known=False)  # the slot stays held this run
            return _noted(reply, error, "its body is left to finish where it runs"), True
        return _noted(reply, error, note), False

    def _overran(self, index: int, name: str, timeout: float, executor: Executor,
                 future: Any) -> tuple[Reply, bool]:
        """A body timed here from its start is still running."""
        end = getattr(executor, "end_body", None)
        ended = False
        try:
            ended = callable(end) and bool(end(future))
        except Exception:  # the executor could not end it: leave it, as below
            ended = False
        if ended:
            try:
                future.exception(END_BODY_WAIT)
            except CancelledError:
                pass
            except FutureTimeout:
                ended = False
        message = f"task {name!r} timed out after {timeout:g}s"
        if ended:
            message += " (its worker was ended to stop it)"
        else:
            release = self.run.body_abandoned(index)
            future.add_done_callback(lambda _: release())
            message += " (its body is left to finish where it runs)"
        return failure(("TimeoutError", message, f"TimeoutError: {message}\n")), not ended

    def _lost(self, exc: BaseException, executor: Optional[Executor]) -> Reply:
        """The executor, not the body, failed this try; a broken process pool is replaced."""
        error_type, message, text = describe(exc)
        message = message or safe_repr(exc)
        if isinstance(exc, BrokenExecutor):
            cause = self.ended.get(id(executor), (None, None))[1]
            replaced = executor is not None and self._replace(executor)
            if cause is not None:
                message = (f"its process pool was ended to stop the timed-out body of task "
                           f"{cause!r}: a pool cannot end one of its processes alone")
            else:
                message = (f"a worker process died while this task was in flight ({message}). "
                           "A process pool cannot tell which task crashed it, so every task "
                           "in flight is reported failed")
            if replaced:
                message += "; the pool was recreated and the run went on"
        return failure((error_type, message, text))

    def _submit(self, fn: Callable[..., Any], *args: Any) -> tuple[Executor, Any]:
        """Submit to the current executor; a pool found broken is replaced once first."""
        with self.lock:
            executor = self.executor
        try:
            return executor, executor.submit(fn, *args)
        except BrokenExecutor:
            if not self._replace(executor):
                raise
            with self.lock:
                executor = self.executor
            return executor, executor.submit(fn, *args)

    def _replace(self, broken: Executor) -> bool:
        """Swap a broken ProcessPoolExecutor for a fresh one like it (once per breakage)."""
        with self.lock:
            if self.executor is not broken:
                return True  # another dispatcher replaced it already
            fresh = _fresh_pool(broken)
            if fresh is None:
                return False
            self.executor = fresh
            self.replacements.append(fresh)
        _shutdown_now(broken)
        return True

    def _end_pool(self, pool: ProcessPoolExecutor, pid: int, index: int) -> bool:
        """End the pool process where a timed-out body runs, and so the pool (it cannot lose
        one process alone); its processes are gone before this returns."""
        with self.lock:  # a second timeout in the same pool waits here for the first
            if id(pool) not in self.ended:
                processes = dict(getattr(pool, "_processes", None) or {})
                if pid not in processes:
                    return False
                self.ended[id(pool)] = (pool, self.run.tasks[index].name)
                for process in processes.values():
                    process.kill()
                for process in processes.values():
                    process.join(10)
        self._replace(pool)
        return True

    def _results(self) -> dict[str, Any]:
        results = self.state.get("results")
        return results if isinstance(results, dict) else {}

    def _result_blobs(self) -> Optional[dict[str, bytes]]:
        """``state['results']`` as it is now, pickled; values that came back are reused."""
        if not isinstance(self.state.get("results"), dict):
            return None
        with self.state["_state_lock"]:
            items = list(self._results().items())
        blobs = {}
        for key, value in items:
            cached = self.cache.get(key)
            if cached is None or cached[0] is not value:
                cached = self.cache[key] = (value, _dumps_state(f"state['results'][{key!r}]",
                                                                value))
            blobs[key] = cached[1]
        return blobs


def _noted(reply: Reply, error: Error, note: str) -> Reply:
    return (reply[0], (error[0], f"{error[1]} ({note})", error[2]), reply[2], reply[3],
            reply[4], None)


def _dumps_state(what: str, value: Any) -> bytes:
    try:
        return dumps_value(value)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a __reduce__ may raise SystemExit
        raise NotPicklableError(
            f"{what} cannot be pickled for the executor ({type_name(exc)}: {safe_str(exc)}); "
            "tasks in other processes get a copy of the state: make it picklable or leave it "
            "out") from exc


def _fresh_pool(old: Executor) -> Optional[Executor]:
    if not isinstance(old, ProcessPoolExecutor):
        return None
    kwargs: dict[str, Any] = {
        "max_workers": getattr(old, "_max_workers", None),
        "mp_context": getattr(old, "_mp_context", None),
        "initializer": getattr(old, "_initializer", None),
        "initargs": getattr(old, "_initargs", ()),
    }
    if getattr(old, "_max_tasks_per_child", None) is not None:
        kwargs["max_tasks_per_child"] = old._max_tasks_per_child  # type: ignore[attr-defined]
    return type(old)(**kwargs) if type(old).__init__ is ProcessPoolExecutor.__init__ \
        else ProcessPoolExecutor(**kwargs)


def _shutdown_now(executor: Executor, terminate: bool = False) -> None:
    """Stop a pool without waiting; ours also lose their processes, where an abandoned
    (timed-out) body may still run and would otherwise hold up the interpreter's exit."""
    processes = list((getattr(executor, "_processes", None) or {}).values()) if terminate else []
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except Exception:  # pragma: no cover - a broken pool may complain; it is gone anyway
        pass
    for process in processes:
        if process.is_alive():
            process.terminate()
