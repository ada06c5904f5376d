"""Importing test files: by package name inside a package (as pytest's default ``prepend``
mode), by path otherwise, never under a name that shadows the standard library or an
installed module, and with their asserts rewritten (``rewrite``)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

from threaded_order.ext import safe_repr, safe_str, type_name

from . import rewrite
from .config import UsageError
from .terminal import visible

__all__ = ["MANGLED_PREFIX", "CollectError", "display_path", "import_file", "module_name",
           "origin"]

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


def display_path(path: Path, rootdir: Path) -> str:
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return path.as_posix()


def import_file(path: Path, rootdir: Path, rewrite_asserts: bool = True) -> ModuleType:
    """Import a test file; its folder goes last on sys.path, so sibling imports work but
    neither it nor its siblings can take the place of the standard library or an installed
    package, and the module never takes such a name (see ``module_name``). A file in a
    package (a folder with ``__init__.py``) is imported by its package name instead, as
    pytest's default mode does (see ``import_packaged``)."""
    parts = package_parts(path)
    if parts is not None:
        return import_packaged(path, parts, display_path(path, rootdir), rewrite_asserts)
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
        _execute(module, spec, path, rewrite_asserts)
    except KeyboardInterrupt:  # Ctrl-C: an interrupt, not this file's fault
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # SystemExit too: nothing may run after a broken import
        sys.modules.pop(name, None)
        raise _import_error(exc, path, shown) from exc
    return module


def package_parts(path: Path) -> Optional[list[str]]:
    """``[top, ..., stem]`` for a file in a package (each folder up to ``top`` has an
    ``__init__.py``), or None for a file that is not in one."""
    folder = path.parent
    if not (folder / "__init__.py").is_file():
        return None
    parts = [path.stem]
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not all(part.isidentifier() for part in parts):
        return None  # "my-tests/": no import statement can name it; imported as a file
    return parts


def _execute(module: ModuleType, spec: Any, path: Path, rewrite_asserts: bool) -> None:
    """Run a test module's code: with its asserts rewritten (see ``rewrite``), or as is."""
    code = rewrite.rewritten(path.read_bytes(), str(path)) if rewrite_asserts else None
    if code is None:  # --assert=plain, or a syntax error that the loader reports
        spec.loader.exec_module(module)
        return
    rewrite.install(module.__dict__)
    exec(code, module.__dict__)


def _import_named(name: str, path: Path, rewrite_asserts: bool) -> ModuleType:
    """Import the test module ``name`` (its packages first, as they are) from ``path``."""
    known = sys.modules.get(name)
    if known is not None:
        return known
    parent, _, child = name.rpartition(".")
    importlib.import_module(parent)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {name} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        _execute(module, spec, path, rewrite_asserts)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    setattr(sys.modules[parent], child, module)
    return module


def import_packaged(path: Path, parts: list[str], shown: str,
                    rewrite_asserts: bool = True) -> ModuleType:
    """Import ``top.sub.stem`` with the folder above ``top`` last on sys.path, so that
    ``from .helpers import X`` and ``from top.helpers import X`` work. When ``top`` is
    already another module's name (the standard library's, an installed package's), the
    package takes a private name instead (see ``MANGLED_PREFIX``): relative imports still
    work, and nothing installed is shadowed."""
    basedir = path.parents[len(parts) - 1]
    top_init = (basedir / parts[0] / "__init__.py").resolve()
    name = ".".join(parts)
    try:
        # Its own folder too, last, as for a file outside a package: "import helpers"
        # keeps working for suites written before packages were imported by name.
        for folder in (str(basedir), str(path.parent)):
            if folder not in sys.path:
                sys.path.append(folder)
        if not _free(parts[0], top_init):
            name = ".".join([_private_package(parts[0], top_init), *parts[1:]])
        module = _import_named(name, path, rewrite_asserts)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: nothing may run after a broken import
        raise _import_error(exc, path, shown) from exc
    if origin(module) != path:  # a namespace or a same-named module came first
        raise CollectError(shown, f"cannot be imported as {name!r}: that name is "
                                  f"{origin(module) or 'another module'}")
    return module


def _private_package(top: str, init: Path) -> str:
    """Load the package ``top`` under a private name (once) and return that name."""
    base = MANGLED_PREFIX + top
    name, number = base, 1
    while name in sys.modules and origin(sys.modules[name]) != init:
        number += 1
        name = f"{base}:{number}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(init.parent)])
        if spec is None or spec.loader is None:
            raise CollectError(str(init), "cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    return name


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
    while name in sys.modules and origin(sys.modules[name]) != path:
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
        return origin(sys.modules[name]) == path
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


def origin(module: ModuleType) -> Optional[Path]:
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
