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

from .history import critical_path_line

if TYPE_CHECKING:
    from threaded_order.results import Summary

    from .config import Config

NAME = "terminalreporter"

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1"}
_CHARS = {"passed": ".", "failed": "F", "skipped": "s", "xfailed": "x", "xpassed": "X"}
_WORDS = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED", "xfailed": "XFAIL",
          "xpassed": "XPASS"}
_STYLES = {"passed": "green", "failed": "red", "skipped": "yellow", "xfailed": "yellow",
           "xpassed": "yellow"}
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
    if config.configfile:
        lines.append(f"configfile: {config.configfile}")
    distributions = config.plugin_manager.distributions
    plugins = [f"{i.name}-{i.version}" for i in distributions.values()]
    plugins += [name for name in config.early_plugins if name not in distributions]
    if plugins:
        lines.append("plugins: " + ", ".join(plugins))
    lines.append(f"workers: {config.workers}")
    if config.state_keys:  # keys only: values may be secrets
        lines.append("state keys: " + ", ".join(config.state_keys))
    if config.options.get("shard_line"):
        lines.append(config.options["shard_line"])
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
                 log_lines: bool = False, options: Optional[dict[str, Any]] = None) -> None:
        self.out = out or sys.stdout
        self.off_stdout = self.out is sys.stderr  # (capture replaces sys.stderr in the run)
        self.colour = self.out.isatty() if colour is None else colour
        options = options or {}
        self.verbosity = (options.get("verbosity") or 0) - (options.get("quiet") or 0)
        self.log_lines = log_lines or self.verbosity > 0
        self.chars = report_chars(options.get("report_chars") or "fE")
        self.tb = options.get("tb") or "auto"
        self.durations: Optional[int] = options.get("durations")
        self.durations_min: float = options.get("durations_min") or 0.0
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
        """``out``; while another plugin claims the terminal, sys.stdout as it is then, unless
        mtrun sent this report to stderr (a report on stdout claims it: keep off stdout)."""
        return sys.stdout if self.claimed and not self.off_stdout else self.out

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
        if self.verbosity < 0:
            return
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
        if self.verbosity < -1:
            return
        word = _WORDS.get(result.status, result.status.upper())
        style = _STYLES.get(result.status, "yellow")
        if self.verbosity > 0:
            self._verbose_line(result, word, style)
            return
        if self.log_lines:
            text = visible(f"[{result.thread or '-'}] {result.name} ")
            dots = "." * max(3, self.width - len(text) - len(word) - len(self._percent()) - 2)
            self.line(f"{text}{dots} {self.paint(word, style)} {self._percent()}")
            return
        if self.claimed:
            return
        self.write(_CHARS.get(result.status, "?"), style)
        self._column += 1
        if self._column >= self.width - 8 or self._done == self._total:
            self._put(f" {self._percent()}\n")
            self._column = 0
        if self.stream.isatty():
            self._flush()

    def _percent(self) -> str:
        return f"[{100 * self._done // max(self._total, 1):3d}%]"

    def _verbose_line(self, result: TaskResult, word: str, style: str) -> None:
        """-v: ``path::name PASSED (thread_1)``, the progress at the right; -vv: duration."""
        name = result.name
        if "::" not in name and result.module:
            name = f"{result.module}::{name}"
        where = result.thread or "-"
        if self.verbosity > 1:
            where += f", {result.duration:.2f}s"
        text = visible(f"{name} ")
        tail = f" ({visible(where)})"
        pad = " " * max(1, self.width - len(text) - len(word) - len(tail) - 7)
        self.line(f"{text}{self.paint(word, style)}{tail}{pad}{self._percent()}")

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
        """Failures, durations, short summary, extra lines from plugins, and the final line."""
        if self._column:  # an interrupted run: the progress line still gets its [NN%]
            self._put(f" {self._percent()}")
        self._end_progress_line()
        tasks: dict[str, TaskResult] = summary["tasks"]
        if self.verbosity >= -1:
            failed = [tasks[n] for n in summary["failed"]]
            self._failures(failed)
            self._durations(list(tasks.values()))
            problems = short_summary(summary, self.chars)
            if problems:
                self.rule("short test summary info", "=")
                for text in problems:
                    self.line(visible(text))
            if summary.get("interrupted"):
                cancelled = summary["cancelled"]
                if cancelled:
                    self.line(f"!!! interrupted: {len(cancelled)} task(s) never started: "
                              f"{visible(', '.join(cancelled))} !!!", "red")
                else:
                    self.line("!!! interrupted !!!", "red")
            path_line = critical_path_line(summary, self._arrow())
            if path_line and self.verbosity >= 0:
                self.line(visible(path_line))
            for text in extra:
                self.line(visible(text, layout=True))
        # A plugin error (one in report_summary too) makes the code non-zero.
        bad = exitcode or summary["plugin_errors"]
        style = "red" if bad else ("yellow" if summary["skipped"] else "green")
        self.line(summary["text"], style, "bold")
        self._flush()

    def _arrow(self) -> str:
        """→ where the stream can show it; -> on a terminal that cannot (a C locale)."""
        try:
            "→".encode(getattr(self.stream, "encoding", None) or "ascii")
        except (LookupError, UnicodeEncodeError):
            return "->"
        return "→"

    def _failures(self, failed: list[TaskResult]) -> None:
        if not failed or self.tb == "no":
            return
        self.rule("FAILURES", "=", "red")
        for result in failed:
            if self.tb == "line":
                self.line(visible(tb_line(result)))
                continue
            self.rule(visible(result.name), "_", "red")
            text = result.traceback or f"{result.error_type}: {result.error}"
            if self.tb == "short":
                text = tb_short(text)
            self.line(visible(text, layout=True).rstrip())
            for title, text in (("stdout", result.stdout), ("stderr", result.stderr),
                                ("log", result.log)):
                if text:
                    self.rule(f"Captured {title}", "-")
                    self.line(visible(text, layout=True).rstrip())

    def _durations(self, results: list[TaskResult]) -> None:
        if self.durations is None:
            return
        ran = sorted((r for r in results if r.start is not None),
                     key=lambda r: r.duration, reverse=True)
        shown = ran if self.durations == 0 else ran[:self.durations]
        title = "slowest durations" if self.durations == 0 else \
            f"slowest {self.durations} durations"
        self.rule(title, "=")
        hidden = 0
        for result in shown:
            if result.duration < self.durations_min and self.verbosity < 2:
                hidden += 1
                continue
            self.line(visible(f"{result.duration:.2f}s {result.thread or '-'} {result.name}"))
        if hidden:
            self.line(f"({plural(hidden, 'duration')} < {self.durations_min}s hidden; "
                      "use -vv to show them)")


