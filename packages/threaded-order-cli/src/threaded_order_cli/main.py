"""``mtrun``: parse, load plugins, collect, run, report; every error is one line."""

from __future__ import annotations

import atexit
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from threaded_order import (
    ENTRY_POINT_GROUP,
    NotPicklableError,
    PluginManager,
    Scheduler,
    configure_logging,
    exit_status,
    installed_plugins,
    load_entrypoint_plugins,
)
from threaded_order.ext import check_seconds, safe_str, type_name

from . import configfile, executors, history, hookspecs, keywords, shards, show
from .collect import CollectError, collect
from .config import (
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE_ERROR,
    Config,
    UsageError,
)
from .hooks import CliHooks
from .lifecycle import (
    Lifecycle,
    Outcome,
    core_messages,
    describe,
    one_line,
    outcome,
    report,
    settled,
    signal_name,
)
from .options import (
    blocked_and_early,
    load_state_file,
    long_names,
    make_command,
    normalize_argv,
    parse_limits,
    parse_reporters,
    parse_state_pairs,
    split_targets,
)
from .settings import Settings
from .terminal import NAME as TERMINAL_REPORTER
from .terminal import TerminalReporter, colour_wanted, visible

if TYPE_CHECKING:
    from threaded_order.results import Summary


def main(argv: Optional[list[str]] = None) -> None:
    """Console entry point."""
    atexit.register(Lifecycle.ignore_at_exit)
    try:
        code = run(sys.argv[1:] if argv is None else list(argv), _final=True)
    except KeyboardInterrupt:  # signals held after the run broke into a step that hung
        code = EXIT_INTERRUPTED
    sys.exit(code)


def run(argv: list[str], *, _final: bool = False) -> int:
    """Run mtrun with these arguments and return its exit code.

    Signal handlers are mtrun's until it returns, then the previous ones are back (``_final``:
    the process exits next; see ``Lifecycle``).
    """
    with core_messages(), Lifecycle(final=_final) as life:
        verbose = "--verbose" in argv
        life.exit_code = settled(life, lambda: _run(argv, life),
                                  lambda exc: report(outcome(exc, verbose)))
        return int(life.exit_code)


def _plugin_manager(argv: list[str]) -> PluginManager:
    blocked, early = blocked_and_early(argv)
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    options = argv[:argv.index("--")] if "--" in argv else argv
    if "--debug-plugins" in options:  # from the first hook call on: before parsing
        pm.trace_hooks(_trace_writer(sys.stderr))
    for name in blocked:
        pm.set_blocked(name)
    for name in early:
        try:
            _load_early(pm, name)
        except ImportError as exc:
            raise UsageError(f"-p {name}: cannot import plugin module: {safe_str(exc)}") \
                from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # raised while importing (sys.exit too), a bad hook
            raise UsageError(f"-p {name}: cannot load plugin: {describe(exc)}") from exc

    def warn(message: str) -> None:
        sys.stderr.write(f"mtrun: warning: {one_line(message)}\n")

    load_entrypoint_plugins(pm, blocked, warn=warn)
    try:
        pm.check_pending()  # a misspelled hook name: say so now, not after the header
    except Exception as exc:  # pluggy's PluginValidationError
        plugin = getattr(exc, "plugin", None)
        name = (pm.get_name(plugin) if plugin is not None else None) or "?"
        raise UsageError(f"plugin {name!r}: {safe_str(exc)}") from exc
    return pm


def _load_early(pm: PluginManager, name: str) -> None:
    """``-p NAME``: an installed plugin's entry-point name (``-p junit``), or a module."""
    if sys.version_info >= (3, 10):
        from importlib.metadata import entry_points
    else:  # pragma: no cover - Python 3.9
        from importlib_metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            if not pm.has_plugin(name):
                pm.register(ep.load(), name=name)
                info = [i for i in installed_plugins() if i.name == name]
                if info:
                    pm.distributions[name] = info[0]
            return
    pm.register(importlib.import_module(name), name=name)


