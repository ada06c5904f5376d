"""Per-task result records and the summary dict that ``start()`` returns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import IntEnum
from typing import Any, Optional, TypedDict

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"
CANCELLED = "cancelled"
XFAILED = "xfailed"  # failed as expected (xfail): not a failure
XPASSED = "xpassed"  # passed although marked xfail (not strict): not a failure

_new = object.__new__


class TaskResult:
    """What happened to one task. Plain attributes and slots: a run makes one per task."""

    __slots__ = (
        "after",
        "attempts",
        "duration",
        "error",
        "error_type",
        "failed_attempts",
        "finish",
        "log",
        "module",
        "name",
        "skip_reason",
        "start",
        "status",
        "stderr",
        "stdout",
        "tags",
        "thread",
        "traceback",
    )

    def __init__(
        self,
        name: str,
        status: str,
        *,
        thread: str = "",
        start: Optional[float] = None,
        finish: Optional[float] = None,
        duration: float = 0.0,
        error_type: Optional[str] = None,
        error: Optional[str] = None,
        traceback: Optional[str] = None,
        skip_reason: Optional[str] = None,
        attempts: int = 0,
        module: Optional[str] = None,
        tags: tuple[str, ...] = (),
        after: tuple[str, ...] = (),
        stdout: str = "",
        stderr: str = "",
        log: str = "",
        failed_attempts: Optional[Sequence[dict[str, Any]]] = None,
    ) -> None:
        self.name = name
        self.status = status
        self.thread = thread
        self.start = start
        self.finish = finish
        self.duration = duration
        self.error_type = error_type
        self.error = error
        self.traceback = traceback
        self.skip_reason = skip_reason
        self.attempts = attempts
        self.module = module
        self.tags = tags
        self.after = after
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        self.failed_attempts = failed_attempts or ()

    @classmethod
    def _passed(cls, name: str, thread: str, start: float, finish: float, duration: float,
                attempts: int, module: Optional[str], tags: tuple[str, ...],
                after: tuple[str, ...]) -> TaskResult:
        """A passed task's record, every slot set once: the engine makes one per task, and
        ``__init__`` plus the engine's updates cost twice as much. Keep it in step with
        ``__init__`` (tests/core/test_fast_paths.py checks that every slot is set)."""
        self = _new(cls)
        self.name = name
        self.status = PASSED
        self.thread = thread
        self.start = start
        self.finish = finish
        self.duration = duration
        self.error_type = None
        self.error = None
        self.traceback = None
        self.skip_reason = None
        self.attempts = attempts
        self.module = module
        self.tags = tags
        self.after = after
        self.stdout = ""
        self.stderr = ""
        self.log = ""
        self.failed_attempts = ()
        return self

    @classmethod
    def _ran(cls, task: Any, thread: str, start: float, finish: float, attempts: int,
             error: Optional[tuple[str, str, str]] = None,
             failed_attempts: Optional[Sequence[dict[str, Any]]] = None) -> TaskResult:
        """The record of a task whose body ran, passed or not: the one builder that the
        engine and the executor runner share. ``error`` is (type, message, traceback)."""
        duration = finish - start
        if error is None:
            self = cls._passed(task.name, thread, start, finish, duration, attempts,
                               task.module, task.tags, task.after)
        else:
            self = cls(task.name, FAILED, thread=thread, start=start, finish=finish,
                       duration=duration, error_type=error[0], error=error[1],
                       traceback=error[2], attempts=attempts, module=task.module,
                       tags=task.tags, after=task.after)
        if failed_attempts:
            self.failed_attempts = failed_attempts
        return self

    @property
    def ok(self) -> bool:
        return self.status == PASSED

    @property
    def node_id(self) -> str:
        """``module::name`` whatever the run's naming (see ``node_id``)."""
        return node_id(self.name, self.module)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, for reporters."""
        data = {key: getattr(self, key) for key in self.__slots__}
        data["tags"] = list(self.tags)
        data["after"] = list(self.after)
        data["failed_attempts"] = [dict(a) for a in self.failed_attempts]
        return data

    def __repr__(self) -> str:
        return f"TaskResult({self.name!r}, {self.status!r}, duration={self.duration:.6f})"


def node_id(name: str, module: Optional[str]) -> str:
    """A task's stable id: ``module::name``. mtrun's module is the file's path from the
    rootdir, and a run of one module names tasks by their bare name: this puts the path
    back, so reports name a test the same way whatever the targets were."""
    if not module or name.startswith(module + "::"):
        return name
    return f"{module}::{name}"


class ExitCode(IntEnum):
    """Exit codes, as pytest's: the library's ``exit_status`` and mtrun share them."""

    OK = 0
    TESTS_FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4
    NO_TESTS_COLLECTED = 5


class Failure(TypedDict):
    """A failed task's entry in ``Summary["failures"]``."""

    error_type: Optional[str]
    error: Optional[str]


