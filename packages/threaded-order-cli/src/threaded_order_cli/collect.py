"""Collection: find the target files, import them, and turn marked functions into tasks."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, NamedTuple, Optional

from threaded_order import DAGraph, Task, TaskGraphError
from threaded_order.markers import marked_functions, task_from_marked

from .config import EXIT_NO_TESTS, UsageError
from .tagexpr import compile_tags

_SKIP_DIRS = {"__pycache__", "node_modules"}


class CollectError(UsageError):
    """Collection failed in a file: one line, with the file (and line) it is about."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.detail = message


class Target(NamedTuple):
    path: Path
    function: Optional[str]


class Collected(NamedTuple):
    """What a run needs: the tasks to run, in order, and every module's setup hooks."""

    tasks: list[Task]
    modules: list[ModuleType]
    all_tasks: list[Task]


def parse_target(text: str) -> Target:
    path, sep, function = text.partition("::")
    if sep and not function:
        raise UsageError(f"target {text!r} has '::' but no function name")
    return Target(Path(path), function or None)


def find_files(targets: list[Target]) -> list[tuple[Path, Optional[str]]]:
    """Files in the order given; a folder yields its test_*.py and *_test.py files, sorted."""
    found: list[tuple[Path, Optional[str]]] = []
    for target in targets:
        path = target.path
        if not path.exists():
            raise UsageError(f"file or folder not found: {path}")
        if path.is_dir():
            if target.function:
                raise UsageError(f"{path} is a folder; '::{target.function}' needs a file")
            found.extend((p, None) for p in _test_files(path))
        else:
            found.append((path, target.function))
    seen: dict[tuple[Path, Optional[str]], None] = {}
    for path, function in found:
        seen.setdefault((path.resolve(), function), None)
    return list(seen)


def _test_files(folder: Path) -> list[Path]:
    """Below a folder, sorted. Like pytest, hidden folders, ``__pycache__``, ``node_modules``
    and virtualenvs are not searched: ``mtrun .`` must not import a ``.venv``'s test files."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS
                       and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))]
        found.extend(Path(dirpath, f) for f in filenames if f.endswith(".py")
                     and (f.startswith("test_") or f[:-3].endswith("_test")))
    return sorted(found)


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return path.as_posix()


def import_file(path: Path, rootdir: Path) -> ModuleType:
    """Import a file as a module whose folder is on sys.path, so sibling imports work."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) != str(path):
        name = display_path(path, rootdir).replace("/", ".").removesuffix(".py")
    shown = display_path(path, rootdir)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CollectError(shown, "cannot be imported (not a Python file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        # file:line only when the syntax error is in the target itself; one in a module it
        # imports says where it is in its message: "invalid syntax (helper.py, line 3)".
        if isinstance(exc, SyntaxError) and exc.filename == str(path):
            raise CollectError(f"{shown}:{exc.lineno}", f"{type(exc).__name__}: {exc.msg}") \
                from exc
        raise CollectError(shown, f"error while importing: {type(exc).__name__}: {exc}") \
            from exc
    return module


def _qualify(dep: str, shown: str, single: bool) -> str:
    """A bare name means the same module; "other.py::name" means another one."""
    if "::" in dep:
        return dep.split("::", 1)[1] if single and dep.split("::", 1)[0] == shown else dep
    return dep if single else f"{shown}::{dep}"


def collect(
    targets: list[str],
    rootdir: Path,
    *,
    tags: Optional[str] = None,
    with_deps: bool = False,
) -> Collected:
    """Import every target and build the tasks to run, validated as one graph."""
    files = find_files([parse_target(t) for t in targets])
    single = len({path for path, _ in files}) == 1
    modules: list[ModuleType] = []
    all_tasks: list[Task] = []
    wanted: dict[str, None] = {}
    for path, function in files:
        shown = display_path(path, rootdir)
        count = len(modules)
        module = _import_once(path, rootdir, modules)
        tasks = _module_tasks(module, shown, single)
        if len(modules) > count:
            all_tasks.extend(tasks)
        if function is None:
            wanted.update((t.name, None) for t in tasks)
            continue
        name = function if single else f"{shown}::{function}"
        if not any(t.name == name for t in tasks):
            raise UsageError(f"not found: {shown}::{function} (no function of that name is "
                             "marked with @dmark)")
        wanted[name] = None
    if not all_tasks:
        shown_targets = ", ".join(targets)
        raise UsageError(f"no tasks collected from {shown_targets} (no function is marked with "
                         "@dmark)", EXIT_NO_TESTS)
    _validate(all_tasks)
    selected = _select(all_tasks, list(wanted), tags, with_deps)
    return Collected(selected, modules, all_tasks)


def _import_once(path: Path, rootdir: Path, modules: list[ModuleType]) -> ModuleType:
    for module in modules:
        if getattr(module, "__file__", None) == str(path):
            return module
    module = import_file(path, rootdir)
    modules.append(module)
    return module


def _module_tasks(module: ModuleType, shown: str, single: bool) -> list[Task]:
    tasks = []
    for fn in marked_functions(module):
        name = fn.__name__
        task = task_from_marked(fn, name if single else f"{shown}::{name}", shown)
        tasks.append(task._replace(after=tuple(_qualify(d, shown, single) for d in task.after)))
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
    if with_deps:
        by_name = {t.name: t for t in tasks}
        stack = list(chosen)
        while stack:
            for dep in by_name[stack.pop()].after:
                if dep not in chosen:
                    chosen.add(dep)
                    stack.append(dep)
    selected = []
    for task in tasks:
        if task.name in chosen:
            selected.append(task._replace(after=tuple(d for d in task.after if d in chosen)))
    return selected
