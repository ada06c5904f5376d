"""Task policies: retries, timeouts and async bodies.

Only tasks that use a policy come here; plain tasks take the engine's direct path, so
policies cost nothing when unused.

Timeouts: a Python thread cannot be killed. A task with a timeout runs its body on a helper
thread while its worker waits at most ``timeout`` seconds; on expiry the task is failed with
``TimeoutError`` and the worker moves on, so the worker count is kept. The helper thread is
abandoned: it is a daemon, so it never keeps the process alive, but it runs until its body
returns and its result is thrown away. An ``async def`` task is cancelled for real instead.

Async: each worker thread has its own event loop, created on first use and closed when the
worker ends. An async task runs to completion on its worker's loop; tasks on other workers
overlap with it as plain tasks do.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
import traceback
from types import FunctionType
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from . import capture

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


def is_async(func: Any) -> bool:
    if type(func) is FunctionType and not func.__dict__:
        # The common case, checked per task at every compile: a plain function with no
        # attributes (so no coroutine marker, no __wrapped__) is async exactly when its
        # code is. inspect's full check below costs ~10x more.
        return bool(func.__code__.co_flags & inspect.CO_COROUTINE)
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - async callable objects too
    )


def run(name: str, func: Any, args: tuple[Any, ...], policy: Policy, thread_name: str) -> Outcome:
    """Call the task with its policy: each attempt bounded by the timeout, retried on failure."""
    failed: list[dict[str, Any]] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            value = _attempt(name, func, args, policy, thread_name)
        except BaseException as exc:
            if attempt > policy.retries:
                return Outcome(None, exc, attempt, failed)
            failed.append({"error_type": type(exc).__name__, "error": str(exc),
                           "traceback": format_exception(exc)})
            if policy.retry_delay:
                time.sleep(policy.retry_delay)
            continue
        return Outcome(value, None, attempt, failed)


def _attempt(name: str, func: Any, args: tuple[Any, ...], policy: Policy,
             thread_name: str) -> Any:
    if policy.is_async:
        coroutine = func(*args)
        if policy.timeout is not None:
            coroutine = _bounded(name, coroutine, policy.timeout)
        return _loop().run_until_complete(coroutine)
    if policy.timeout is None:
        return func(*args)
    return _call_with_timeout(name, func, args, policy.timeout, thread_name)


async def _bounded(name: str, coroutine: Any, timeout: float) -> Any:
    import asyncio

    try:
        return await asyncio.wait_for(coroutine, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"task {name!r} timed out after {timeout:g}s") from None


def _call_with_timeout(name: str, func: Any, args: tuple[Any, ...], timeout: float,
                       thread_name: str) -> Any:
    box: dict[str, Any] = {}
    finished = threading.Event()
    buffers = capture.current()

    def body() -> None:
        capture.adopt(buffers)
        try:
            box["value"] = func(*args)
        except BaseException as exc:
            box["error"] = exc
        finally:
            finished.set()

    helper = threading.Thread(target=body, name=thread_name, daemon=True)
    helper.start()
    if not finished.wait(timeout):
        error = TimeoutError(f"task {name!r} timed out after {timeout:g}s (its thread is "
                             "abandoned and left to finish on its own)")
        frame = sys._current_frames().get(helper.ident or -1)
        if frame is not None:
            entries = traceback.extract_stack(frame)
            ours = [i for i, e in enumerate(entries) if e.filename == __file__]
            entries = entries[ours[-1] + 1:] if ours else entries
            error.task_stack = "".join(traceback.format_list(entries))  # type: ignore[attr-defined]
        raise error
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


def format_exception(exc: BaseException) -> str:
    """The traceback without the engine's and this module's own frames.

    A timed-out task's error shows where the task was when time ran out.
    """
    stack = getattr(exc, "task_stack", None)
    if stack:
        return f"Where the task was when it timed out:\n{stack}{type(exc).__name__}: {exc}\n"
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith(
        "threaded_order."
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