def _trace_writer(stream: Any) -> Any:
    """Trace lines go to the stderr mtrun started with (a task's capture cannot take
    them); a closed or broken stream loses them, never the run."""

    def write(text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass

    return write


def _run(argv: list[str], life: Lifecycle) -> int:
    file_config = configfile.load(argv, Path.cwd())
    argv = file_config.args + argv  # the configuration's options, then the command line's
    pm = _plugin_manager(argv)
    pm.register(life, name="mtrun-lifecycle")
    pm.register(history.CacheProvider(), name=history.NAME)  # unless -p no:cacheprovider
    hooks = CliHooks(pm)
    extra_options: list[click.Parameter] = []

    def add_option(*decls: str, **attrs: Any) -> None:
        extra_options.append(click.Option(list(decls), **attrs))

    hooks.addoption(add_option)
    command = make_command(extra_options)
    settings = Settings(file_config.settings, file_config.label,  # before parsing: -h lists them
                        (), configfile.KEYS)
    hooks.addini(settings.add_ini)
    with command.make_context("mtrun", normalize_argv(argv)) as ctx:
        params: dict[str, Any] = command.invoke(ctx)
    settings.overrides = tuple(params["override_ini"])
    settings.resolve()
    if params["show_version"]:
        show.versions(pm)
        return EXIT_OK
    if params["list_plugins"]:
        show.plugins(hooks)
        return EXIT_OK
    if params["show_config"]:
        for text in configfile.describe(file_config) + settings.describe():
            click.echo(text)
        return EXIT_OK
    targets, extra_state, seeded = split_targets(params["targets"], long_names(command))
    if not targets:  # as pytest: the configured testpaths, or the rootdir
        rootdir = file_config.rootdir
        targets = [str(rootdir / p) for p in file_config.testpaths] or [str(rootdir)]
    _check_options(params)
    history.check_options(params, file_config.rootdir)
    params["shard"] = shards.parse(params["shard"])
    params["keyword_matcher"] = keywords.compile_keywords(params["keyword"]) \
        if params["keyword"] is not None else None
    reporters = parse_reporters(params["reporter"])
    if params["junitxml"]:
        reporters.append(("junit", params["junitxml"]))
    params["limits"] = parse_limits(params["limit"])
    params["executor_name"], params["executor_address"] = executors.parse(params["executor"])
    executors.check(hooks, params["executor_name"], params["executor_address"])
    state = load_state_file(params["state_file"])
    state.update(file_config.state)
    given = {**parse_state_pairs(params["state_pairs"]), **extra_state}
    state.update(given)
    config = Config(params, pm, file_config.rootdir, state, hooks)
    config.settings = settings
    config.configfile = file_config.shown_path()
    config.state_keys = list(given)
    config.early_plugins = blocked_and_early(argv)[1]
    params["norecursedirs"] = file_config.norecursedirs
    to_stdout = any(dest == "-" for _, dest in reporters)
    pm.register(TerminalReporter(out=sys.stderr if to_stdout else None,
                                 colour=colour_wanted(params["color"], sys.stderr if to_stdout
                                                      else sys.stdout),
                                 log_lines=params["log"], options=params),
                name=TERMINAL_REPORTER)
    _make_reporters(config, reporters)
    finished: list[Summary] = []  # the run's summary, once there is one

    def body() -> int:
        hooks.configure(config)
        return _collect_and_run(config, targets, seeded, life, finished)

    end = settled(life, lambda: Outcome(body()),
                  lambda exc: _stopped(exc, config, params["verbose"]))
    summary = finished[0] if finished else None
    try:
        code = _unconfigure(config, summary, end.code, life)  # every report, the terminal's too
        stops = sorted({signal_name(s) for s in life.received if s != signal.SIGINT})
        if summary is not None and stops:
            sys.stderr.write(f"mtrun: interrupted by {', '.join(stops)}\n")
    finally:
        if config.executor is not None:  # after the reports: a cluster may take a moment
            config.executor.shutdown(wait=False)  # abandoned (timed-out) bodies are not needed
    return report(end._replace(code=code))


def _check_options(params: dict[str, Any]) -> None:
    """Values the scheduler would refuse, refused here in one line before anything runs."""
    if params["workers"] is not None and params["workers"] < 1:
        raise UsageError(f"--workers must be >= 1, got {params['workers']}")
    if params["timeout"] is not None:
        try:
            check_seconds(params["timeout"], "--timeout")
        except ValueError as exc:
            raise UsageError(safe_str(exc)) from None


def _scheduler_order(config: Config, tasks: list[Any]) -> dict[str, Any]:
    """``order=`` and the expected durations the history knows (none without it)."""
    cached = history.provider(config)
    expected = cached.expected(tasks) if cached is not None else {}
    return {"order": config.options["order"], "expected_durations": expected or None}


def _stopped(exc: BaseException, config: Config, verbose: bool) -> Outcome:
    """Why mtrun stops before its run, told to the reporters so no report is silent about it."""
    end = outcome(exc, verbose)
    if isinstance(exc, CollectError):
        path, detail = exc.path, exc.detail
        if not isinstance(exc, SetupError):  # exit 2, as pytest's "error during collection"
            end = end._replace(code=EXIT_INTERRUPTED)
    elif end.code in (EXIT_USAGE_ERROR, EXIT_INTERRUPTED) and end.message:
        path, detail = "", end.message
    else:
        return end
    config.hooks.collection_error(path, detail, config)
    return end


def _exit_code(code: int, config: Config, life: Optional[Lifecycle]) -> int:
    """An interrupt (while ``life`` is given) makes it 2; a plugin or reporter that failed
    makes an otherwise clean run 3."""
    if life is not None:
        code = life.exit_code_for(code)
    return EXIT_INTERNAL_ERROR if code == EXIT_OK and config.hooks.errors else code


def _unconfigure(config: Config, summary: Optional[Summary], code: int, life: Lifecycle) -> int:
    """Each unconfigure hook gets the exit code as it stands when it is called, so the last
    (the json reporter's, which writes the code) sees earlier failures. A signal after it is
    too late to change the code; a failure of that last hook still makes it non-zero."""
    code = config.hooks.unconfigure(config, summary, _exit_code(code, config, life),
                                    lambda current: _exit_code(current, config, life))
    return _exit_code(code, config, None)


def _make_reporters(config: Config, wanted: list[tuple[str, Optional[str]]]) -> None:
    available = config.hooks.reporters()
    for name, dest in wanted:
        if name not in available:
            names = ", ".join(sorted(available)) or "none installed"
            raise UsageError(f"--reporter {name}: unknown reporter (available: {names})")
        reporter = config.hooks.make_reporter(name, dest, config)
        config.plugin_manager.register(reporter, name=f"reporter-{name}-{len(config.reporters)}")
        config.reporters.append((name, reporter))


def _collect_and_run(config: Config, targets: list[str], seeded: dict[str, str],
                     life: Lifecycle, finished: list[Summary]) -> int:
    params = config.options
    matcher = params["keyword_matcher"]
    collected = collect(targets, config.rootdir, tags=params["tags"],
                        with_deps=params["with_deps"] and matcher is None,
                        norecursedirs=params["norecursedirs"],
                        rewrite_asserts=params["assert_mode"] != "plain")
    for note in collected.notes:  # a dependency outside the run, dropped (see --with-deps)
        sys.stderr.write(f"mtrun: note: {visible(note)}\n")
    if matcher is not None:
        collected = collected._replace(tasks=keywords.select(
            collected.all_tasks, collected.tasks, matcher, params["with_deps"]))
    cached = history.provider(config)
    if cached is not None:  # --lf, --ff, --nf
        collected = collected._replace(tasks=cached.select(config, collected.all_tasks,
                                                           collected.tasks))
    if params["shard"] is not None:  # after --lf: the shards split what would run
        known = cached.expected(collected.tasks) if cached is not None else {}
        mine, params["shard_line"] = shards.select(params["shard"], collected.tasks, known)
        collected = collected._replace(tasks=mine)
    config.tasks = collected.tasks
    if not collected.tasks:
        given = " and ".join(f"{flag} {params[key]!r}" for flag, key in
                             (("--tags", "tags"), ("-k", "keyword")) if params[key] is not None)
        raise UsageError(f"no tasks match {given} "
                         f"({len(collected.all_tasks)} collected, all deselected)", 5)
    if params["collect_only"]:
        show.collected(collected.tasks)
        return EXIT_OK
    if params["graph"]:
        show.graph(collected.tasks, params["graph"])
        return EXIT_OK
    workers = params["workers"] or Scheduler.max_workers
    max_failures = 1 if params["exitfirst"] else params["maxfail"]
    config.workers = workers
    config.deselected = len(collected.all_tasks) - len(collected.tasks)
    config.executor = executors.make(config, params["executor_name"],
                                     params["executor_address"], workers)
    _setup_state(config, collected.modules, seeded)
    if cached is not None:  # --lf --skip-deps: the stored results of what does not run
        cached.seed(config.state)
    try:
        scheduler = Scheduler(
            workers, state=config.state, clear_results_on_start=False,
            skip_dependents=params["skip_deps"], max_failures=max_failures,
            plugin_manager=config.plugin_manager,
            capture=not (params["no_capture"] or params["capture"] == "no"),
            limits=params["limits"], retries=params["retries"], timeout=params["timeout"],
            executor=config.executor, **_scheduler_order(config, collected.tasks),
        )
        scheduler.add_tasks(collected.tasks)
    except ValueError as exc:  # a value the core refuses (a task's timeout=inf, say)
        raise UsageError(safe_str(exc)) from exc
    if params["log"] or params["verbose"]:
        custom = [m for m in collected.modules if callable(getattr(m, "setup_logging", None))]
        if custom:
            _call_module_hook(custom[0], "setup_logging", workers, params["verbose"])
        else:
            configure_logging(workers, verbose=params["verbose"])
    config.hooks.run_start(config)
    if config.executor is not None:
        scheduler.ship_modules = executors.to_ship(collected.modules)
    life.begin_run(scheduler)
    try:
        summary = scheduler.start()
    except NotPicklableError as exc:
        raise UsageError(safe_str(exc)) from exc
    finally:
        life.end_run()
    # The summary, made final for the reporters: the scheduler's errors and ours in one
    # list (later ones join it), and a signal taken since the run began is an interrupt.
    config.hooks.adopt(summary)
    if life.interrupted:
        summary["interrupted"] = True
    finished.append(summary)
    return exit_status(summary)


def _setup_state(config: Config, modules: list[Any], seeded: dict[str, str]) -> None:
    """``setup_state(state)`` sees the state file and the --key=value pairs only, as before
    the scheduler adds its own keys; ``results`` it leaves (or the state file gave) are kept,
    and ``--result-NAME`` seeds go on top."""
    for module in modules:
        _call_module_hook(module, "setup_state", config.state)
    results = config.state.get("results", {})
    if not isinstance(results, dict):
        raise UsageError(f"state['results'] must be a dict (task name: result), "
                         f"setup_state() left a {type_name(results)}")
    if seeded:
        config.state.setdefault("results", results).update(seeded)


def _call_module_hook(module: Any, name: str, *args: Any) -> None:
    hook = getattr(module, name, None)
    if not callable(hook):
        return
    try:
        hook(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        where = os.path.relpath(getattr(module, "__file__", None) or "?")
        raise SetupError(where, f"{name}() failed: {describe(exc)}") from exc


class SetupError(CollectError):
    """A module's setup_state() or setup_logging() failed: after collection, so exit 4."""
