"""Collection: find the target files, import them, and turn marked functions into tasks."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, NamedTuple, Optional

from threaded_order import DAGraph, Task, TaskGraphError, tasks_from_marked
from threaded_order.ext import marked_functions, safe_str, type_name

from .config import EXIT_NO_TESTS, UsageError
from .deps import instances, resolve, suggestions
from .importing import (
    CollectError as CollectError,  # re-exported: collection errors are collect's
)
from .importing import (
    display_path,
    import_file,
)
from .importing import origin as _origin
from .tagexpr import compile_tags

# pytest's default norecursedirs, plus what no test suite keeps its tests in; a folder that
# holds a pyvenv.cfg (a virtualenv) is skipped too. Configuration may add patterns.
NORECURSEDIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                 "{arch}", "*.egg-info", "__pycache__")
class Target(NamedTuple):
    path: Path
    function: Optional[str]


class Collected(NamedTuple):
    """What a run needs: the tasks to run, in order, and every module's setup hooks."""

    tasks: list[Task]
    modules: list[ModuleType]
    all_tasks: list[Task]
    notes: tuple[str, ...] = ()  # one line each, for the user: dependencies dropped


def parse_target(text: str) -> Target:
    path, sep, function = text.partition("::")
    if sep and not function:
        raise UsageError(f"target {text!r} has '::' but no function name")
    return Target(Path(path), function or None)


def find_files(
    targets: list[Target], norecursedirs: Iterable[str] = ()
) -> list[tuple[Path, Optional[str]]]:
    """Files in the order given; a folder yields its test_*.py and *_test.py files, sorted.
    ``norecursedirs`` adds fnmatch patterns of folders not to search below a target."""
    found: list[tuple[Path, Optional[str]]] = []
    for target in targets:
        path = target.path
        if not path.exists():
            raise UsageError(f"file or folder not found: {path}")
        if path.is_dir():
            if target.function:
                raise UsageError(f"{path} is a folder; '::{target.function}' needs a file")
            found.extend((p, None) for p in _test_files(path, norecursedirs))
        else:
            found.append((path, target.function))
    seen: dict[tuple[Path, Optional[str]], None] = {}
    for path, function in found:
        seen.setdefault((path.resolve(), function), None)
    return list(seen)


def _test_files(folder: Path, norecursedirs: Iterable[str] = ()) -> list[Path]:
    """Below a folder, sorted. Like pytest, folders matching ``NORECURSEDIRS`` (or the extra
    patterns) and virtualenvs are not searched: ``mtrun .`` must not run the test files of
    ``build/``, ``.venv`` or ``node_modules``. The folder itself is searched whatever its name.
    """
    patterns = (*NORECURSEDIRS, *norecursedirs)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not _skipped(dirpath, d, patterns)]
        found.extend(Path(dirpath, f) for f in filenames if f.endswith(".py")
                     and (f.startswith("test_") or f[:-3].endswith("_test")))
    return sorted(found)


def _skipped(parent: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns) or \
        os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def collect(
    targets: list[str],
    rootdir: Path,
    *,
    tags: Optional[str] = None,
    with_deps: bool = False,
    norecursedirs: Iterable[str] = (),
    rewrite_asserts: bool = True,
) -> Collected:
    """Import every target and build the tasks to run, validated as one graph.

    Tasks are named by node id (``path/from/rootdir.py::name``) while collecting; a run of
    one module then keeps the original's bare names (``state["results"]``, callbacks).
    ``rewrite_asserts`` (off with ``--assert=plain``): see ``rewrite``."""
    files = find_files([parse_target(t) for t in targets], norecursedirs)
    modules: list[ModuleType] = []
    per_file: dict[Path, list[Task]] = {}
    display: dict[Path, str] = {}
    wanted: dict[str, None] = {}
    for path, function in files:
        tasks = _file_tasks(path, rootdir, modules, per_file, display, rewrite_asserts)
        if function is None:
            wanted.update((t.name, None) for t in tasks)
            continue
        shown = display[path]
        found = instances(f"{shown}::{function}", (t.name for t in tasks))
        if not found:
            raise UsageError(f"not found: {shown}::{function} (no function of that name is "
                             "marked with @dmark)")
        wanted.update(dict.fromkeys(found))
    if not any(per_file.values()):
        shown_targets = ", ".join(targets)
        raise UsageError(f"no tasks collected from {shown_targets} (no function is marked with "
                         "@dmark)", EXIT_NO_TESTS)
    notes: list[str] = []
    all_tasks = _resolve_all(per_file, display, rootdir, modules, with_deps, notes,
                             rewrite_asserts)
    if len(per_file) == 1:  # one module: the bare names of the original
        prefix = len(next(iter(display.values()))) + 2
        all_tasks = [t._replace(name=t.name[prefix:], after=tuple(d[prefix:] for d in t.after))
                     for t in all_tasks]
        wanted = {name[prefix:]: None for name in wanted}
    _validate(all_tasks)
    selected = _select(all_tasks, list(wanted), tags, with_deps)
    return Collected(selected, modules, all_tasks, tuple(notes))


