"""The command line: click options (plus those plugins add), extra ``--key=value`` pairs,
``--state-file`` and ``--reporter`` values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

import click

from .config import UsageError

GRAPH_FORMATS = ("text", "mermaid", "dot")
_REPORTER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)(?:=(.+))?$")

HELP = """Run the functions marked with @dmark in TARGETS (files, folders or file.py::name)
on worker threads, each after the tasks it depends on.

Any other --key=value is added to the initial state passed to setup_state(state);
--result-NAME=value seeds state['results']['NAME'] for single-function runs."""


def base_options() -> list[click.Parameter]:
    """mtrun's own options, in the order --help shows them."""
    o = click.Option
    return [
        click.Argument(["targets"], nargs=-1, type=click.UNPROCESSED),
        o(["--workers"], type=int, help="Number of worker threads (default: min(8, CPUs))."),
        o(["--tags"], help="Run tasks with any of these comma-separated tags, or matching a "
                           "boolean expression such as 'api and not slow'."),
        o(["--with-deps"], is_flag=True,
          help="Also run every task the selected tasks depend on, in order."),
        o(["--skip-deps"], is_flag=True, help="Skip the dependents of a failed task."),
        o(["--maxfail"], type=click.IntRange(min=1), metavar="N",
          help="Start nothing new after N failures."),
        o(["-x", "--exitfirst"], is_flag=True, help="Start nothing new after the first failure."),
        o(["--retries"], type=click.IntRange(min=0), default=0, metavar="N",
          help="Retry a failing task up to N times (a task's own retries= wins)."),
        o(["--timeout"], type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
          help="Fail a task that runs longer than this (a task's own timeout= wins)."),
        o(["--limit"], multiple=True, metavar="GROUP=N",
          help="Run at most N tasks of group GROUP at once (default 1); repeatable."),
        o(["--executor"], default="threads", metavar="NAME[=ADDRESS]",
          help="Where task bodies run: threads (default), processes, dask (a local cluster "
               "of --workers processes) or dask=tcp://HOST:PORT (see --plugins)."),
        o(["--collect-only"], is_flag=True,
          help="List the tasks with their dependencies and tags, then exit."),
        o(["--graph"], type=click.Choice(GRAPH_FORMATS), is_flag=False,
          flag_value="text", help="Print the dependency graph (text, mermaid or dot) and exit."),
        o(["--state-file"], type=click.Path(dir_okay=False, path_type=Path),
          help="JSON object to start the state with."),
        o(["--reporter"], multiple=True, metavar="NAME[=DEST]",
          help="Also report with NAME (see --plugins); repeatable."),
        o(["-p", "plugin_switches"], multiple=True, metavar="NAME",
          help="Load plugin module NAME early, or block an installed plugin with -p no:NAME."),
        o(["--plugins", "list_plugins"], is_flag=True,
          help="List the installed plugins and reporters, then exit."),
        o(["-s", "no_capture"], is_flag=True, help="Shortcut for --capture=no."),
        o(["--capture"], type=click.Choice(["sys", "no"]), default="sys",
          help="Per-task capture of print, stderr and logging (default: sys)."),
        o(["--color"], type=click.Choice(["yes", "no", "auto"]), default="auto",
          help="Colour the output (default: only on a terminal)."),
        o(["--log"], is_flag=True, help="Enable logging with thread names, and a line per task."),
        o(["--verbose"], is_flag=True,
          help="Debug logging, and tracebacks for errors."),
        o(["--debug-plugins"], is_flag=True,
          help="Print each plugin hook call, with its arguments and results, on stderr."),
        o(["--version", "show_version"], is_flag=True,
          help="Show the versions of mtrun, the core and the plugins, then exit."),
    ]


def make_command(extra: list[click.Parameter]) -> click.Command:
    return click.Command(
        "mtrun",
        params=base_options() + extra,
        help=HELP,
        context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"],
                          "max_content_width": 100},
        callback=lambda **kwargs: kwargs,
    )


def blocked_and_early(argv: list[str]) -> tuple[set[str], list[str]]:
    """``-p`` values read before parsing, since plugins add options to the parser."""
    blocked, early = set(), []
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = None
        if arg == "-p" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
            value = arg[2:].lstrip("=")
        if value is None:
            continue
        if value.startswith("no:"):
            blocked.add(value[3:])
        else:
            early.append(value)
    return blocked, early


def normalize_argv(argv: list[str]) -> list[str]:
    """``--graph`` takes an optional value: ``--graph tests/`` means text, not a format."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--graph" and (i + 1 == len(out) or out[i + 1] not in GRAPH_FORMATS):
            out[i] = "--graph=text"
    return out


def split_targets(items: tuple[str, ...]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Targets, extra ``--key=value`` state pairs, and ``--result-NAME=value`` seeds."""
    targets, extra, results = [], {}, {}
    for item in items:
        if item.startswith("--") and "=" in item and len(item) > 3:
            key, value = item[2:].split("=", 1)
            if not key:
                raise UsageError(f"no such option: {item}")
            if key.startswith("result-") and len(key) > 7:
                results[key[7:]] = value
            elif key.startswith("_"):  # _state_lock: a string there breaks every task
                raise UsageError(f"--{key}: state keys starting with '_' are reserved")
            elif key == "results":  # the scheduler needs a dict there
                raise UsageError("--results: reserved state key; seed one task's result with "
                                 "--result-NAME=value")
            else:
                extra[key] = value
        elif item.startswith("-") and item != "-":
            raise UsageError(f"no such option: {item} (extra state values need --key=value)")
        else:
            targets.append(item)
    return targets, extra, results


def load_state_file(path: Optional[Path]) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--state-file: file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"--state-file {path}: cannot read it: {exc.strerror or exc}") \
            from None
    except ValueError as exc:
        raise UsageError(f"--state-file {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--state-file {path}: must hold a JSON object, not "
                         f"{type(data).__name__}")
    private = sorted(k for k in data if k.startswith("_"))
    if private:
        raise UsageError(f"--state-file {path}: keys starting with '_' are reserved: "
                         f"{', '.join(private)}")
    if not isinstance(data.get("results", {}), dict):
        raise UsageError(f"--state-file {path}: 'results' must be a JSON object (task name: "
                         "result)")
    return data


def parse_limits(values: tuple[str, ...]) -> dict[str, int]:
    limits = {}
    for value in values:
        group, sep, number = value.partition("=")
        if not sep or not group or not number.isdigit() or int(number) < 1:
            raise UsageError(f"--limit {value!r}: expected GROUP=N with N >= 1")
        limits[group] = int(number)
    return limits


def parse_reporters(values: tuple[str, ...]) -> list[tuple[str, Optional[str]]]:
    parsed = []
    for value in values:
        match = _REPORTER.match(value)
        if match is None:
            raise UsageError(f"--reporter {value!r}: expected NAME or NAME=DEST")
        parsed.append((match.group(1), match.group(2)))
    return parsed
