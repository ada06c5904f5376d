"""The built-in ``cacheprovider`` plugin: learn from past runs.

Like the terminal reporter it is a plugin driven by hooks, so ``-p no:cacheprovider`` turns
it off (and its options with it). It records each run's outcomes and durations in
``.mtrun_cache/`` (see ``cache``), and from them selects (``--lf``), orders (``--ff``,
``--nf``) and gives the scheduler the expected durations of the tasks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from threaded_order import hookimpl
from threaded_order.ext import safe_str
from threaded_order.results import FAILED, PASSED, XFAILED, XPASSED, node_id

from . import cache
from .config import EXIT_NO_TESTS, UsageError

if TYPE_CHECKING:
    from threaded_order import Task
    from threaded_order.results import Summary

    from .config import Config

NAME = "cacheprovider"
_COMPLETED = (PASSED, FAILED, XFAILED, XPASSED)
_NOT_COMPLETED = ("CancelledError", "TimeoutError")  # cut short: not a duration


def _warn(message: str) -> None:
    sys.stderr.write(f"mtrun: warning: {message}\n")


def _node(task: Task) -> str:
    return node_id(task.name, task.module)


class CacheProvider:
    """Reads the history at ``configure``, writes it at ``unconfigure``."""

    def __init__(self) -> None:
        self.cache: Optional[cache.Cache] = None
        self.outcomes: dict[str, str] = {}
        self.durations: dict[str, float] = {}  # node id: expected seconds
        self.header: Optional[str] = None
        self.store: Optional[Path] = None
        self.reused: dict[str, Any] = {}  # --lf --skip-deps: task name: stored result

    @hookimpl
    def threaded_order_cli_addoption(self, add_option: Callable[..., None]) -> None:
        add_option("--lf", "--last-failed", "last_failed", is_flag=True,
                   help="Rerun only the tasks that failed last time, with the tasks they "
                        "depend on (all tasks if none failed).")
        add_option("--lfnf", "--last-failed-no-failures", "last_failed_no_failures",
                   type=click.Choice(["all", "none"]), default="all",
                   help="With --lf and no known failures: run all tasks (default) or none.")
        add_option("--ff", "--failed-first", "failed_first", is_flag=True,
                   help="Start the tasks that failed last time first, as the graph allows.")
        add_option("--nf", "--new-first", "new_first", is_flag=True,
                   help="Start tasks the cache has not seen first, as the graph allows.")
        add_option("--cache-clear", "cache_clear", is_flag=True,
                   help="Empty .mtrun_cache/ at the rootdir before the run.")
        add_option("--store-durations", "store_durations", is_flag=False, flag_value="",
                   metavar="[=PATH]",
                   help=f"Write the tasks' durations to PATH (default: {cache.DURATIONS_FILE} "
                        "at the rootdir), a file to commit; read at start when present.")

    @hookimpl
    def threaded_order_cli_configure(self, config: Config) -> None:
        self.cache = cache.Cache(config.rootdir)
        if config.getoption("cache_clear"):
            self.cache.clear()
        store = config.getoption("store_durations")
        if store is not None:
            self.store = config.rootdir / (store or cache.DURATIONS_FILE)
        committed = cache.read_durations_file(self.store or
                                              config.rootdir / cache.DURATIONS_FILE)
        self.outcomes = self.cache.outcomes()
        self.durations = dict(committed)
        self.durations.update((k, v["mean"]) for k, v in self.cache.durations().items())

    # -- before the run ---------------------------------------------------------------

    def select(self, config: Config, all_tasks: list[Task], chosen: list[Task]) -> list[Task]:
        """``--lf``, ``--ff`` and ``--nf`` applied to the selected tasks."""
        if config.getoption("last_failed"):
            chosen = self._last_failed(config, all_tasks, chosen)
        first: list[Callable[[Task], bool]] = []  # new tasks, then last failures, then the rest
        if config.getoption("new_first"):
            first.append(lambda t: _node(t) not in self.outcomes)
        if config.getoption("failed_first"):
            first.append(lambda t: self.outcomes.get(_node(t)) == FAILED)
        if not first:
            return chosen
        top = max((getattr(t, "priority", 0) for t in all_tasks), default=0)
        ranked = []
        for task in chosen:  # above any priority a user gave, the first criterion highest
            rank = next((len(first) - i for i, wanted in enumerate(first) if wanted(task)), 0)
            if rank and "priority" in task._fields:
                task = task._replace(priority=top + rank)
            ranked.append((-rank, task))
        return [task for _, task in sorted(ranked, key=lambda pair: pair[0])]

    def _last_failed(self, config: Config, all_tasks: list[Task],
                     chosen: list[Task]) -> list[Task]:
        failed = {_node(t) for t in chosen if self.outcomes.get(_node(t)) == FAILED}
        if not failed:
            known = sum(1 for v in self.outcomes.values() if v == FAILED)
            if known:
                self.header = (f"run-last-failure: {known} known failures not in selected "
                               "tasks")
                return chosen
            if config.getoption("last_failed_no_failures") == "none":
                raise UsageError("--lf: no previously failed tasks, deselecting all tasks "
                                 "(--lfnf=none)", EXIT_NO_TESTS)
            self.header = "run-last-failure: no previously failed tasks, running all tasks"
            return chosen
        from .collect import selection  # collect -> terminal -> this module: import late

        names = {t.name for t in chosen if _node(t) in failed}
        again: list[str] = []  # dependencies with no stored result, run for real
        if config.getoption("skip_deps"):
            names, again = self._reuse(all_tasks, names)
        rerun = selection(all_tasks, names, not config.getoption("skip_deps"))
        extra = len(rerun) - len(failed)
        self.header = (f"run-last-failure: rerun previous {len(failed)} "
                       f"failure{'' if len(failed) == 1 else 's'}"
                       + (f" (+{extra} dependenc{'y' if extra == 1 else 'ies'})"
                          if extra else ""))
        if self.reused:
            self.header += (f"; {len(self.reused)} dependenc"
                            f"{'y' if len(self.reused) == 1 else 'ies'} from stored results")
        if again:
            shown = ", ".join(again[:3]) + (f" and {len(again) - 3} more" if len(again) > 3
                                            else "")
            self.header += f"; no stored result for {shown}: run again"
        return rerun

    def _reuse(self, all_tasks: list[Task], failed: set[str]) -> tuple[set[str], list[str]]:
        """``--lf --skip-deps``: the failed tasks, and the dependencies that have no stored
        result (with theirs); the others' stored results stand in for them."""
        stored = self.cache.results() if self.cache is not None else {}
        by_name = {t.name: t for t in all_tasks}
        chosen, again = set(failed), []
        stack = list(failed)
        while stack:
            for dep in by_name[stack.pop()].after:
                if dep not in by_name or dep in chosen or dep in self.reused:
                    continue
                node = _node(by_name[dep])
                if self.outcomes.get(node) == PASSED and node in stored:
                    self.reused[dep] = stored[node]
                else:
                    chosen.add(dep)
                    again.append(dep)
                    stack.append(dep)
        return chosen, again

    def seed(self, state: dict[str, Any]) -> None:
        """The stored results of the dependencies ``--lf --skip-deps`` does not run, into
        ``state["results"]`` for the tasks that read them."""
        if self.reused:
            results = state.setdefault("results", {})
            for name, value in self.reused.items():
                results.setdefault(name, value)

    def expected(self, tasks: list[Task]) -> dict[str, float]:
        """Expected seconds per task name, for the scheduler; tasks never timed are left
        out (the scheduler estimates them)."""
        found = {}
        for task in tasks:
            seconds = self.durations.get(_node(task))
            if seconds is not None:
                found[task.name] = seconds
        return found

    @hookimpl
    def threaded_order_cli_report_header(self, config: Config) -> Optional[str]:
        return self.header

    # -- after the run ----------------------------------------------------------------

    @staticmethod
    def _results(summary: Summary, values: Any) -> tuple[dict[str, Any], set[str]]:
        """This run's results to keep (passed, and JSON keeps them) and to drop (ran and
        did not pass, or a value JSON cannot keep)."""
        kept: dict[str, Any] = {}
        dropped: set[str] = set()
        values = values if isinstance(values, dict) else {}
        for name, result in summary["tasks"].items():
            if result.start is None:
                continue
            if result.status == PASSED and name in values and cache.storable(values[name]):
                kept[result.node_id] = values[name]
            else:
                dropped.add(result.node_id)
        return kept, dropped

    @hookimpl
    def threaded_order_cli_unconfigure(self, config: Config, exitcode: int,
                                       summary: Optional[Summary]) -> None:
        if summary is None or self.cache is None:
            return
        outcomes, durations = {}, {}
        for result in summary["tasks"].values():
            node = result.node_id
            if result.start is not None:  # it started: what it did is its outcome
                outcomes[node] = result.status
                if result.status in _COMPLETED and result.error_type not in _NOT_COMPLETED:
                    durations[node] = max(0.0, float(result.duration))
            elif node not in self.outcomes:  # never started: keep what was known, if any
                outcomes[node] = result.status
        try:
            saved = self.cache.save(outcomes, durations)
            self.cache.save_results(*self._results(summary, config.state.get("results")))
        except OSError as exc:
            _warn(f"cannot write the cache in {self.cache.path}: {cache.problem(exc)}")
            saved = {k: {"mean": v, "last": v} for k, v in durations.items()}
        if self.store is not None:
            merged = cache.read_durations_file(self.store)
            merged.update((k, v["mean"]) for k, v in saved.items() if k in durations
                          or k in merged)
            try:
                cache.write_durations_file(self.store, merged)
            except OSError as exc:
                raise UsageError(f"--store-durations {self.store}: cannot write it: "
                                 f"{cache.problem(exc)}") from None


