"""One run of the graph: worker threads that pass work among themselves, never polling.

A worker that finishes a task records it, releases its dependents and takes the next ready
task itself, all under one short lock. Hook events go, in that same critical section, to a
queue that the scheduler thread blocks on, so event order follows the graph. Only the first
worker is started up front; workers start the others while ready tasks outnumber them.

Threads and locks
-----------------
- Fixed after ``Run.__init__`` (read by any thread without the lock): ``tasks``,
  ``dependents``, ``state``, ``results_dict``, ``state_lock``, ``skip_dependents``,
  ``max_failures``, ``emit``, ``capture``, ``context``, ``policies``, ``clock0``, ``wall0``,
  ``lock``, ``wakeup``, ``events``. ``scopes`` (``Scheduler.task_scopes``) is filled by
  plugins in ``scheduler_start``, before the first worker starts, and only read after.
- Guarded by ``Run.lock`` (a ``_mutex.Mutex``): everything else (``pending``, ``initial``,
  ``ready``, ``blocked``, ``running``, ``records``, ``ran``, ``remaining``, ``failures``,
  ``idle``, ``stop_reason``, ``finished``), the ``GroupSlots`` in ``groups``, the
  ``WorkerStarts`` in ``workers`` and the ``StillRunning`` in ``still_running``.
- ``state_lock`` (the user's, in ``state["_state_lock"]``) guards only ``state["results"]``.
- ``events`` is a ``SimpleQueue``: workers put under the lock, so events follow the graph;
  only the scheduler thread (the caller of ``start()``) takes from it, and only it calls
  hooks. A signal handler may put on it too (``request_interrupt``): ``put`` is reentrant.
- Plugins' code runs on a worker only inside ``scopes`` (entered around each body).

Invariants (tests/core enforces them):
- A task index is in exactly one of: pending (indegree > 0), ``initial``/``ready``, parked
  in ``groups``, ``running``, or ``records``.
- Workers wait idle only while nothing is ready; when nothing is ready and nothing runs, the
  run is over (or stuck behind a group slot an abandoned body holds) and is finalized.
- The worker that finishes a task takes one released task itself, hence
  ``notify(released - 1)``.
- ``_END`` is put exactly once, by ``_finalize``, after every task has a record.
- At most one body of a task, and at most a group's limit of its bodies, run at once,
  counting bodies abandoned by a timeout (``body_abandoned``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from contextlib import AbstractContextManager
from heapq import heappop, heappush
from operator import attrgetter
from queue import SimpleQueue
from typing import Any, Callable, Optional, Protocol

from . import _capture, _fork, _policies
from ._groups import GroupSlots
from ._leftovers import Leftovers, StillRunning
from ._mutex import Mutex
from ._run_control import _DONE, _END, _START, RunControl
from ._text import format_exception, safe_format_exception, safe_str, type_name
from ._workers import WorkerStarts
from .context import worker_slot
from .graph import Compiled
from .outcomes import apply_outcome, classify, dependency_reason
from .results import CANCELLED, FAILED, PASSED, SKIPPED, XPASSED, TaskResult, node_id

_GROUP = attrgetter("group")


class BodyRunner(Protocol):
    """Runs task bodies somewhere else (an executor) for the engine's workers."""

    def bind(self, run: Run) -> None:
        """Called once by ``Run.__init__``: the run whose tasks, policies and state to use."""

    def run_body(self, index: int, thread_name: str) -> TaskResult:
        """Run task ``index``'s body (with its policy) and return its record; never raises."""


