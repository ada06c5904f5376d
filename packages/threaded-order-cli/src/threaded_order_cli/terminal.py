"""The built-in terminal reporter: pytest-like header, progress, failures and summary.

It is a plugin like any other, registered as ``terminalreporter`` (``NAME``): mtrun only
registers it, and everything it writes is written from hooks, the header at ``run_start``
and the report at ``unconfigure``; so ``-p no:terminalreporter`` silences it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
from typing import TYPE_CHECKING, Any, Optional, TextIO

from threaded_order import TaskResult, hookimpl
from threaded_order import __version__ as core_version
from threaded_order.ext import safe_str

if TYPE_CHECKING:
    from threaded_order.results import Summary

    from .config import Config

NAME = "terminalreporter"

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}
_CHARS = {"passed": ".", "failed": "F", "skipped": "s"}
_WORDS = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED"}
# C0 and C1 control characters, DEL, and the Unicode line separators and bidi overrides:
# what a test could use to move the cursor, clear the screen or hide text on a terminal.
_DEL_C1_UNICODE = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_IN_LINE = re.compile(rf"[\x00-\x1f{_DEL_C1_UNICODE}]")
_IN_BLOCK = re.compile(rf"[\x00-\x08\x0b-\x1f{_DEL_C1_UNICODE}]")  # keeps \t and \n
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: Any, layout: bool = False) -> str:
    """``text`` with control characters made visible (ESC becomes ``\\x1b``), as pytest shows
    test ids: a test's name, message or output must not drive the terminal. ``layout`` keeps
    newlines and tabs (a traceback, captured output) and reads ``\\r\\n`` as a newline."""
    text = text if isinstance(text, str) else safe_str(text)
    if layout:
        return _IN_BLOCK.sub(_escape, text.replace("\r\n", "\n"))
    return _IN_LINE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def header_lines(config: Config) -> list[str]:
    """Versions, rootdir, plugins, workers, the plugins' lines, executor, what was collected."""
    from . import __version__

    lines = [f"platform {sys.platform} -- Python {platform.python_version()}, "
             f"threaded-order {core_version}, mtrun {__version__}",
             f"rootdir: {config.rootdir}"]
    plugins = [f"{i.name}-{i.version}" for i in config.plugin_manager.distributions.values()]
    if plugins:
        lines.append("plugins: " + ", ".join(plugins))
    lines.append(f"workers: {config.workers}")
    lines.extend(config.hooks.report_header(config))
    if config.executor is not None:
        described = getattr(config.executor, "description", None)
        lines.append(f"executor: {described or config.getoption('executor_name')}")
    selected, deselected = len(config.tasks), config.deselected
    lines.append(f"collected {plural(selected + deselected, 'task')}"
                 + (f" / {deselected} deselected / {selected} selected" if deselected else ""))
    return lines


