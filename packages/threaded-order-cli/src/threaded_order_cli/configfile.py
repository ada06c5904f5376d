"""Configuration files and the rootdir, as pytest finds them.

The rootdir is the nearest folder, from the current one up, that holds ``pyproject.toml``,
``mtrun.toml`` or ``.git`` (the current folder when none does); ``--rootdir`` overrides it and
``-c FILE`` names the file (its folder is then the rootdir). ``mtrun.toml`` holds the keys at
its top level, ``pyproject.toml`` under ``[tool.mtrun]``. Every key becomes options put before
the command line's, so the command line wins. Other keys are plugins' settings
(``settings.py``); one that no plugin declares is an error, not ignored.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any, NamedTuple, Optional

from .config import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the oldest Pythons only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

MARKERS = ("pyproject.toml", "mtrun.toml", ".git")
KEYS = ("addopts", "testpaths", "norecursedirs", "workers", "reporters", "timeout", "retries",
        "limits", "state")


class FileConfig(NamedTuple):
    """The rootdir, the file read (None: none), and the options and values it gave."""

    rootdir: Path
    path: Optional[Path]
    args: list[str]  # options from the keys, then addopts; before the command line's
    testpaths: list[str]
    norecursedirs: list[str]
    state: dict[str, Any]
    settings: dict[str, Any] = {}  # the keys left for plugins' settings
    label: str = ""  # how errors name the file: "pyproject.toml: [tool.mtrun]"

    def shown_path(self) -> str:
        if self.path is None:
            return ""
        try:
            return self.path.relative_to(self.rootdir).as_posix()
        except ValueError:
            return str(self.path)


def prescan(argv: list[str]) -> tuple[Optional[str], Optional[str]]:
    """``-c FILE`` and ``--rootdir DIR``, read before parsing (addopts changes the parse)."""
    found: dict[str, Optional[str]] = {"-c": None, "--rootdir": None}
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        for name in found:
            if arg == name and i + 1 < len(argv):
                found[name] = argv[i + 1]
            elif arg.startswith(name + "="):
                found[name] = arg[len(name) + 1:]
            elif name == "-c" and arg.startswith("-c") and not arg.startswith("--") \
                    and len(arg) > 2:
                found[name] = arg[2:]
    return found["-c"], found["--rootdir"]


def load(argv: list[str], cwd: Path) -> FileConfig:
    """Find and read the configuration for this command line."""
    file_arg, rootdir_arg = prescan(argv)
    rootdir: Optional[Path] = None
    if rootdir_arg is not None:
        rootdir = (cwd / rootdir_arg).resolve()
        if not rootdir.is_dir():
            raise UsageError(f"--rootdir {rootdir_arg}: not a folder")
    path: Optional[Path] = None
    if file_arg is not None:
        path = (cwd / file_arg).resolve()
        if not path.is_file():
            raise UsageError(f"-c {file_arg}: configuration file not found")
        rootdir = rootdir or path.parent
    else:
        found = _discover(rootdir or cwd.resolve())
        rootdir = rootdir or (found or cwd.resolve())
        if found is not None:
            path = next((found / name for name in ("mtrun.toml", "pyproject.toml")
                         if (found / name).is_file()), None)
    table = _read(path) if path is not None else None
    if table is None:
        return FileConfig(rootdir, None, [], [], [], {})
    return _from_table(table, rootdir, path)  # type: ignore[arg-type]


def _discover(start: Path) -> Optional[Path]:
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in MARKERS):
            return folder
    return None


def _read(path: Path) -> Optional[dict[str, Any]]:
    """The mtrun table of the file; None for a pyproject.toml without ``[tool.mtrun]``."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    if path.name != "pyproject.toml":
        return dict(data)
    tool = data.get("tool", {})
    table = tool.get("mtrun") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.mtrun] must be a table")
    return table


def _from_table(table: dict[str, Any], rootdir: Path, path: Path) -> FileConfig:
    where = f"{path}: [tool.mtrun]" if path.name == "pyproject.toml" else str(path)

    def fail(key: str, what: str) -> UsageError:
        return UsageError(f"{where}: {key}: {what}")

    args: list[str] = []
    if "workers" in table:
        args += ["--workers", str(_integer(table["workers"], 1, fail("workers", "want an "
                                                                       "integer >= 1")))]
    if "timeout" in table:
        value = table["timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail("timeout", "want a number of seconds > 0")
        args += ["--timeout", repr(value)]
    if "retries" in table:
        args += ["--retries", str(_integer(table["retries"], 0, fail("retries", "want an "
                                                                       "integer >= 0")))]
    limits = table.get("limits", {})
    if not isinstance(limits, dict):
        raise fail("limits", "want a table of GROUP = N")
    for group, number in limits.items():
        least_one = fail("limits", f"{group}: want an integer >= 1")
        args += ["--limit", f"{group}={_integer(number, 1, least_one)}"]
    for reporter in _strings(table, "reporters", fail):
        args += ["--reporter", reporter]
    addopts = table.get("addopts", [])
    if isinstance(addopts, str):
        try:
            addopts = shlex.split(addopts)
        except ValueError as exc:
            raise fail("addopts", str(exc)) from None
    args += _strings({"addopts": addopts}, "addopts", fail)
    state = table.get("state", {})
    if not isinstance(state, dict):
        raise fail("state", "want a table of KEY = VALUE")
    for key in state:
        if key.startswith("_") or key == "results":
            raise fail("state", f"{key!r} is a reserved key")
    return FileConfig(rootdir, path, args, _strings(table, "testpaths", fail),
                      _strings(table, "norecursedirs", fail), dict(state),
                      {key: value for key, value in table.items() if key not in KEYS}, where)


def _integer(value: Any, least: int, error: UsageError) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise error
    return int(value)


def _strings(table: dict[str, Any], key: str, fail: Any) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str) and key != "addopts":
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "want a list of strings")
    return list(value)


def describe(config: FileConfig) -> list[str]:
    """For ``--show-config``: the file, and what it set."""
    if config.path is None:
        return [f"rootdir: {config.rootdir}", "configfile: none"]
    lines = [f"rootdir: {config.rootdir}", f"configfile: {config.shown_path()}"]
    if config.args:
        lines.append("options: " + shlex.join(config.args))
    if config.testpaths:
        lines.append("testpaths: " + ", ".join(config.testpaths))
    if config.norecursedirs:
        lines.append("norecursedirs: " + ", ".join(config.norecursedirs))
    if config.state:
        lines.append("state keys: " + ", ".join(config.state))
    return lines
