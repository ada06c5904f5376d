"""The built-in terminal reporter: pytest-like header, progress, failures and summary.

It is a plugin like any other, registered as ``terminalreporter``; everything it writes is
written from hooks on the scheduler thread.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from typing import Any, Optional, TextIO

from threaded_order import TaskResult, hookimpl
from threaded_order._text import safe_str

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


class TerminalReporter:
    """Writes the run for a person; ``show_progress`` can be turned off by a progress bar."""

    def __init__(self, out: Optional[TextIO] = None, colour: Optional[bool] = None,
                 log_lines: bool = False, verbose: bool = False) -> None:
        self.out = out or sys.stdout
        self.colour = self.out.isatty() if colour is None else colour
        self.log_lines = log_lines
        self.verbose = verbose
        self.show_progress = True
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

    def _put(self, text: str) -> None:
        try:
            self.out.write(text)
        except BrokenPipeError:
            discard_rest(self.out)

    def _flush(self) -> None:
        try:
            self.out.flush()
        except BrokenPipeError:
            discard_rest(self.out)

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
        if not self.show_progress:
            return
        char = _CHARS[result.status]
        self.write(char, {"F": "red", "s": "yellow"}.get(char, "green"))
        self._column += 1
        if self._column >= self.width - 8 or self._done == self._total:
            self._put(f" [{100 * self._done // max(self._total, 1):3d}%]\n")
            self._column = 0
        if self.out.isatty():
            self._flush()

    def report(self, summary: dict[str, Any], extra: list[str], exitcode: int) -> None:
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
        style = "red" if exitcode else ("yellow" if summary["skipped"] else "green")
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