class TerminalReporter:
    """Writes the session for a person: header, progress (``.F s``, or a line per task with
    ``log_lines``), then failures and summary."""

    def __init__(self, out: Optional[TextIO] = None, colour: Optional[bool] = None,
                 log_lines: bool = False) -> None:
        self.out = out or sys.stdout
        self.colour = self.out.isatty() if colour is None else colour
        self.log_lines = log_lines
        # Another plugin draws on the terminal during the run (threaded_order_cli_claims_
        # terminal): no progress characters, and lines go through sys.stdout as it is then.
        self.claimed = False
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 120)
        self._total = 0
        self._done = 0
        self._column = 0

    # -- writing -----------------------------------------------------------------------

    def paint(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        codes = ";".join(_COLOURS[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def write(self, text: str, *styles: str) -> None:
        self._put(self.paint(text, *styles))

    def line(self, text: str = "", *styles: str) -> None:
        self._end_progress_line()
        self._put(self.paint(text, *styles) + "\n")

    @property
    def stream(self) -> TextIO:
        return sys.stdout if self.claimed else self.out

    def _put(self, text: str) -> None:
        stream = self.stream
        try:
            stream.write(text)
        except BrokenPipeError:
            discard_rest(stream)

    def _flush(self) -> None:
        stream = self.stream
        try:
            stream.flush()
        except BrokenPipeError:
            discard_rest(stream)

    def rule(self, title: str, char: str = "=", *styles: str) -> None:
        title = f" {title} " if title else ""
        side = max(3, (self.width - len(title)) // 2)
        self.line(f"{char * side}{title}{char * side}"[: max(self.width, len(title) + 6)],
                  *styles)

    def _end_progress_line(self) -> None:
        if self._column:
            self._put("\n")
            self._column = 0

    # -- hooks -------------------------------------------------------------------------

    @hookimpl(optionalhook=True)
    def threaded_order_cli_run_start(self, config: Config) -> None:
        self.claimed = config.hooks.claims_terminal(config)
        self.header(header_lines(config))

    def header(self, lines: list[str]) -> None:
        self.rule("mtrun session starts", "=", "bold")
        for text in lines:
            self.line(visible(text, layout=True))

    @hookimpl
    def threaded_order_scheduler_start(self, meta: dict[str, Any]) -> None:
        self._total = meta["total_tasks"]
        self._done = 0

    @hookimpl
    def threaded_order_task_done(self, result: TaskResult) -> None:
        self._done += 1
        if self.log_lines:
            percent = f"[{100 * self._done // max(self._total, 1):3d}%]"
            word = _WORDS[result.status]
            text = visible(f"[{result.thread or '-'}] {result.name} ")
            dots = "." * max(3, self.width - len(text) - len(word) - len(percent) - 2)
            style = {"passed": "green", "failed": "red", "skipped": "yellow"}[result.status]
            self.line(f"{text}{dots} {self.paint(word, style)} {percent}")
            return
        if self.claimed:
            return
        char = _CHARS[result.status]
        self.write(char, {"F": "red", "s": "yellow"}.get(char, "green"))
        self._column += 1
        if self._column >= self.width - 8 or self._done == self._total:
            self._put(f" [{100 * self._done // max(self._total, 1):3d}%]\n")
            self._column = 0
        if self.stream.isatty():
            self._flush()

    @hookimpl(optionalhook=True, tryfirst=True)
    def threaded_order_cli_unconfigure(self, config: Config, exitcode: int,
                                       summary: Optional[Summary]) -> None:
        """The report, first of the unconfigure hooks: before any report on stdout, and
        before the json reporter records the exit code. None: no run happened."""
        self.claimed = False  # the run is over: whoever drew on the terminal is done
        if summary is not None:
            self.report(summary, config.hooks.report_summary(summary, config, exitcode),
                        exitcode)

    def report(self, summary: Summary, extra: list[str], exitcode: int) -> None:
        """Failures, short summary, extra lines from plugins, and the final line."""
        self._end_progress_line()
        tasks: dict[str, TaskResult] = summary["tasks"]
        failed = [tasks[n] for n in summary["failed"]]
        if failed:
            self.rule("FAILURES", "=", "red")
            for result in failed:
                self.rule(visible(result.name), "_", "red")
                text = result.traceback or f"{result.error_type}: {result.error}"
                self.line(visible(text, layout=True).rstrip())
                for title, text in (("stdout", result.stdout), ("stderr", result.stderr),
                                    ("log", result.log)):
                    if text:
                        self.rule(f"Captured {title}", "-")
                        self.line(visible(text, layout=True).rstrip())
        problems = [f"FAILED {r.name} - {r.error_type}: {_first_line(r.error)}" for r in failed]
        problems += [f"SKIPPED {n} - {tasks[n].skip_reason}" for n in summary["skipped"]]
        problems += [
            f"FLAKY {r.name} - passed on attempt {r.attempts}; first failure: "
            f"{r.failed_attempts[0]['error_type']}: {_first_line(r.failed_attempts[0]['error'])}"
            for r in (tasks[n] for n in summary["passed"]) if r.failed_attempts
        ]
        problems += [f"ERROR {e}" for e in summary.get("plugin_errors", [])]
        if problems:
            self.rule("short summary", "=")
            for text in problems:
                self.line(visible(text))
        if summary.get("interrupted"):
            cancelled = summary["cancelled"]
            names = visible(", ".join(cancelled)) if cancelled else "none"
            self.line(f"!!! interrupted: {len(cancelled)} task(s) never started: {names} !!!",
                      "red")
        for text in extra:
            self.line(visible(text, layout=True))
        # A plugin error (one in report_summary too) makes the code non-zero.
        bad = exitcode or summary["plugin_errors"]
        style = "red" if bad else ("yellow" if summary["skipped"] else "green")
        self.line(summary["text"], style, "bold")
        self._flush()


def discard_rest(stream: TextIO) -> None:
    """``mtrun ... | head`` closed the pipe: send the rest of the output to /dev/null, so the
    run finishes (reporters, exit code) instead of failing once per task and at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _first_line(text: Optional[str]) -> str:
    """Up to the first newline only: a carriage return or other control character in a
    message is shown, escaped, not taken for the end of the line."""
    return (text or "").strip().replace("\r\n", "\n").split("\n", 1)[0].strip()
