"""The JUnit XML reporter: pytest's xunit2 shape, one ``testsuite`` per module.

Mapping of task outcomes (see the README for the reasons):

* passed -> a bare ``testcase``;
* failed -> ``failure`` (message "Type: message", text the traceback);
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
"""

from __future__ import annotations

import re
import socket
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from threaded_order import CANCELLED, FAILED, PASSED, SKIPPED, XFAILED, TaskResult, hookimpl
from threaded_order_cli.reporting import Destination, relative_to_rootdir

if TYPE_CHECKING:
    from threaded_order.results import Summary
    from threaded_order_cli.config import Config

NO_MODULE_SUITE = "threaded-order"
CANCELLED_ERROR = "CancelledError"

# ANSI escape sequences (colours, cursor moves) carry no meaning in XML: drop them whole.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# What XML 1.0 cannot hold at all, not even as a character reference.
_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# "tests/test_x.py:12": a collection error's path with the line it is about.
_LOCATION = re.compile(r"^(.+):(\d+)$")


def clean(text: Optional[str]) -> str:
    """Text XML can hold: ANSI codes removed, other forbidden characters shown as \\xNN."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    return _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def classname(module: Optional[str]) -> str:
    """``tests/test_api.py`` -> ``tests.test_api``; a dotted module name stays as it is."""
    if not module:
        return NO_MODULE_SUITE
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

    def element(self, hostname: str, default_start: float) -> ET.Element:
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
        suite.extend(self.cases)
        return suite


def _testcase(result: TaskResult, suite: _Suite) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": clean(classname(result.module)),
        "name": clean(_case_name(result)),
        "time": _time(result.duration),
    })
    message = f"{result.error_type}: {result.error}" if result.error_type else result.error or ""
    if result.status == FAILED and result.error_type == CANCELLED_ERROR:
        suite.errors += 1
        error = ET.SubElement(case, "error", {"type": CANCELLED_ERROR, "message": clean(message)})
        error.text = clean(result.traceback or message)
    elif result.status == FAILED:
        suite.failures += 1
        attributes = {"type": clean(result.error_type or "Error"), "message": clean(message)}
        failure = ET.SubElement(case, "failure", attributes)
        failure.text = clean(result.traceback or message)
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
    for attempt in getattr(result, "failed_attempts", ()) or ():
        kind = attempt.get("error_type") or "Error"
        element = ET.SubElement(case, rerun, {
            "type": clean(kind), "message": clean(f"{kind}: {attempt.get('error') or ''}"),
        })
        ET.SubElement(element, "stackTrace").text = clean(attempt.get("traceback") or "")
    out = result.stdout or ""
    if result.log:
        out += ("\n" if out and not out.endswith("\n") else "") + "--- captured log ---\n"
        out += result.log
    if out:
        ET.SubElement(case, "system-out").text = clean(out)
    if result.stderr:
        ET.SubElement(case, "system-err").text = clean(result.stderr)
    return case


def build_report(
    tasks: list[TaskResult],
    collection_errors: list[tuple[str, str]],
    started_at: float,
    duration: float,
    hostname: Optional[str] = None,
    shard: Optional[str] = None,
) -> ET.Element:
    """The ``testsuites`` element: suites in the order their first task was registered.
    ``shard`` (``mtrun --shard 2/4``) names the report and each suite's ``shard`` property,
    so that reports merged in CI still say where each case ran."""
    hostname = hostname if hostname is not None else socket.gethostname()
    suites: dict[Optional[str], _Suite] = {}

    def suite_for(module: Optional[str]) -> _Suite:
        if module not in suites:
            suites[module] = _Suite(module or NO_MODULE_SUITE)
        return suites[module]

    for path, message in collection_errors:
        suite = suite_for(path or None)
        case = ET.Element("testcase", {
            "classname": clean(classname(path or None)), "name": "collection", "time": _time(0),
        })
        first_line = message.strip().splitlines()[0] if message.strip() else "collection error"
        error = ET.SubElement(case, "error", {
            "type": "CollectionError", "message": clean(first_line),
        })
        error.text = clean(message)
        suite.errors += 1
        suite.cases.append(case)
    for result in tasks:
        suite = suite_for(result.module)
        suite.cases.append(_testcase(result, suite))
        suite.span(result.start, result.finish)

    root = ET.Element("testsuites", {
        "name": NO_MODULE_SUITE if shard is None else f"{NO_MODULE_SUITE} shard {shard}",
        "tests": str(sum(len(s.cases) for s in suites.values())),
        "failures": str(sum(s.failures for s in suites.values())),
        "errors": str(sum(s.errors for s in suites.values())),
        "time": _time(duration),
    })
    for suite in suites.values():
        element = suite.element(hostname, started_at)
        if shard is not None:
            properties = ET.Element("properties")
            ET.SubElement(properties, "property", {"name": "shard", "value": shard})
            element.insert(0, properties)
        root.append(element)
    return root


def serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


class JUnitReporter:
    """Writes the JUnit XML report, once.

    Works as a plain scheduler plugin (``Scheduler(plugins=[JUnitReporter("out.xml")])``):
    it writes when the run is done. Under ``mtrun`` (``config`` given) it also records
    collection errors (and any other error that stopped mtrun before its run) and writes at
    ``unconfigure``, after the terminal report, whether a run happened or not. ``dest`` is
    checked now, so a bad path fails before the run. The file is replaced whole: a reader
    never sees half a report.
    """

    def __init__(self, dest: str = "junit.xml", *, config: Optional[Config] = None) -> None:
        self.destination = Destination("junit", dest, config)
        self.config = config
        self.collection_errors: list[tuple[str, str]] = []
        self.created = time.time()  # the report's timestamp when no run happened

    def _write(self, summary: Optional[Summary]) -> None:
        shard = self.config.getoption("shard") if self.config is not None else None
        shard = None if shard is None else str(shard)
        if summary is None:
            root = build_report([], self.collection_errors, self.created, 0.0, shard=shard)
        else:
            root = build_report(list(summary["tasks"].values()), self.collection_errors,
                                summary["started_at"], summary["duration"], shard=shard)
        self.destination.write(serialize(root))

    @hookimpl
    def threaded_order_scheduler_done(self, summary: Summary) -> None:
        if self.config is None:
            self._write(summary)

    @hookimpl(optionalhook=True)
    def threaded_order_cli_collection_error(self, path: str, message: str) -> None:
        """``path`` may end in ``:LINE`` (a syntax error): the suite is the file's, and the
        line goes into the message."""
        match = _LOCATION.match(path or "")
        if match:
            path, message = match.group(1), f"line {match.group(2)}: {message}"
        self.collection_errors.append((self._relative(path), message))

    @hookimpl(optionalhook=True)
    def threaded_order_cli_unconfigure(self, summary: Optional[Summary]) -> None:
        """The run's report; or no run happened (collection failed, nothing collected):
        still leave one, with the errors that stopped mtrun."""
        self._write(summary)

    def _relative(self, path: str) -> str:
        return relative_to_rootdir(path, self.config)
