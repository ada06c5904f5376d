"""The command line: click options (plus those plugins add), extra ``--key=value`` pairs,
``--state-file`` and ``--reporter`` values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

import click

from .config import UsageError
from .flags import pytest_refusal, refuse_state_key

GRAPH_FORMATS = ("text", "mermaid", "dot")
_REPORTER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)(?:=(.+))?$")

HELP = """Run the functions marked with @dmark in TARGETS (files, folders or file.py::name)
on worker threads, each after the tasks it depends on. With no TARGETS: the configured
testpaths, or the rootdir.

Any other --key=value is added to the initial state passed to setup_state(state), unless
KEY is close to an mtrun option or is a pytest option (refused: --state KEY=VALUE passes
any key); --result-NAME=value seeds state['results']['NAME'] for single-function runs."""

EPILOG = """Configuration: [tool.mtrun] in pyproject.toml, or mtrun.toml, in the rootdir (the
nearest folder, from the current one up, with pyproject.toml, mtrun.toml or .git; -c FILE and
--rootdir choose others). Keys: addopts, testpaths, norecursedirs, workers, reporters,
timeout, retries, limits, state. See what it sets with: mtrun --show-config"""

TB_STYLES = ("auto", "long", "short", "line", "native", "no")


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
        o(["--order"], type=click.Choice(["critical-path", "registration"]),
          default="critical-path",
          help="Which ready task starts first: the one on the longest remaining path, in "
               "expected durations (default), or the first registered."),
        o(["--shard"], metavar="K/N",
          help="Run the K-th of N shards: the selected tasks split by expected duration, "
               "each chain of dependencies whole in one shard."),
        o(["--limit"], multiple=True, metavar="GROUP=N",
          help="Run at most N tasks of group GROUP at once (default 1); repeatable."),
        o(["--executor"], default="threads", metavar="NAME[=ADDRESS]",
          help="Where task bodies run: threads (default), processes, dask (a local cluster "
               "of --workers processes) or dask=tcp://HOST:PORT (see --plugins)."),
        o(["--collect-only", "--co", "collect_only"], is_flag=True,
          help="List the tasks with their dependencies and tags, then exit."),
        o(["--graph"], type=click.Choice(GRAPH_FORMATS), is_flag=False,
          flag_value="text", help="Print the dependency graph (text, mermaid or dot) and exit."),
        o(["-o", "--override-ini", "override_ini"], multiple=True, metavar="NAME=VALUE",
          help="Set a plugin's setting (as in [tool.mtrun]); repeatable."),
        o(["--state", "state_pairs"], multiple=True, metavar="KEY=VALUE",
          help="Add KEY=VALUE to the initial state, whatever KEY is; repeatable."),
        o(["--state-file"], type=click.Path(dir_okay=False, path_type=Path),
          help="JSON object to start the state with."),
        o(["--reporter"], multiple=True, metavar="NAME[=DEST]",
          help="Also report with NAME (see --plugins); repeatable."),
        o(["--junitxml", "--junit-xml", "junitxml"], metavar="PATH",
          help="Write a JUnit XML report to PATH (the same as --reporter junit=PATH)."),
        o(["-p", "plugin_switches"], multiple=True, metavar="NAME",
          help="Load plugin NAME early (a module, or an installed plugin's name), or block "
               "an installed plugin with -p no:NAME."),
        o(["--plugins", "list_plugins"], is_flag=True,
          help="List the installed plugins and reporters, then exit."),
        o(["-s", "no_capture"], is_flag=True, help="Shortcut for --capture=no."),
        o(["--capture"], type=click.Choice(["sys", "no"]), default="sys",
          help="Per-task capture of print, stderr and logging (default: sys)."),
        o(["--color"], type=click.Choice(["yes", "no", "auto"]), default="auto",
          help="Colour the output (default: on a terminal, unless NO_COLOR is set; "
               "FORCE_COLOR and PY_COLORS=1 force it)."),
        o(["-k", "keyword"], metavar="EXPR",
          help="Run only tasks whose name matches EXPR, as in pytest: case-insensitive "
               "substrings with and, or, not and parentheses."),
        o(["-v", "verbosity"], count=True,
          help="A line per task with its thread and progress; -vv adds durations."),
        o(["-q", "--quiet", "quiet"], count=True,
          help="No header, progress characters only; -qq prints the summary line only."),
        o(["-r", "report_chars"], default="fE", metavar="CHARS",
          help="Short summary of: (f)ailed, (E)rror, (s)kipped, (x)failed, (X)passed, "
               "(p)assed, (a)ll but passed, (A)ll, (N)one (default: fE)."),
        o(["--tb"], type=click.Choice(TB_STYLES), default="auto",
          help="Traceback style for failures (default: auto, the full traceback)."),
        o(["--durations"], type=click.IntRange(min=0), metavar="N",
          help="Show the N slowest tasks and their threads (0: all)."),
        o(["--durations-min"], type=click.FloatRange(min=0), default=0.005, metavar="SECONDS",
          help="Leave out of --durations tasks faster than this (default: 0.005)."),
        o(["--rootdir"], type=click.Path(file_okay=False, path_type=Path),
          help="The folder cross-file task names are relative to, and where configuration "
               "is looked for."),
        o(["-c", "config_file"], type=click.Path(dir_okay=False, path_type=Path),
          metavar="FILE", help="Read the configuration from FILE (pyproject.toml or "
                               "mtrun.toml) instead of looking for it."),
        o(["--show-config"], is_flag=True,
          help="Print the configuration file used and the options it set, then exit."),
        o(["--log"], is_flag=True, help="Enable logging with thread names, and a line per task."),
        o(["--verbose"], is_flag=True,
          help="Debug logging, and tracebacks for errors."),
        o(["--assert", "assert_mode"], type=click.Choice(["rewrite", "plain"]),
          default="rewrite",
          help="rewrite (default): a failed assert shows its values; plain: test modules "
               "are imported unchanged."),
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
        epilog=EPILOG,
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
    """``--graph`` and ``--store-durations`` take an optional value: ``--graph tests/`` means
    text, not a format."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--graph" and (i + 1 == len(out) or out[i + 1] not in GRAPH_FORMATS):
            out[i] = "--graph=text"
        elif arg == "--store-durations":  # its PATH only as --store-durations=PATH
            out[i] = "--store-durations="
    return out


