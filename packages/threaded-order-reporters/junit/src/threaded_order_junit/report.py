"""The JUnit XML document: pytest's shape, one ``testsuite`` per module.

Mapping of task outcomes (see the README for the reasons):

* passed -> a bare ``testcase``;
* failed -> ``failure`` (message "Type: message", text the traceback ending in pytest's
  ``path:line: ErrorType`` line, which CI annotators parse);
* retried -> one ``flakyFailure`` (it passed in the end) or ``rerunFailure`` (it failed
  in the end) per earlier failed attempt, as Maven Surefire writes them;
* failed with ``CancelledError`` (stopped by a second Ctrl-C while running) -> ``error``,
  since the test did not finish and so neither passed nor failed;
* skipped (a dependency failed, ``--maxfail``) -> ``skipped`` with the skip reason;
* cancelled (never started because the run was interrupted) -> ``skipped`` with
  "cancelled: ...";
* xfailed -> ``skipped`` of type ``pytest.xfail`` with the reason, and xpassed -> a bare
  ``testcase``, as pytest writes them (a strict xpass is failed: ``failure``);
* a collection error (``threaded_order_cli_collection_error``) -> a ``testcase`` named
  "collection" holding an ``error``.

The ``testsuites`` root carries no counts, as pytest writes it: junit-10.xsd has no
``skipped`` there, and readers that trust the root's counts (test-results-parser) would
count skipped tests as passed; without them every reader adds up the suites.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Optional

from threaded_order import CANCELLED, FAILED, PASSED, SKIPPED, XFAILED, XPASSED, TaskResult
from threaded_order.reporting import crash_location, failure_line

from .settings import Settings

NO_MODULE_SUITE = "threaded-order"
CANCELLED_ERROR = "CancelledError"
CAPTURED_LOG = "--- captured log ---\n"

# ANSI escape sequences (colours, cursor moves) carry no meaning in XML: drop them whole.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# What XML 1.0 cannot hold at all, not even as a character reference.
_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class TaskInfo(NamedTuple):
    """What the report needs from a task beyond its result: where its function is (path
    relative to the rootdir, 1-based line) and the delay between its tries."""

    location: Optional[tuple[str, int]] = None
    retry_delay: float = 0.0


def clean(text: Optional[str]) -> str:
    """Text XML can hold: ANSI codes removed, other forbidden characters shown as \\xNN."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    return _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def classname(module: Optional[str], default: str = NO_MODULE_SUITE) -> str:
    """``tests/test_api.py`` -> ``tests.test_api``; a dotted module name stays as it is."""
    if not module:
        return default
    name = module.replace("\\", "/")
    if name.endswith(".py"):
        name = name[:-3]
    return ".".join(part for part in name.split("/") if part not in ("", "."))


def _case_name(result: TaskResult) -> str:
    """The node id without its module (pytest's ``name``: ``test_x[param]``)."""
    node, module = result.node_id, result.module
    return node[len(module) + 2:] if module and node.startswith(module + "::") else node


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"


def _timestamp(epoch: float) -> str:
    """ISO 8601 in local time with its UTC offset, as pytest writes it."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


class _Suite:
    """Counts and cases of one module's ``testsuite``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cases: list[ET.Element] = []
        self.failures = self.errors = self.skipped = 0
        self.first: Optional[float] = None
        self.last: Optional[float] = None

    def span(self, start: Optional[float], finish: Optional[float]) -> None:
        if start is not None:
            self.first = start if self.first is None else min(self.first, start)
        if finish is not None:
            self.last = finish if self.last is None else max(self.last, finish)

    def element(self, hostname: str, default_start: float,
                properties: Sequence[tuple[str, str]]) -> ET.Element:
        spanned = self.first is not None and self.last is not None
        time = self.last - self.first if spanned else 0.0  # type: ignore[operator]
        suite = ET.Element("testsuite", {
            "name": clean(self.name),
            "tests": str(len(self.cases)),
            "failures": str(self.failures),
            "errors": str(self.errors),
            "skipped": str(self.skipped),
            "time": _time(time),
            "timestamp": _timestamp(self.first if self.first is not None else default_start),
            "hostname": clean(hostname),
        })
        if properties:
            element = ET.SubElement(suite, "properties")
            for name, value in properties:
                ET.SubElement(element, "property", {"name": clean(name), "value": clean(value)})
        suite.extend(self.cases)
        return suite