def report_chars(text: str) -> str:
    """pytest's -r: a (all but passed), A (all), N (none); the rest as given."""
    chars = ""
    for char in text:
        if char == "N":
            chars = ""
        else:
            chars += {"a": "fEsxX", "A": "fEsxXpP"}.get(char, char)
    return "".join(dict.fromkeys(chars))


def short_summary(summary: Summary, chars: str) -> list[str]:
    """The short test summary lines, in the order of ``chars``."""
    tasks: dict[str, TaskResult] = summary["tasks"]
    lines: list[str] = []
    for char in chars:
        if char == "f":
            lines += [f"FAILED {r.name} - {r.error_type}: {_first_line(r.error)}"
                      for r in (tasks[n] for n in summary["failed"])]
            lines += [
                f"FLAKY {r.name} - passed on attempt {r.attempts}; first failure: "
                f"{r.failed_attempts[0]['error_type']}: "
                f"{_first_line(r.failed_attempts[0]['error'])}"
                for r in (tasks[n] for n in summary["passed"]) if r.failed_attempts]
        elif char == "E":
            lines += [f"ERROR {e}" for e in summary.get("plugin_errors", [])]
        elif char == "s":
            lines += [f"SKIPPED {n} - {tasks[n].skip_reason}" for n in summary["skipped"]]
        elif char == "x":
            lines += [f"XFAIL {n} - {_reason(tasks[n])}"
                      for n in summary.get("xfailed", [])]
        elif char == "X":
            lines += [f"XPASS {n} - {_reason(tasks[n])}"
                      for n in summary.get("xpassed", [])]
        elif char in "pP":
            lines += [f"PASSED {n}" for n in summary["passed"]]
    return list(dict.fromkeys(lines))


def _reason(result: TaskResult) -> str:
    return _first_line(result.skip_reason or result.error or "")


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)', re.M)


def tb_short(text: str) -> str:
    """--tb=short: the last frame of the traceback and the exception."""
    frames = list(_FRAME.finditer(text))
    return text[frames[-1].start():].strip("\n") if frames else text


def tb_line(result: TaskResult) -> str:
    """--tb=line: ``file:line: Error: message``, one line per failure."""
    frames = list(_FRAME.findall(result.traceback or ""))
    where = f"{frames[-1][0]}:{frames[-1][1]}: " if frames else f"{result.name}: "
    return f"{where}{result.error_type}: {_first_line(result.error)}"


def colour_wanted(choice: str, stream: TextIO) -> bool:
    """--color, and for auto the variables pytest honours: PY_COLORS (1 or 0), NO_COLOR,
    FORCE_COLOR, then whether ``stream`` is a terminal (not a dumb one)."""
    if choice in ("yes", "no"):
        return choice == "yes"
    py_colors = os.environ.get("PY_COLORS")
    if py_colors in ("0", "1"):
        return py_colors == "1"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (OSError, ValueError):
        return False


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