def long_names(command: click.Command) -> list[str]:
    """Every ``--name`` the command takes (plugins' too), without the dashes."""
    return [name[2:] for param in command.params for name in param.opts
            if name.startswith("--")]


def split_targets(items: tuple[str, ...], options: Iterable[str] = ()
                  ) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Targets, extra ``--key=value`` state pairs, and ``--result-NAME=value`` seeds.
    ``options``: mtrun's long option names, which a ``--key`` must not be a typo of."""
    targets, extra, results = [], {}, {}
    for item in items:
        if item.startswith("--") and "=" in item and len(item) > 3:
            key, value = item[2:].split("=", 1)
            if not key:
                raise UsageError(f"no such option: {item}")
            refused = refuse_state_key(item, options)
            if refused:
                raise UsageError(refused)
            if key.startswith("result-") and len(key) > 7:
                results[key[7:]] = value
            else:
                extra[check_state_key(key, f"--{key}")] = value
        elif item.startswith("-") and item != "-":
            refused = pytest_refusal(item)
            raise UsageError(refused or f"no such option: {item} (extra state values need "
                                        "--key=value)")
        else:
            targets.append(item)
    return targets, extra, results


def check_state_key(key: str, where: str) -> str:
    if key.startswith("_"):  # _state_lock: a string there breaks every task
        raise UsageError(f"{where}: state keys starting with '_' are reserved")
    if key == "results":  # the scheduler needs a dict there
        raise UsageError(f"{where}: reserved state key; seed one task's result with "
                         "--result-NAME=value")
    return key


def parse_state_pairs(values: tuple[str, ...]) -> dict[str, str]:
    """``--state KEY=VALUE``: never refused for its name, only for a reserved key."""
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise UsageError(f"--state {value!r}: expected KEY=VALUE")
        pairs[check_state_key(key, f"--state {key}")] = text
    return pairs


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
