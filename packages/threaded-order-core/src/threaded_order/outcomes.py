"""Outcomes decided from inside a task: skip, xfail and fail, and pytest's equivalents.

``skip(reason)``, ``xfail(reason)`` and ``fail(msg)`` raise an exception that the engine
records as skipped, xfailed or failed (never retried). They derive from ``BaseException``,
as pytest's do, so a task's ``except Exception`` does not swallow them.

pytest's ``pytest.skip``, ``pytest.xfail``, ``pytest.fail`` and ``pytest.importorskip`` are
recognised by their classes' module and name (``_pytest.outcomes``): pytest is never
imported to do so, and costs nothing when it is not installed.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, NoReturn, Optional

from ._text import safe_str
from .results import FAILED, SKIPPED, XFAILED, XPASSED

__all__ = ["Failed", "OutcomeException", "Skipped", "XFailed", "apply_outcome", "classify",
           "fail", "skip", "xfail"]


class OutcomeException(BaseException):
    """Base of the outcome exceptions; ``reason`` is what the reports show."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Skipped(OutcomeException):
    """The task skipped itself."""


class XFailed(OutcomeException):
    """The task failed as expected."""


class Failed(OutcomeException):
    """The task failed on purpose, with a message and no other error."""


class XPassed(OutcomeException):
    """An ``xfail`` task passed (not strict): counted as xpassed, not a failure."""


class XPassStrict(OutcomeException):
    """A strict ``xfail`` task passed: a failure, as pytest counts it."""


def skip(reason: str = "") -> NoReturn:
    """End the running task as skipped, with ``reason``."""
    raise Skipped(reason)


def xfail(reason: str = "") -> NoReturn:
    """End the running task as an expected failure (xfailed), with ``reason``."""
    raise XFailed(reason)


def fail(msg: str = "") -> NoReturn:
    """End the running task as failed with ``msg`` (error type ``Failed``)."""
    raise Failed(msg)


def classify(exc: BaseException) -> Optional[tuple[str, str]]:
    """``(status, reason)`` when ``exc`` is an outcome exception (ours or pytest's), else
    None. Called only for a task that raised, so it costs a passing task nothing."""
    if isinstance(exc, OutcomeException):
        if isinstance(exc, Skipped):
            return SKIPPED, exc.reason
        if isinstance(exc, XFailed):
            return XFAILED, exc.reason
        if isinstance(exc, XPassed):
            return XPASSED, exc.reason
        return FAILED, exc.reason
    # pytest's classes: an exception of theirs exists only once pytest is imported, so it
    # is looked up only then (its classes say __module__ "builtins": no name to match).
    pytest_outcomes = sys.modules.get("_pytest.outcomes")
    if pytest_outcomes is None:
        return None
    for name, status in (("Skipped", SKIPPED), ("XFailed", XFAILED), ("Failed", FAILED)):
        cls = getattr(pytest_outcomes, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return status, _reason(exc)
    return None


def apply_outcome(result: Any, status: str, reason: str) -> None:
    """Make a failed ``TaskResult`` the outcome ``classify`` found: a skip or an xfail keeps
    its reason in ``skip_reason`` (and an xfail in ``error`` too), no traceback."""
    result.status = status
    if status == FAILED:
        return
    result.traceback = None
    result.skip_reason = reason
    result.error_type = None
    result.error = None if status == SKIPPED else (reason or None)


def dependency_reason(status: str, name: str) -> str:
    """Why the dependents of a task that did not pass are skipped: it names the task."""
    if status == SKIPPED:
        return f"dependency {name!r} was skipped"
    if status == XFAILED:
        return f"dependency {name!r} xfailed"
    return f"dependency {name!r} failed"


def is_outcome(exc: BaseException) -> bool:
    """Whether ``exc`` decides the task's outcome itself (so it is never retried)."""
    return classify(exc) is not None


class SkipBody:
    """The body of a task marked ``skip``/``skipif``: it skips without calling the function.
    A class, not a closure, so that an executor can pickle it."""

    def __init__(self, func: Callable[..., Any], reason: str) -> None:
        self.func, self.reason = func, reason

    def __call__(self, *args: Any) -> NoReturn:
        raise Skipped(self.reason)


class XfailBody:
    """The body of a task marked ``xfail``: its failure is xfailed, its pass xpassed."""

    def __init__(self, func: Callable[..., Any], reason: str, strict: bool) -> None:
        self.func, self.reason, self.strict = func, reason, strict

    def __call__(self, *args: Any) -> NoReturn:
        try:
            self.func(*args)
        except BaseException as exc:
            raise self._failed(exc) from exc
        raise self._passed()

    def _failed(self, exc: BaseException) -> BaseException:
        outcome = classify(exc)
        if outcome is not None and outcome[0] == SKIPPED:
            return exc  # skip() inside an xfail task is still a skip
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return exc
        return XFailed(self.reason)

    def _passed(self) -> BaseException:
        if self.strict:
            return XPassStrict(f"[XPASS(strict)] {self.reason}".rstrip())
        return XPassed(self.reason)


class AsyncXfailBody(XfailBody):
    """``XfailBody`` for an ``async def`` task."""

    async def __call__(self, *args: Any) -> NoReturn:  # type: ignore[override]
        try:
            await self.func(*args)
        except BaseException as exc:
            raise self._failed(exc) from exc
        raise self._passed()


def xfail_body(func: Callable[..., Any], reason: str, strict: bool) -> XfailBody:
    from .graph import is_async

    cls = AsyncXfailBody if is_async(func) else XfailBody
    return cls(func, reason, strict)


def _reason(exc: BaseException) -> str:
    text: Any = getattr(exc, "reason", None)
    if text is None:
        text = getattr(exc, "msg", None)  # pytest's OutcomeException keeps it here
    return safe_str(text) if text is not None else safe_str(exc)
