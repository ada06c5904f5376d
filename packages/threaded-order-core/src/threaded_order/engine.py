"""One run of the graph: worker threads that pass work among themselves, never polling.

A worker that finishes a task records it, releases its dependents and takes the next ready
task itself, all under one short lock. Hook events go, in that same critical section, to a
queue that the scheduler thread blocks on, so event order follows the graph. Only the first
worker is started up front; workers start the others while ready tasks outnumber them.
"""

from __future__ import annotations

import functools
import threading
import time
from heapq import heappop, heappush
from operator import attrgetter
from queue import Empty, SimpleQueue
from typing import Any, Callable, Optional

from . import capture, policies
from .graph import Compiled
from .policies import Policy
from .results import CANCELLED, FAILED, PASSED, SKIPPED, TaskResult

_START, _DONE, _END = 0, 1, 2
_GROUP, _RETRIES, _TIMEOUT = attrgetter("group"), attrgetter("retries"), attrgetter("timeout")


class Run:
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
        remote: Any = None,
    ) -> None:
        self.tasks = compiled.tasks
        self.dependents = compiled.dependents
        self.pending = compiled.indegree[:]
        # Ready tasks start lowest index first. Those ready at the outset are already in
        # order, so they wait on a stack (smallest last) that costs O(1) to take from; tasks
        # released later go to the heap ``ready``. Workers take the smaller of the two heads.
        self.initial = [i for i, n in enumerate(self.pending) if n == 0]
        self.initial.reverse()
        self.ready: list[int] = []
        self.blocked: dict[int, str] = {}
        self.workers = workers
        self.state = state
        self.results_dict = state.get("results") if store_results else None
        self.state_lock = state["_state_lock"]
        self.skip_dependents = skip_dependents
        self.max_failures = max_failures
        self.emit = emit_events
        self.capture = capture_output
        self.lock = _Mutex()
        self.wakeup = threading.Condition(self.lock)
        self.events: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self.records: list[Optional[TaskResult]] = [None] * len(self.tasks)
        self.ran: list[str] = []
        self.running: dict[int, str] = {}
        self.remaining = len(self.tasks)
        self.failures = 0
        self.idle = 0
        self.max_threads = min(workers, len(self.tasks))
        self.started = 0  # worker threads started so far; see start_workers
        self.spawning = 0  # of those, how many a worker is starting right now
        self.spawned = threading.Condition(self.lock)
        self.stop_reason: Optional[str] = None
        self.finished = False
        self.policies = _policies(compiled, default_retries, default_timeout)
        self.groups: Optional[list[Optional[str]]] = None
        if any(map(_GROUP, self.tasks)):  # groups are non-empty strings or None
            self.groups = [t.group for t in self.tasks]
            self.limits = dict(limits or {})
            self.group_running: dict[str, int] = dict.fromkeys(self.limits, 0)
            self.parked: dict[str, list[int]] = {}
        self.clock0 = time.perf_counter()
        self.wall0 = time.time()
        if remote is not None:
            # Task bodies go to an executor (remote.py): the workers become dispatchers. Set
            # per instance, so a run without an executor pays not even a branch per task.
            self._execute = remote.attach(self)  # type: ignore[method-assign]

    # -- worker side -------------------------------------------------------------------

    def start_workers(self) -> list[threading.Thread]:
        """Start the first worker; workers start the others while ready tasks wait with no
        idle worker to take them (as ThreadPoolExecutor grows its pool). So a chain runs on
        one thread, and this thread never waits a GIL switch interval (5 ms) per start()
        behind a worker that is already busy running tasks."""
        if not self.max_threads:
            return []
        self.started = 1
        return [self._spawn(0)]

    def _spawn(self, n: int) -> threading.Thread:
        name = f"thread_{n}"
        thread = threading.Thread(target=self._work, args=(name,), name=name, daemon=True)
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
            if failed:
                self.max_threads = self.started
            self.spawning -= 1
            if not self.spawning:
                self.spawned.notify_all()

    def _work(self, thread_name: str) -> None:
        try:
            self._work_loop(thread_name)
        finally:
            if self.policies is not None:
                policies.close_loop()

    def _work_loop(self, thread_name: str) -> None:
        ready, initial, running = self.ready, self.initial, self.running
        emit, events, groups = self.emit, self.events, self.groups
        acquire, release = self.lock.take, self.lock.give
        finish, execute = self._finish, self._execute
        result: Optional[TaskResult] = None
        index = -1
        while True:
            acquire()  # the run's lock (see _Mutex), not ``with``: this runs once per task
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
                        if groups is None or self._admit(index):
                            break
                        continue
                    if self.remaining == 0 or self.finished or (
                        self.stop_reason is not None and not running
                    ):
                        self._finalize()
                        return
                    self.idle += 1
                    self.wakeup.wait()
                    self.idle -= 1
                running[index] = thread_name
                if emit:
                    events.put((_START, self.tasks[index].name, thread_name))
                spawn = -1
                if (initial or ready) and not self.idle and self.started < self.max_threads:
                    spawn = self.started  # more work than workers: one more, named in order
                    self.started += 1
                    self.spawning += 1
            finally:
                release()
            if spawn >= 0:
                self._spawn_next(spawn)  # outside the lock: starting a thread takes a while
            try:
                result = execute(index, thread_name)
            except BaseException as exc:  # a fault of ours must not hang the run
                result = _internal_error(self.tasks[index].name, thread_name, exc)

    def _admit(self, index: int) -> bool:
        """Start a grouped task only below its group's limit; park it otherwise."""
        group = self.groups[index]  # type: ignore[index]
        if group is None:
            return True
        running = self.group_running.get(group, 0)
        if running < self.limits.get(group, 1):
            self.group_running[group] = running + 1
            return True
        heappush(self.parked.setdefault(group, []), index)
        return False

    def _execute(self, index: int, thread_name: str) -> TaskResult:
        task = self.tasks[index]
        policy = self.policies[index] if self.policies is not None else None
        buffers = capture.begin() if self.capture else None
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
            value, error, attempts, failed_attempts = policies.run(
                task.name, task.func, args, policy, thread_name)
        stop = time.perf_counter()
        if error is None:
            if self.results_dict is not None:
                with self.state_lock:  # any context manager the user supplied
                    if index in self.running:  # not cancelled by a second Ctrl-C meanwhile
                        self.results_dict[task.name] = value
            result = TaskResult._passed(
                task.name, thread_name, self.wall0 + (start - self.clock0),
                self.wall0 + (stop - self.clock0), stop - start, attempts, task.module,
                task.tags, task.after,
            )
        else:
            result = TaskResult(
                task.name,
                FAILED,
                error_type=type(error).__name__,
                error=str(error),
                traceback=policies.format_exception(error),
            )
            result.thread = thread_name
            result.start = self.wall0 + (start - self.clock0)
            result.finish = self.wall0 + (stop - self.clock0)
            result.duration = stop - start
            result.attempts = attempts
            result.module, result.tags, result.after = task.module, task.tags, task.after
        if failed_attempts:
            result.failed_attempts = failed_attempts
        if buffers is not None:
            capture.end()
            result.stdout = buffers.stdout.getvalue()
            result.stderr = buffers.stderr.getvalue()
            result.log = buffers.log.getvalue()
        return result

    def _finish(self, index: int, result: TaskResult) -> None:
        """Record a finished task and release its dependents; caller holds the lock."""
        if self.running.pop(index, None) is None:
            return  # already recorded as cancelled after a second Ctrl-C
        self.records[index] = result  # as _record, inlined: this runs once per task
        self.remaining -= 1
        if self.emit:
            self.events.put((_DONE, result))
        self.ran.append(result.name)
        released = (self._release(index, result.status != PASSED, result.name)
                    if self.dependents[index] else 0)
        if self.groups is not None and self.groups[index] is not None:
            released += self._leave_group(self.groups[index])
        if result.status == FAILED:
            self.failures += 1
            if self.max_failures is not None and self.failures >= self.max_failures:
                self.stop_reason = self.stop_reason or f"stopped after {self.failures} failures"
        if self.remaining == 0 or self.stop_reason is not None:
            self.wakeup.notify_all()
        elif released > 1 and self.idle:
            self.wakeup.notify(released - 1)

    def _leave_group(self, group: str) -> int:
        """A grouped task ended: its group's first parked task becomes ready again."""
        self.group_running[group] -= 1
        parked = self.parked.get(group)
        if parked:
            heappush(self.ready, heappop(parked))
            return 1
        return 0

    def _record(self, index: int, result: TaskResult) -> None:
        self.records[index] = result
        self.remaining -= 1
        if self.emit:
            self.events.put((_DONE, result))

    def _release(self, index: int, failed: bool, root: str) -> int:
        """Count down dependents; skip those of a failure when asked. Returns tasks made ready."""
        if not self.blocked and not (failed and self.skip_dependents):
            # Nothing is or will be skipped: no cascade to follow, so no stack to build.
            pending, ready, released = self.pending, self.ready, 0
            for child in self.dependents[index]:
                pending[child] -= 1
                if not pending[child]:
                    heappush(ready, child)
                    released += 1
            return released
        released = 0
        stack = [(index, failed, root)]
        while stack:
            parent, parent_failed, cause = stack.pop()
            for child in self.dependents[parent]:
                if parent_failed and self.skip_dependents and child not in self.blocked:
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
                self._record(child, _skipped(task, f"dependency {cause_of_child!r} failed"))
                stack.append((child, True, cause_of_child))
        return released

    def _finalize(self) -> None:
        """Account for every task that never ran, once; caller holds the lock."""
        if self.finished:
            return
        self.finished = True
        interrupted = self.stop_reason == "interrupted"
        for i, task in enumerate(self.tasks if self.remaining else ()):
            if self.records[i] is None:
                if interrupted:
                    self.records[i] = TaskResult(
                        task.name, CANCELLED, module=task.module, tags=task.tags,
                        after=task.after, skip_reason="never started: run interrupted",
                    )
                else:
                    self._record(i, _skipped(task, self.stop_reason or "not run"))
        self.remaining = 0
        self.wakeup.notify_all()
        self.events.put((_END,))

    # -- scheduler-thread side ---------------------------------------------------------

    def events_until_end(self, on_start: Callable[..., None], on_done: Callable[..., None]) -> None:
        """Block on the event queue and dispatch until the run ends. No timeouts."""
        get = self.events.get
        while True:
            event = get()
            kind = event[0]
            if kind == _DONE:
                on_done(event[1])
            elif kind == _START:
                on_start(event[1], event[2])
            else:
                return

    def interrupt(self) -> None:
        """First Ctrl-C: start nothing new; running tasks finish and count as usual."""
        with self.lock:
            self.stop_reason = "interrupted"
            if not self.running:
                self._finalize()
            else:
                self.wakeup.notify_all()

    def cancel_running(self) -> None:
        """Second Ctrl-C: record the running tasks as failed and stop waiting for them."""
        with self.lock:
            while self.spawning:  # a worker is starting another; it takes a moment
                self.spawned.wait()
            for index in sorted(self.running):
                task = self.tasks[index]
                result = TaskResult(
                    task.name, FAILED, thread=self.running[index], error_type="CancelledError",
                    error="cancelled by interrupt while running", attempts=1,
                    module=task.module, tags=task.tags, after=task.after,
                )
                self._record(index, result)
                self.ran.append(task.name)
            self.running.clear()
            self.stop_reason = "interrupted"
            self._finalize()

    def running_names(self) -> list[str]:
        with self.lock:
            return [self.tasks[i].name for i in sorted(self.running)]