def check_options(params: dict[str, Any], rootdir: Path) -> None:
    """What the plugin's options cannot do, refused in one line before anything runs."""
    store = params.get("store_durations")
    if store is not None:
        folder = (rootdir / (store or cache.DURATIONS_FILE)).parent
        if not folder.is_dir():
            raise UsageError(f"--store-durations {store}: no such folder: {folder}")


def provider(config: Config) -> Optional[CacheProvider]:
    """The plugin, unless ``-p no:cacheprovider`` blocked it."""
    plugin: Any = config.plugin_manager.get_plugin(NAME)
    return plugin if isinstance(plugin, CacheProvider) else None


def critical_path_line(summary: Summary, arrow: str = "→") -> str:
    """``critical path: a → b → c 3.21 s of 3.40 s wall; efficiency 71 % of 8 workers``;
    empty when the core gave none (no task ran)."""
    path: dict[str, Any] = summary.get("critical_path") or {}
    usage: dict[str, Any] = summary.get("efficiency") or {}
    names = [safe_str(n) for n in path.get("tasks") or []]
    if not names or not usage.get("wall"):
        return ""
    workers = int(usage.get("workers", 0))
    if len(names) > 6:
        dots = "…" if arrow == "→" else "..."
        names = [*names[:2], f"{dots} {len(names) - 4} more", *names[-2:]]
    return (f"critical path: {f' {arrow} '.join(names)} {path.get('duration', 0.0):.2f} s of "
            f"{usage['wall']:.2f} s wall; efficiency {100 * usage.get('parallel', 0.0):.0f} % "
            f"of {workers} worker{'' if workers == 1 else 's'}")