def _file_tasks(path: Path, rootdir: Path, modules: list[ModuleType],
                per_file: dict[Path, list[Task]], display: dict[Path, str],
                rewrite_asserts: bool) -> list[Task]:
    """Import ``path`` once and read its tasks, named by node id, ``after`` as written."""
    if path not in per_file:
        shown = display_path(path, rootdir)
        module = _import_once(path, rootdir, modules, rewrite_asserts)
        per_file[path] = _module_tasks(module, shown)
        display[path] = shown
    return per_file[path]


def _resolve_all(per_file: dict[Path, list[Task]], display: dict[Path, str], rootdir: Path,
                 modules: list[ModuleType], with_deps: bool, notes: list[str],
                 rewrite_asserts: bool) -> list[Task]:
    """Every ``after`` as node ids (see ``deps``). A dependency in a file outside the run
    is imported with ``with_deps``, or dropped with a note."""
    while True:
        ids = {t.name: None for tasks in per_file.values() for t in tasks}
        pulled: list[Path] = []
        for path, tasks in per_file.items():
            shown = display[path]
            for i, task in enumerate(tasks):
                after: dict[str, None] = {}
                for dep in task.after:
                    found = resolve(dep, path, shown, ids, rootdir, display)
                    if found.outside is not None and found.outside in per_file:
                        found = found._replace(outside=None)  # imported: not in it after all
                    if found.outside is not None and with_deps:
                        pulled.append(found.outside)
                        after[dep] = None  # resolved on the next round, once imported
                    elif found.outside is not None:
                        notes.append(f"{task.name}: dependency {dep!r} is not in this run "
                                     "(dropped; --with-deps runs it)")
                    elif not found.ids:
                        raise CollectError(shown, _unknown(task.name, dep, shown, ids))
                    else:
                        after.update(dict.fromkeys(found.ids))
                after.pop(task.name, None)  # "name" on its own instance: not a dependency
                tasks[i] = task._replace(after=tuple(after))
        if not pulled:
            return [t for tasks in per_file.values() for t in tasks]
        for path in pulled:
            _file_tasks(path, rootdir, modules, per_file, display, rewrite_asserts)


def _unknown(task: str, dep: str, shown: str, ids: dict[str, None]) -> str:
    name = task[len(shown) + 2:] if task.startswith(shown + "::") else task
    close = suggestions(dep, shown, (i for i in ids if i != task))
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"task {name!r} depends on unknown {dep!r}{hint}"


def _import_once(path: Path, rootdir: Path, modules: list[ModuleType],
                 rewrite_asserts: bool = True) -> ModuleType:
    for module in modules:
        if _origin(module) == path:
            return module
    module = import_file(path, rootdir, rewrite_asserts)
    modules.append(module)
    return module


def _module_tasks(module: ModuleType, shown: str) -> list[Task]:
    tasks = []
    try:  # a module-level object whose attributes raise must not be an internal error
        for fn in marked_functions(module):
            name = getattr(fn, "__name__", None)
            name = name if isinstance(name, str) and name else None
            for task in tasks_from_marked(fn, module=shown, name=name):  # name[id] too
                tasks.append(task._replace(name=f"{shown}::{task.name}"))
    except Exception as exc:
        raise CollectError(shown, f"cannot read its tasks: {type_name(exc)}: {safe_str(exc)}") \
            from exc
    return tasks


def _validate(tasks: list[Task]) -> None:
    """Unknown dependencies and cycles over everything collected, named with their file."""
    try:
        DAGraph().add_all(tasks)
    except TaskGraphError as exc:
        path = ""
        task_name = getattr(exc, "task", None)
        for task in tasks:
            if task.name == task_name:
                path = task.module or ""
        raise CollectError(path, str(exc)) from exc


def _select(
    tasks: list[Task], wanted: list[str], tags: Optional[str], with_deps: bool
) -> list[Task]:
    """Apply ``::name`` and ``--tags``; add dependencies (--with-deps) or drop them."""
    chosen = set(wanted)
    if tags is not None:
        match: Callable[[Any], bool] = compile_tags(tags)
        chosen = {t.name for t in tasks if t.name in chosen and t.tags and match(set(t.tags))}
    return selection(tasks, chosen, with_deps)


def selection(tasks: list[Task], chosen: set[str], with_deps: bool) -> list[Task]:
    """The ``chosen`` tasks in collection order, with every task they depend on (directly
    or not) when ``with_deps``; dependencies left out are dropped from ``after``.
    ``--with-deps``, ``-k`` and ``--lf`` all select through here."""
    chosen = set(chosen)
    if with_deps:
        by_name = {t.name: t for t in tasks}
        stack = list(chosen)
        while stack:
            for dep in by_name[stack.pop()].after:
                if dep in by_name and dep not in chosen:
                    chosen.add(dep)
                    stack.append(dep)
    return [t._replace(after=tuple(d for d in t.after if d in chosen))
            for t in tasks if t.name in chosen]