def _policies(compiled: Compiled, default_retries: int,
              default_timeout: Optional[float]) -> Optional[list[Optional[Policy]]]:
    """Per-task policies, or None when no task uses one (the engine's fast path)."""
    tasks = compiled.tasks
    if (not default_retries and default_timeout is None and not any(compiled.is_async)
            and not any(map(_RETRIES, tasks))
            and [*map(_TIMEOUT, tasks)].count(None) == len(tasks)):
        return None  # the same answer as the loop below when nothing is set, at C speed
    found: list[Optional[Policy]] = []
    for task, is_async in zip(compiled.tasks, compiled.is_async):
        retries = default_retries if task.retries is None else task.retries
        timeout = default_timeout if task.timeout is None else task.timeout
        if retries or timeout is not None or is_async:
            found.append(Policy(retries, task.retry_delay or 0.0, timeout, is_async))
        else:
            found.append(None)
    return found if any(p is not None for p in found) else None


def _skipped(task: Any, reason: str) -> TaskResult:
    return TaskResult(
        task.name, SKIPPED, skip_reason=reason, error_type="DependencyError" if
        reason.startswith("dependency") else None, error=reason,
        module=task.module, tags=task.tags, after=task.after,
    )


def _internal_error(name: str, thread_name: str, exc: BaseException) -> TaskResult:
    return TaskResult(
        name, FAILED, thread=thread_name, error_type=type(exc).__name__,
        error=f"internal error while running the task: {exc}",
        traceback=policies.format_exception(exc), attempts=1,
    )


class _Mutex:
    """The run's lock: one token in a SimpleQueue, so a waiting thread can take it only
    while holding the GIL. A threading.Lock hands itself to the waiter that release() wakes,
    before that waiter has the GIL; the running worker then blocks on it at its next task,
    and with several busy workers every task costs two context switches (a lock convoy:
    measured 12.5 µs per no-op task at 100,000 tasks and 4 workers instead of 6). Here the
    running worker takes the token straight back, and a waiter gets it once the GIL comes
    its way. Lock-like enough for threading.Condition and ``with``."""

    def __init__(self) -> None:
        queue: SimpleQueue[bool] = SimpleQueue()
        queue.put(True)
        self.take = queue.get  # the worker loop calls these two directly
        self.give = functools.partial(queue.put, True)
        self._is_owned = queue.empty  # for Condition: taken (by anyone) means owned

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        try:
            self.take(blocking, None if timeout < 0 else timeout)
        except Empty:
            return False
        return True

    def release(self) -> None:
        self.give()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.give()
