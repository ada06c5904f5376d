"""``mtrun``: parse, load plugins, collect, run, report; every error is one line."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import platform
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import click

from threaded_order import (
    NotPicklableError,
    PluginManager,
    Scheduler,
    configure_logging,
    exit_status,
    load_entrypoint_plugins,
)
from threaded_order import (
    __version__ as core_version,
)
from threaded_order.plugins import call_hook, hook_impls

from . import __version__, executors, hookspecs, show
from .collect import CollectError, collect
from .config import (
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE_ERROR,
    Config,
    ReporterError,
    UsageError,
)
from .options import (
    blocked_and_early,
    load_state_file,
    make_command,
    normalize_argv,
    parse_limits,
    parse_reporters,
    split_targets,
)
from .terminal import TerminalReporter, discard_rest


def main(argv: Optional[list[str]] = None) -> None:
    """Console entry point."""
    sys.exit(run(sys.argv[1:] if argv is None else list(argv)))


def _error(message: str) -> None:
    # One line, even when an exception's message (or a plugin's) spans several.
    message = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
    sys.stderr.write(f"mtrun: error: {message}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _core_messages() -> Iterator[None]:
    """Send the core's own warnings (Ctrl-C, a plugin hook that raised) to stderr.

    Without this they reach the root logger, where capture's handler swallows them while
    tasks run; with it they are one line on stderr whether capture is on or not.
    """
    logger = logging.getLogger("threaded_order")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def run(argv: list[str]) -> int:
    """Run mtrun with these arguments and return its exit code."""
    with _core_messages():
        return _run_reporting_errors(argv)


def _run_reporting_errors(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    try:
        return _run(argv)
    except UsageError as exc:
        _error(str(exc))
        if verbose:
            traceback.print_exc()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        _error(exc.format_message())
        return EXIT_USAGE_ERROR
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # mtrun --collect-only | head: the reader had enough
        discard_rest(sys.stdout)
        return EXIT_OK
    except Exception as exc:
        _error(f"internal error: {type(exc).__name__}: {exc}")
        if verbose:
            traceback.print_exc()
        return EXIT_INTERNAL_ERROR


def _plugin_manager(argv: list[str]) -> PluginManager:
    blocked, early = blocked_and_early(argv)
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for name in early:
        try:
            pm.register(importlib.import_module(name), name=name)
        except ImportError as exc:
            raise UsageError(f"-p {name}: cannot import plugin module: {exc}") from None
        except Exception as exc:  # raised while importing, or a hook with a wrong signature
            raise UsageError(f"-p {name}: cannot load plugin: {type(exc).__name__}: {exc}") \
                from exc
    load_entrypoint_plugins(pm, blocked, warn=lambda m: sys.stderr.write(
        f"mtrun: warning: {m}\n"))
    try:
        pm.check_pending()  # a misspelled hook name: say so now, not after the header
    except Exception as exc:  # pluggy's PluginValidationError
        plugin = getattr(exc, "plugin", None)
        name = (pm.get_name(plugin) if plugin is not None else None) or "?"
        raise UsageError(f"plugin {name!r}: {exc}") from exc
    return pm


def _run(argv: list[str]) -> int:
    pm = _plugin_manager(argv)
    errors: list[str] = []
    extra_options: list[click.Parameter] = []

    def add_option(*decls: str, **attrs: Any) -> None:
        extra_options.append(click.Option(list(decls), **attrs))

    call_hook(pm, "threaded_order_cli_addoption", errors, add_option=add_option)
    command = make_command(extra_options)
    with command.make_context("mtrun", normalize_argv(argv)) as ctx:
        params: dict[str, Any] = command.invoke(ctx)
    if params["show_version"]:
        show.versions(pm)
        return EXIT_OK
    if params["list_plugins"]:
        show.plugins(pm, errors)
        return EXIT_OK
    targets, extra_state, seeded = split_targets(params["targets"])
    if not targets:
        raise UsageError("no target given: name a file, a folder or file.py::function")
    if params["workers"] is not None and params["workers"] < 1:
        raise UsageError(f"--workers must be >= 1, got {params['workers']}")
    reporters = parse_reporters(params["reporter"])
    params["limits"] = parse_limits(params["limit"])
    params["executor_name"], params["executor_address"] = executors.parse(params["executor"])
    executors.check(pm, params["executor_name"], params["executor_address"], errors)
    state = load_state_file(params["state_file"])
    state.update(extra_state)
    if seeded:
        state.setdefault("results", {}).update(seeded)
    config = Config(params, pm, Path.cwd(), state)
    colour = {"yes": True, "no": False}.get(params["color"])
    terminal = TerminalReporter(colour=colour, log_lines=params["log"], verbose=params["verbose"])
    pm.register(terminal, name="terminalreporter")
    _make_reporters(config, reporters, errors)
    call_hook(pm, "threaded_order_cli_configure", errors, config=config)
    exitcode = EXIT_INTERNAL_ERROR
    try:
        exitcode = _collect_and_run(config, targets, terminal, bool(seeded), errors)
    except CollectError as exc:
        call_hook(pm, "threaded_order_cli_collection_error", errors, path=exc.path,
                  message=exc.detail, config=config)
        exitcode = exc.exit_code
        raise
    except UsageError as exc:
        exitcode = exc.exit_code
        raise
    finally:
        if config.executor is not None:  # after the report: a cluster may take a moment
            config.executor.shutdown(wait=False)  # abandoned (timed-out) bodies are not needed
        call_hook(pm, "threaded_order_cli_unconfigure", errors, config=config, exitcode=exitcode)
    return exitcode


def _make_reporters(config: Config, wanted: list[tuple[str, Optional[str]]],
                    errors: list[str]) -> None:
    pm = config.plugin_manager
    available: dict[str, str] = {}
    for offered in call_hook(pm, "threaded_order_cli_reporters", errors):
        available.update(offered)
    for name, dest in wanted:
        if name not in available:
            names = ", ".join(sorted(available)) or "none installed"
            raise UsageError(f"--reporter {name}: unknown reporter (available: {names})")
        reporter = None
        for impl in hook_impls(pm, "threaded_order_cli_make_reporter"):
            args = {"name": name, "dest": dest, "config": config}
            try:
                reporter = impl.function(*[args[a] for a in impl.argnames])
            except ReporterError:
                raise
            except Exception as exc:
                raise ReporterError(f"--reporter {name}: could not start: "
                                    f"{type(exc).__name__}: {exc}") from exc
            if reporter is not None:
                break
        if reporter is None:
            raise UsageError(f"--reporter {name}: no plugin could make it")
        pm.register(reporter, name=f"reporter-{name}-{len(config.reporters)}")
        config.reporters.append((name, reporter))


def _collect_and_run(config: Config, targets: list[str], terminal: TerminalReporter,
                     seeded: bool, errors: list[str]) -> int:
    params = config.options
    collected = collect(targets, config.rootdir, tags=params["tags"],
                        with_deps=params["with_deps"])
    config.tasks = collected.tasks
    if not collected.tasks:
        raise UsageError(f"no tasks match --tags {params['tags']!r} "
                         f"({len(collected.all_tasks)} collected, all deselected)", 5)
    if params["collect_only"]:
        show.collected(collected.tasks)
        return EXIT_OK
    if params["graph"]:
        show.graph(collected.tasks, params["graph"])
        return EXIT_OK
    workers = params["workers"] or Scheduler.max_workers
    max_failures = 1 if params["exitfirst"] else params["maxfail"]
    config.executor = executors.make(config, params["executor_name"],
                                     params["executor_address"], workers, errors)
    scheduler = Scheduler(
        workers, state=config.state, clear_results_on_start=not seeded,
        skip_dependents=params["skip_deps"], max_failures=max_failures,
        plugin_manager=config.plugin_manager,
        capture=not (params["no_capture"] or params["capture"] == "no"),
        limits=params["limits"], retries=params["retries"], timeout=params["timeout"],
        executor=config.executor,
    )
    for module in collected.modules:
        _call_module_hook(module, "setup_state", config.state)
    if params["log"] or params["verbose"]:
        custom = [m for m in collected.modules if callable(getattr(m, "setup_logging", None))]
        if custom:
            _call_module_hook(custom[0], "setup_logging", workers, params["verbose"])
        else:
            configure_logging(workers, verbose=params["verbose"])
    scheduler.add_tasks(collected.tasks)
    deselected = len(collected.all_tasks) - len(collected.tasks)
    header = _header_lines(config, workers, errors)
    executor_line = executors.describe(params["executor_name"], config.executor)
    if executor_line:
        header.append(executor_line)
    header.append(f"collected {show.plural(len(collected.all_tasks), 'task')}"
                  + (f" / {deselected} deselected / {len(collected.tasks)} selected"
                     if deselected else ""))
    terminal.header(header)
    if config.executor is not None:
        executors.ship(collected.modules)
    try:
        summary = scheduler.start()
    except NotPicklableError as exc:
        raise UsageError(str(exc)) from exc
    exitcode = exit_status(summary)
    extra: list[str] = []
    for lines in call_hook(config.plugin_manager, "threaded_order_cli_report_summary", errors,
                           summary=summary, config=config, exitcode=exitcode):
        extra.extend(_text_lines(lines))
    summary["plugin_errors"].extend(errors)
    terminal.report(summary, extra, exitcode)
    return exitcode


def _call_module_hook(module: Any, name: str, *args: Any) -> None:
    hook = getattr(module, name, None)
    if not callable(hook):
        return
    try:
        hook(*args)
    except Exception as exc:
        where = os.path.relpath(getattr(module, "__file__", "?"))
        raise CollectError(where, f"{name}() failed: {type(exc).__name__}: {exc}") from exc


def _text_lines(value: Any) -> list[str]:
    """A hook's lines: a string or a list of them; anything else is shown as its str(), so a
    plugin returning the wrong type cannot end the run with an internal error."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _header_lines(config: Config, workers: int, errors: list[str]) -> list[str]:
    pm = config.plugin_manager
    lines = [f"platform {sys.platform} -- Python {platform.python_version()}, "
             f"threaded-order-core {core_version}, mtrun {__version__}",
             f"rootdir: {config.rootdir}"]
    plugins = [f"{i.name}-{i.version}" for i in pm.distributions.values()]
    if plugins:
        lines.append("plugins: " + ", ".join(plugins))
    lines.append(f"workers: {workers}")
    for extra in call_hook(pm, "threaded_order_cli_report_header", errors, config=config):
        lines.extend(_text_lines(extra))
    return lines
