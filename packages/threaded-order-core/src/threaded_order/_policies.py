"""Task policies: retries, timeouts and async bodies.

Only tasks that use a policy come here; plain tasks take the engine's direct path, so
policies cost nothing when unused.

Timeouts: a Python thread cannot be killed. A task with a timeout runs its body on a helper
thread while its worker waits at most ``timeout`` seconds; on expiry the task is failed with
``TimeoutError`` and the worker moves on, so the worker count is kept. The helper thread is
abandoned: it is a daemon, so it never keeps the process alive, but it runs until its body
returns and its result is thrown away. While it runs the task keeps its group's slot (the
engine's ``body_abandoned``) and is not retried, so there are never two copies of one body,
nor more bodies of a group than its limit. An ``async def`` task with a timeout runs on its
own event loop in a helper thread the same way: it is cancelled for real when it awaits, and
abandoned like a plain body when it blocks the loop instead.

Async: each worker thread has its own event loop, created on first use and closed when the
worker ends. An async task runs to completion on its worker's loop; tasks on other workers
overlap with it as plain tasks do.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

from . import _capture, _fork
from ._text import attach_task_stack, format_exception, safe_str, type_name
from .context import pin
from .outcomes import is_outcome

if TYPE_CHECKING:  # asyncio costs mtrun ~40 ms at start-up: only async tasks import it
    import asyncio

_local = threading.local()


class Policy(NamedTuple):
    """The effective policy of one task, after the scheduler's defaults."""

    retries: int
    retry_delay: float
    timeout: Optional[float]
    is_async: bool


class Outcome(NamedTuple):
    value: Any
    error: Optional[BaseException]
    attempts: int
    failed_attempts: list[dict[str, Any]]


Abandon = Callable[[], Callable[[], None]]


_RETRIES, _TIMEOUT = attrgetter("retries"), attrgetter("timeout")


def for_tasks(tasks: Sequence[Any], is_async: Sequence[bool], default_retries: int,
              default_timeout: Optional[float]) -> Optional[list[Optional[Policy]]]:
    """Per-task policies, or None when no task uses one (the engine's fast path)."""
    if (not default_retries and default_timeout is None and not any(is_async)
            and not any(map(_RETRIES, tasks))
            and [*map(_TIMEOUT, tasks)].count(None) == len(tasks)):
        return None  # the same answer as the loop below when nothing is set, at C speed
    found: list[Optional[Policy]] = []
    for task, async_body in zip(tasks, is_async):
        retries = default_retries if task.retries is None else task.retries
        timeout = default_timeout if task.timeout is None else task.timeout
        if retries or timeout is not None or async_body:
            found.append(Policy(retries, task.retry_delay or 0.0, timeout, async_body))
        else:
            found.append(None)
    return found if any(p is not None for p in found) else None


def run(name: str, func: Any, args: tuple[Any, ...], policy: Policy, thread_name: str,
        abandon: Optional[Abandon] = None) -> Outcome:
    """Call the task with its policy: each attempt bounded by the timeout, retried on failure.

    ``abandon`` is called when a timed-out body is left running; it returns the function to
    call when that body ends (see the module doc).
    """
    failed: list[dict[str, Any]] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            value = _attempt(name, func, args, policy, thread_name, abandon)
        except BaseException as exc:
            if attempt > policy.retries or is_outcome(exc):  # skip(), xfail(): never retried
                return Outcome(None, exc, attempt, failed)
            if getattr(exc, "body_still_running", False):
                exc.args = (f"{safe_str(exc)}; not retried: its timed-out body is still "
                            "running, and a task never runs twice at once",)
                return Outcome(None, exc, attempt, failed)
            failed.append({"error_type": type_name(exc), "error": safe_str(exc),
                           "traceback": format_exception(exc)})
            if policy.retry_delay:
                time.sleep(policy.retry_delay)
            continue
        return Outcome(value, None, attempt, failed)


def _attempt(name: str, func: Any, args: tuple[Any, ...], policy: Policy,
             thread_name: str, abandon: Optional[Abandon]) -> Any:
    if policy.is_async:
        if policy.timeout is None:
            return _loop().run_until_complete(func(*args))
        timeout = policy.timeout
        # Its own loop on a helper thread: a body that blocks instead of awaiting is
        # caught by the thread's wait, a little after wait_for would have cancelled it.
        return _call_with_timeout(
            name, _run_bounded, (name, func, args, timeout), timeout + _grace(timeout),
            thread_name, abandon, shown_timeout=timeout)
    if policy.timeout is None:
        return func(*args)
    return _call_with_timeout(name, func, args, policy.timeout, thread_name, abandon)


def _grace(timeout: float) -> float:
    return min(1.0, max(0.05, timeout / 10))


def _run_bounded(name: str, func: Any, args: tuple[Any, ...], timeout: float) -> Any:
    import asyncio

    return asyncio.run(_bounded(name, func(*args), timeout))


async def _bounded(name: str, coroutine: Any, timeout: float) -> Any:
    import asyncio

    try:
        return await asyncio.wait_for(coroutine, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"task {name!r} timed out after {timeout:g}s") from None


def _call_with_timeout(name: str, func: Any, args: tuple[Any, ...], timeout: float,
                       thread_name: str, abandon: Optional[Abandon],
                       shown_timeout: Optional[float] = None) -> Any:
    box: dict[str, Any] = {}
    finished = threading.Event()
    lock = threading.Lock()  # between the body ending and the waiter giving up on it
    buffers = _capture.current()

    def body() -> None:
        _capture.adopt(buffers)
        ok = False
        try:
            box["value"] = func(*args)
            ok = True
        except BaseException as exc:
            box["error"] = exc
        if _fork.forked:  # the body forked and this is the child: end it here
            _fork.exit_child(ok)
        with lock:
            finished.set()
            release = box.get("release")
        if release is not None:
            release()

    context = contextvars.copy_context()  # current_task() there too, even once abandoned
    context.run(pin)
    helper = threading.Thread(target=context.run, args=(body,), name=thread_name, daemon=True)
    helper.start()
    if not finished.wait(timeout):
        with lock:
            if not finished.is_set():
                box["release"] = abandon() if abandon is not None else None
        if finished.is_set() and "release" not in box:
            return _outcome(box)  # it ended just as time ran out: take its result
        error = TimeoutError(
            f"task {name!r} timed out after {shown_timeout or timeout:g}s (its thread is "
            "abandoned and left to finish on its own)")
        error.body_still_running = True  # type: ignore[attr-defined]  # never retried
        attach_task_stack(error, helper, __file__)
        raise error
    return _outcome(box)


def _outcome(box: dict[str, Any]) -> Any:
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        import asyncio

        loop = _local.loop = asyncio.new_event_loop()
    return loop


def close_loop() -> None:
    """Close this worker's event loop, if it made one."""
    loop = getattr(_local, "loop", None)
    if loop is not None and not loop.is_closed():
        loop.close()
    _local.loop = None