class _Writer:
    """Builds one ``testcase`` at a time with the report's settings."""

    def __init__(self, settings: Settings, tasks: Mapping[str, TaskInfo], rootdir: Any) -> None:
        self.settings = settings
        self.tasks = tasks
        self.rootdir = rootdir
        self.xunit1 = settings.junit_family == "xunit1"

    def case(self, suite: _Suite, name: str, class_name: str, time: float,
             location: Optional[tuple[str, int]]) -> ET.Element:
        attributes = {"classname": clean(class_name), "name": clean(name)}
        if self.xunit1 and location is not None:
            attributes["file"] = clean(location[0])
            attributes["line"] = str(location[1])
        attributes["time"] = _time(time)
        element = ET.Element("testcase", attributes)
        suite.cases.append(element)
        return element

    def result(self, result: TaskResult, suite: _Suite) -> None:
        info = self.tasks.get(result.name) or TaskInfo()
        location = info.location
        case = self.case(suite, _case_name(result), classname(result.module, suite.name),
                         self._duration(result, info), location)
        message = (f"{result.error_type}: {result.error}" if result.error_type
                   else result.error or "")
        if result.status == FAILED:
            cancelled = result.error_type == CANCELLED_ERROR
            if cancelled:
                suite.errors += 1
            else:
                suite.failures += 1
            failure = ET.SubElement(case, "error" if cancelled else "failure", {
                "type": clean(result.error_type or "Error"), "message": clean(message)})
            failure.text = clean(self._failure_text(result, message, location))
        elif result.status in (SKIPPED, CANCELLED):
            suite.skipped += 1
            reason = result.skip_reason or result.error or "not run"
            if result.status == CANCELLED:
                reason = f"cancelled: {reason}"
            skipped = ET.SubElement(case, "skipped", {"type": "skip", "message": clean(reason)})
            skipped.text = clean(reason)
        elif result.status == XFAILED:  # as pytest writes an xfail
            suite.skipped += 1
            ET.SubElement(case, "skipped", {"type": "pytest.xfail",
                                            "message": clean(result.skip_reason or "")})
        rerun = "flakyFailure" if result.status == PASSED else "rerunFailure"
        for attempt in result.failed_attempts or ():
            kind = attempt.get("error_type") or "Error"
            element = ET.SubElement(case, rerun, {
                "type": clean(kind), "message": clean(f"{kind}: {attempt.get('error') or ''}"),
            })
            ET.SubElement(element, "stackTrace").text = clean(attempt.get("traceback") or "")
        self._output(case, result)

    def _duration(self, result: TaskResult, info: TaskInfo) -> float:
        """``total``: first try's start to the last try's end; ``call``: without the retry
        delays (mtrun has no setup or teardown phases to leave out)."""
        if self.settings.junit_duration_report == "call":
            return result.duration - len(result.failed_attempts or ()) * info.retry_delay
        return result.duration

    def _failure_text(self, result: TaskResult, message: str,
                      location: Optional[tuple[str, int]]) -> str:
        """The traceback, ending as pytest's does in ``path:line: ErrorType``: the innermost
        frame in the task's file, else the innermost frame, else the task's ``def``."""
        text = (result.traceback or message).rstrip("\n")
        path = location[0] if location is not None else result.module
        where = crash_location(result.traceback, path, self.rootdir) or location
        line = failure_line(where, result.error_type)
        return f"{text}\n\n{line}" if line else text

    def _output(self, case: ET.Element, result: TaskResult) -> None:
        """Captured output as ``junit_logging`` and ``junit_log_passing_tests`` say."""
        mode = self.settings.junit_logging
        if mode == "no" or (not self.settings.junit_log_passing_tests
                            and result.status in (PASSED, XPASSED)):
            return
        out = result.stdout if mode in ("system-out", "out-err", "all") else ""
        if result.log and mode in ("log", "all"):
            out += ("\n" if out and not out.endswith("\n") else "") + CAPTURED_LOG + result.log
        if out:
            ET.SubElement(case, "system-out").text = clean(out)
        if result.stderr and mode in ("system-err", "out-err", "all"):
            ET.SubElement(case, "system-err").text = clean(result.stderr)


_LOCATION = re.compile(r"^(.+):(\d+)$")


def build_report(
    tasks: list[TaskResult],
    collection_errors: list[tuple[str, str]],
    started_at: float,
    duration: float,
    hostname: Optional[str] = None,
    shard: Optional[str] = None,
    *,
    settings: Optional[Settings] = None,
    task_info: Optional[Mapping[str, TaskInfo]] = None,
    rootdir: Any = None,
    run_id: Optional[str] = None,
) -> ET.Element:
    """The ``testsuites`` element: suites in the order their first task was registered.
    ``shard`` (``mtrun --shard 2/4``) names the report and, with ``run_id``, goes in each
    suite's properties, so that reports merged in CI still say where each case ran.
    A collection error's path may end in ``:LINE``."""
    settings = settings or Settings()
    writer = _Writer(settings, task_info or {}, rootdir)
    hostname = hostname if hostname is not None else socket.gethostname()
    suites: dict[Optional[str], _Suite] = {}

    def suite_for(module: Optional[str]) -> _Suite:
        if module not in suites:
            suites[module] = _Suite(module or settings.junit_suite_name)
        return suites[module]

    for where, message in collection_errors:
        match = _LOCATION.match(where or "")
        path, line = (match.group(1), int(match.group(2))) if match else (where, None)
        if line is not None:
            message = f"line {line}: {message}"
        suite = suite_for(path or None)
        case = writer.case(suite, "collection", classname(path or None, suite.name), 0.0,
                           (path, line or 1) if path else None)
        first = message.strip().splitlines()[0] if message.strip() else "collection error"
        error = ET.SubElement(case, "error", {"type": "CollectionError", "message": clean(first)})
        error.text = clean(message)
        suite.errors += 1
    for result in tasks:
        suite = suite_for(result.module)
        writer.result(result, suite)
        suite.span(result.start, result.finish)

    name = settings.junit_suite_name
    root = ET.Element("testsuites", {
        "name": clean(name if shard is None else f"{name} shard {shard}"),
        "time": _time(duration),
    })
    properties = [(key, value) for key, value in (("run_id", run_id), ("shard", shard))
                  if value is not None]
    for suite in suites.values():
        root.append(suite.element(hostname, started_at, properties))
    return root


def serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
