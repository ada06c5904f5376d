"""Collection: find the target files, import them, and turn marked functions into tasks."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, NamedTuple, Optional

from threaded_order import DAGraph, Task, TaskGraphError
from threaded_order.ext import marked_functions, safe_repr, safe_str, task_from_marked, type_name

from .config import EXIT_NO_TESTS, UsageError
from .tagexpr import compile_tags
from .terminal import visible

# pytest's default norecursedirs, plus what no test suite keeps its tests in; a folder that
# holds a pyvenv.cfg (a virtualenv) is skipped too. Configuration may add patterns.
NORECURSEDIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv",
                 "{arch}", "*.egg-info", "__pycache__")
# Test modules that cannot take their own name (it is the standard library's, an installed
# package's, or another test module's) get one no import statement can spell.
MANGLED_PREFIX = "mtrun:"


class CollectError(UsageError):
    """Collection failed in a file: one line, with the file (and line) it is about."""

    def __init__(self, path: str, message: str) -> None:
        message = visible(message, layout=True)  # the user's text, shown on a terminal
        super().__init__(f"{visible(path)}: {message}" if path else message)
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


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return path.as_posix()


def import_file(path: Path, rootdir: Path) -> ModuleType:
    """Import a test file; its folder goes last on sys.path, so sibling imports work but
    neither it nor its siblings can take the place of the standard library or an installed
    package, and the module never takes such a name (see ``module_name``)."""
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    shown = display_path(path, rootdir)
    name = module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CollectError(shown, "cannot be imported (not a Python file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:  # Ctrl-C: an interrupt, not this file's fault
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # SystemExit too: nothing may run after a broken import
        sys.modules.pop(name, None)
        raise _import_error(exc, path, shown) from exc
    return module


def _import_error(exc: BaseException, path: Path, shown: str) -> CollectError:
    # file:line only when the syntax error is in the target itself; one in a module it
    # imports says where it is in its message: "invalid syntax (helper.py, line 3)".
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return CollectError(f"{shown}:{exc.lineno}", f"{type_name(exc)}: {safe_str(exc.msg)}")
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else safe_repr(exc.code)
        return CollectError(shown, f"error while importing: sys.exit({code}) was called")
    message = safe_str(exc)
    return CollectError(shown, f"error while importing: {type_name(exc)}"
                               + (f": {message}" if message else ""))


def module_name(path: Path) -> str:
    """The file's name without ``.py`` when that names nothing else; otherwise a name no
    import statement can spell, so ``sys.modules`` never loses the module of that name."""
    stem = path.stem
    if _free(stem, path):
        return stem
    base = MANGLED_PREFIX + stem.replace(".", "_")
    name, number = base, 1
    while name in sys.modules and _origin(sys.modules[name]) != path:
        number += 1
        name = f"{base}:{number}"
    return name


def _free(name: str, path: Path) -> bool:
    """No module but this file goes by ``name``: loaded, or importable by any finder (an
    editable install may have its own, before or after the file system's)."""
    if not name.isidentifier() or name in sys.builtin_module_names or \
            name in getattr(sys, "stdlib_module_names", ()):
        return False
    if name in sys.modules:
        return _origin(sys.modules[name]) == path
    for finder in list(sys.meta_path):
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, None)
        except Exception:  # a broken finder: better a private name than a wrong guess
            return False
        if spec is not None and not (isinstance(spec.origin, str) and _same(spec.origin, path)):
            return False
    return True


def _origin(module: ModuleType) -> Optional[Path]:
    filename = getattr(module, "__file__", None)
    if not isinstance(filename, str):
        return None
    try:
        return Path(filename).resolve()
    except (OSError, RuntimeError):
        return None


def _same(filename: str, path: Path) -> bool:
    try:
        return Path(filename).resolve() == path
    except (OSError, RuntimeError):
        return False


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
    norecursedirs: Iterable[str] = (),
) -> Collected:
    """Import every target and build the tasks to run, validated as one graph."""
    files = find_files([parse_target(t) for t in targets], norecursedirs)
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
        if _origin(module) == path:
            return module
    module = import_file(path, rootdir)
    modules.append(module)
    return module


def _module_tasks(module: ModuleType, shown: str, single: bool) -> list[Task]:
    tasks = []
    try:  # a module-level object whose attributes raise must not be an internal error
        for fn in marked_functions(module):
            task = task_from_marked(fn, module=shown)
            name = getattr(fn, "__name__", None)
            name = name if isinstance(name, str) else task.name
            tasks.append(task._replace(name=name if single else f"{shown}::{name}",
                                       after=tuple(_qualify(d, shown, single)
                                                   for d in task.after)))
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