class Summary(TypedDict):
    """What ``Scheduler.start()`` returns and ``threaded_order_scheduler_done`` receives: a
    plain dict at run time, typed here so that readers of its keys are checked."""

    ran: list[str]  # names of the tasks that ran, in completion order
    passed: list[str]
    failed: list[str]
    skipped: list[str]
    cancelled: list[str]  # tasks that never started because the run was interrupted
    xfailed: list[str]
    xpassed: list[str]
    failures: dict[str, Failure]
    failure_counts: dict[Optional[str], int]  # by error type
    interrupted: bool
    started_at: float  # epoch seconds
    finished_at: float
    duration: float  # seconds
    tasks: dict[str, TaskResult]  # every task, ran or not
    plugin_errors: list[str]  # one line for each callback or plugin hook that raised
    text: str  # "==== P passed, F failed, S skipped in X.XXs ===="
    # The chain of tasks that bounded the run: {"tasks": [names], "duration": seconds}.
    critical_path: dict[str, Any]
    # {"workers", "busy" (sum of durations), "wall", "parallel" (busy / (workers * wall)),
    #  "lower_bound" (max(critical path, busy / workers))}
    efficiency: dict[str, Any]


def exit_status(summary: Summary) -> ExitCode:
    """pytest's codes for a finished run: 2 interrupted, 1 some failed, 0 otherwise."""
    if summary.get("interrupted"):
        return ExitCode.INTERRUPTED
    return ExitCode.TESTS_FAILED if summary.get("failed") else ExitCode.OK


def summary_text(passed: int, failed: int, skipped: int, duration: float,
                 xfailed: int = 0, xpassed: int = 0) -> str:
    """The original's line; xfailed and xpassed counts are appended only when non-zero."""
    extra = (f", {xfailed} xfailed" if xfailed else "") + (
        f", {xpassed} xpassed" if xpassed else "")
    return (f"==== {passed} passed, {failed} failed, {skipped} skipped{extra} "
            f"in {duration:.2f}s ====")


def build_summary(
    tasks: dict[str, TaskResult],
    ran: list[str],
    started_at: float,
    finished_at: float,
    duration: float,
    interrupted: bool,
    plugin_errors: list[str],
) -> Summary:
    """The original's summary keys, plus skipped, cancelled, per-task records and errors.

    Skipped and cancelled tasks are listed in task order, whether or not their body ran
    (a task may skip itself); the others in completion order."""
    by_status: dict[str, list[str]] = {PASSED: [], FAILED: [], SKIPPED: [], CANCELLED: [],
                                       XFAILED: [], XPASSED: []}
    for name in ran:
        status = tasks[name].status
        if status != SKIPPED and status != CANCELLED:
            by_status[status].append(name)
    for name, result in tasks.items():
        if result.status in (SKIPPED, CANCELLED):
            by_status[result.status].append(name)
    failures: dict[str, Failure] = {
        name: {"error_type": tasks[name].error_type, "error": tasks[name].error}
        for name in by_status[FAILED]
    }
    return {
        "ran": list(ran),
        "passed": by_status[PASSED],
        "failed": by_status[FAILED],
        "skipped": by_status[SKIPPED],
        "cancelled": by_status[CANCELLED],
        "xfailed": by_status[XFAILED],
        "xpassed": by_status[XPASSED],
        "failures": failures,
        "failure_counts": dict(Counter(f["error_type"] for f in failures.values())),
        "interrupted": interrupted,
        "started_at": started_at,
        "finished_at": finished_at,
        "duration": duration,
        "tasks": tasks,
        "plugin_errors": plugin_errors,
        "critical_path": {"tasks": [], "duration": 0.0},
        "efficiency": {},
        "text": summary_text(
            len(by_status[PASSED]), len(by_status[FAILED]), len(by_status[SKIPPED]), duration,
            len(by_status[XFAILED]), len(by_status[XPASSED]),
        ),
    }