class Run(RunControl):
    """State of one ``start()``: what is ready, running and finished."""

    def __init__(
        self,
        compiled: Compiled,
        workers: int,
        state: dict[str, Any],
        store_results: bool,
        skip_dependents: bool,
        max_failures: Optional[int],
        emit_events: bool,
        capture_output: bool,
        limits: Optional[dict[str, int]] = None,
        default_retries: int = 0,
        default_timeout: Optional[float] = None,
        bodies: Optional[BodyRunner] = None,
        scopes: Optional[list[Callable[[str], AbstractContextManager[Any]]]] = None,
        leftovers: Optional[Leftovers] = None,
    ) -> None:
        self.tasks = compiled.tasks
        # Scheduler.task_scopes, the same list: plugins fill it before the workers start.
        self.scopes = scopes if scopes is not None else []
        self.dependents = compiled.dependents
        self.pending = compiled.indegree[:]
        # Ready tasks start lowest index first. Those ready at the outset are already in
        # order, so they wait on a stack (smallest last) that costs O(1) to take from; tasks
        # released later go to the heap ``ready``. Workers take the smaller of the two heads.
        self.initial = [i for i, n in enumerate(self.pending) if n == 0]
        self.initial.reverse()
        self.ready: list[int] = []
        self.blocked: dict[int, str] = {}
        self.state = state
        self.results_dict = state.get("results") if store_results else None
        self.state_lock = state["_state_lock"]
        self.skip_dependents = skip_dependents
        self.max_failures = max_failures
        self.emit = emit_events
        self.capture = capture_output
        self.context = contextvars.copy_context()  # the caller's: workers run in copies
        self.lock = Mutex()
        self.wakeup = threading.Condition(self.lock)  # type: ignore[arg-type]  # a lock-like Mutex
        self.events: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self.records: list[Optional[TaskResult]] = [None] * len(self.tasks)
        self.ran: list[str] = []
        self.running: dict[int, str] = {}
        self.remaining = len(self.tasks)
        self.failures = 0
        self.idle = 0
        self.workers = WorkerStarts(self.lock, min(workers, len(self.tasks)))
        self.stop_reason: Optional[str] = None
        self.finished = False
        self.policies = _policies.for_tasks(compiled.tasks, compiled.is_async, default_retries,
                                           default_timeout)
        self.groups: Optional[GroupSlots] = None
        if any(map(_GROUP, self.tasks)):  # groups are non-empty strings or None
            self.groups = GroupSlots([t.group for t in self.tasks], limits)
        # Bodies that earlier runs abandoned, still running (see _leftovers.py): their tasks
        # do not start while they run, and they hold their group slots.
        self.leftovers = leftovers
        self.still_running = StillRunning(self, leftovers) if leftovers is not None else None
        self.clock0 = time.perf_counter()
        self.wall0 = time.time()
        # Where task bodies run: here (``_execute``), or in an executor (``_remote.Remote``,
        # whose ``run_body`` the workers call instead: they become dispatchers). Chosen once per
        # worker, so a run without an executor pays not even a branch per task.
        self.bodies = bodies
        if bodies is not None:
            bodies.bind(self)

    # -- worker side -------------------------------------------------------------------

    def start_workers(self) -> list[threading.Thread]:
        """Start the first worker; workers start the others while ready tasks wait with no
        idle worker to take them (as ThreadPoolExecutor grows its pool). So a chain runs on
        one thread, and this thread never waits a GIL switch interval (5 ms) per start()
        behind a worker that is already busy running tasks."""
        if not self.workers.limit:
            return []
        self.workers.started = 1  # before any worker exists: no lock needed yet
        return [self._spawn(0)]

    def _spawn(self, n: int) -> threading.Thread:
        name = f"thread_{n}"
        # Each worker runs in its own copy of the caller's context (see context.py).
        thread = threading.Thread(target=self.context.copy().run, args=(self._work, name),
                                  name=name, daemon=True)
        thread.start()
        return thread

    def _spawn_next(self, n: int) -> None:
        """Start worker ``n``, then say so: ``cancel_running`` waits for it, so that no
        thread is still starting once ``start()`` has returned or raised."""
        failed = False
        try:
            self._spawn(n)
        except Exception:  # no thread to be had: carry on with those there are
            failed = True
        with self.lock:
            self.workers.done(not failed)

    def _work(self, thread_name: str) -> None:
        try:
            self._work_loop(thread_name)
        finally:
            if self.policies is not None:
                _policies.close_loop()

    def _work_loop(self, thread_name: str) -> None:
        ready, initial, running = self.ready, self.initial, self.running
        emit, events, groups, workers = self.emit, self.events, self.groups, self.workers
        acquire, release = self.lock.take, self.lock.give
        finish = self._finish
        execute = self._execute if self.bodies is None else self.bodies.run_body
        if self.scopes:  # chosen once per worker: a run without scopes pays nothing per task
            execute = functools.partial(self._scoped, execute)
        if self.still_running is not None and self.still_running.count:  # the same
            execute = functools.partial(self.still_running.unless_running, execute)
        tasks, slot = self.tasks, worker_slot()  # current_task(): see context.py
        result: Optional[TaskResult] = None
        index = -1
        while True:
            acquire()  # the run's lock (see _mutex.Mutex), not ``with``: this runs once per task
            try:
                if result is not None:
                    finish(index, result)
                    result = None
                while True:
                    if (initial or ready) and self.stop_reason is None:
                        if initial and (not ready or initial[-1] < ready[0]):
                            index = initial.pop()
                        else:
                            index = heappop(ready)
                        if groups is None or groups.admit(index):
                            break
                        continue
                    if self.remaining == 0 or self.finished or not running:
                        # Nothing runs and nothing is ready: the run is over, or what is left
                        # waits on a group slot held by an abandoned body (see _finalize).
                        self._finalize()
                        return
                    self.idle += 1
                    self.wakeup.wait()
                    self.idle -= 1
                running[index] = thread_name
                if emit:
                    events.put((_START, self.tasks[index].name, thread_name))
                spawn = -1
                if (initial or ready) and not self.idle and workers.started < workers.limit:
                    spawn = workers.claim()  # more work than workers: one more, in order
            finally:
                release()
            if spawn >= 0:
                self._spawn_next(spawn)  # outside the lock: starting a thread takes a while
            slot.task = tasks[index]  # stays until the next one: nothing else runs here
            try:
                result = execute(index, thread_name)
            except BaseException as exc:  # a fault of ours must not hang the run
                result = _internal_error(self.tasks[index].name, thread_name, exc)
            if _fork.forked:  # the body forked, and this is the child coming back
                _fork.exit_child(result.status == PASSED)

    def _scoped(self, execute: Callable[[int, str], TaskResult], index: int,
                thread_name: str) -> TaskResult:
        """The body inside the plugins' task scopes, on this worker and in its context, so a
        ContextVar they set reaches the body and is reset before the next task. A scope
        that raises makes the task an internal error (see ``_work_loop``)."""
        task = self.tasks[index]
        with contextlib.ExitStack() as stack:
            for scope in list(self.scopes):
                stack.enter_context(scope(node_id(task.name, task.module)))
            return execute(index, thread_name)

    def _execute(self, index: int, thread_name: str) -> TaskResult:
        task = self.tasks[index]
        policy = self.policies[index] if self.policies is not None else None
        buffers = _capture.begin() if self.capture else None
        start = time.perf_counter()
        if policy is None:
            attempts, failed_attempts = 1, None
            try:
                value = task.func(self.state) if task.with_state else task.func()
                error = None
            except BaseException as exc:  # a task's SystemExit must not end the worker
                error = exc
        else:
            args = (self.state,) if task.with_state else ()
            value, error, attempts, failed_attempts = _policies.run(
                task.name, task.func, args, policy, thread_name,
                functools.partial(self.body_abandoned, index))
        stop = time.perf_counter()
        wall0, clock0 = self.wall0, self.clock0
        if error is None:  # store_result and TaskResult._ran inlined: once per task
            results = self.results_dict
            if results is not None:
                with self.state_lock:  # any context manager the user supplied
                    if index in self.running:  # not cancelled by a second Ctrl-C meanwhile
                        results[task.name] = value
            result = TaskResult._passed(task.name, thread_name, wall0 + (start - clock0),
                                        wall0 + (stop - clock0), stop - start, attempts,
                                        task.module, task.tags, task.after)
            if failed_attempts:
                result.failed_attempts = failed_attempts
        else:
            failure = (type_name(error), safe_str(error), format_exception(error))
            result = TaskResult._ran(task, thread_name, wall0 + (start - clock0),
                                     wall0 + (stop - clock0), attempts, failure,
                                     failed_attempts)
            _classify(result, error)  # skip(), xfail() and pytest's: only a raising body pays
        if buffers is not None:
            _capture.end()
            result.stdout = buffers.stdout.getvalue()
            result.stderr = buffers.stderr.getvalue()
            result.log = buffers.log.getvalue()
        return result

    def store_result(self, index: int, value: Any) -> None:
        """A passed body's return value into ``state["results"]``, unless the task was
        cancelled (a second Ctrl-C) while it ran."""
        if self.results_dict is not None:
            with self.state_lock:  # any context manager the user supplied
                if index in self.running:
                    self.results_dict[self.tasks[index].name] = value

    def _finish(self, index: int, result: TaskResult) -> None:
        """Record a finished task and release its dependents; caller holds the lock."""
        if self.running.pop(index, None) is None:
            return  # already recorded as cancelled after a second Ctrl-C
        self.records[index] = result  # as _record, inlined: this runs once per task
        self.remaining -= 1
        if self.emit:
            self.events.put((_DONE, result))
        self.ran.append(result.name)
        status = result.status
        released = (self._release(index, status != PASSED and status != XPASSED and (
                        status != FAILED or self.skip_dependents), result)
                    if self.dependents[index] else 0)
        if self.groups is not None:
            released += self.groups.leave(index, self.ready)
        if status == FAILED:
            self.failures += 1
            if self.max_failures is not None and self.failures >= self.max_failures:
                self.stop_reason = self.stop_reason or (
                    f"stopped after {self.failures} failure{'s' if self.failures > 1 else ''}")
        if self.remaining == 0 or self.stop_reason is not None:
            self.wakeup.notify_all()
        elif released > 1 and self.idle:
            self.wakeup.notify(released - 1)

    def body_abandoned(self, index: int, ends_known: bool = True) -> Callable[[], None]:
        """A body runner stopped waiting for task ``index``'s body, which still runs.

        Until the returned ``release`` is called (from any thread, when that body really
        ends) the task keeps its group slot: a group's limit counts bodies, not tasks; and
        later runs of the scheduler do not start the task again (``_leftovers.py``), unless
        ``ends_known`` is false: nobody will call ``release``, so only this run waits.
        """
        task = self.tasks[index]
        ended = self.leftovers.abandoned(task.name, task.group) \
            if self.leftovers is not None and ends_known else None
        groups = self.groups
        if groups is None:
            return ended or _nothing_held
        with self.lock:
            groups.hold(index)

        def release() -> None:
            with self.lock:
                task_finished = index not in self.running and not self.finished
                if groups.unhold(index, task_finished, self.ready) and self.idle:
                    self.wakeup.notify()
            if ended is not None:
                ended()

        return release

    def _record(self, index: int, result: TaskResult) -> None:
        self.records[index] = result
        self.remaining -= 1
        if self.emit:
            self.events.put((_DONE, result))

    def _release(self, index: int, failed: bool, result: TaskResult) -> int:
        """Count down dependents; skip them when ``failed`` (the task was skipped or xfailed,
        or failed under ``skip_dependents``), with ``outcomes.dependency_reason``. Returns
        tasks made ready."""
        if not self.blocked and not failed:
            # Nothing is or will be skipped: no cascade to follow, so no stack to build.
            pending, ready, released = self.pending, self.ready, 0
            for child in self.dependents[index]:
                pending[child] -= 1
                if not pending[child]:
                    heappush(ready, child)
                    released += 1
            return released
        released = 0
        stack = [(index, failed, dependency_reason(result.status, result.name) if failed else "")]
        while stack:
            parent, parent_failed, cause = stack.pop()
            for child in self.dependents[parent]:
                if parent_failed and child not in self.blocked:
                    self.blocked[child] = cause
                self.pending[child] -= 1
                if self.pending[child]:
                    continue
                cause_of_child = self.blocked.get(child)
                if cause_of_child is None:
                    heappush(self.ready, child)
                    released += 1
                    continue
                task = self.tasks[child]
                self._record(child, _skipped(task, cause_of_child))
                stack.append((child, True, cause_of_child))
        return released

    def _finalize(self) -> None:
        """Account for every task that never ran, once; caller holds the lock."""
        if self.finished:
            return
        self.finished = True
        interrupted = self.stop_reason == "interrupted"
        stuck: dict[int, str] = {}  # tasks left behind a group slot an abandoned body holds
        if self.groups is not None and self.remaining and self.stop_reason is None:
            stuck = self.groups.stuck_reasons([t.name for t in self.tasks], self.dependents,
                                              self.records)
        for i, task in enumerate(self.tasks if self.remaining else ()):
            if self.records[i] is None:
                if interrupted:
                    self.records[i] = TaskResult(
                        task.name, CANCELLED, module=task.module, tags=task.tags,
                        after=task.after, skip_reason="never started: run interrupted",
                    )
                else:
                    reason = stuck.get(i) or self.stop_reason or "not run"
                    self._record(i, _skipped(task, reason))
        self.remaining = 0
        self.wakeup.notify_all()
        self.events.put((_END,))


def _nothing_held() -> None:
    return None


def _classify(result: TaskResult, error: BaseException) -> None:
    """Turn the record of a body that raised an outcome exception into its outcome."""
    outcome = classify(error)
    if outcome is not None:
        apply_outcome(result, *outcome)


def _skipped(task: Any, reason: str) -> TaskResult:
    return TaskResult(
        task.name, SKIPPED, skip_reason=reason, error_type="DependencyError" if
        reason.startswith("dependency") else None, error=reason,
        module=task.module, tags=task.tags, after=task.after,
    )


def _internal_error(name: str, thread_name: str, exc: BaseException) -> TaskResult:
    return TaskResult(
        name, FAILED, thread=thread_name, error_type=type_name(exc),
        error=f"internal error while running the task: {safe_str(exc)}",
        traceback=safe_format_exception(exc, exc.__traceback__), attempts=1,
    )
