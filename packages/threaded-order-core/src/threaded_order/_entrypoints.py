"""Entry points of one group, read straight from ``*.dist-info`` folders on ``sys.path``.

Why: importing ``importlib.metadata`` (email, zipfile, csv, ...) and letting it parse every
installed distribution cost mtrun 20-60 ms on each start, more than all its plugins together.
This reads only the files that matter and finds the same entry points, in the same order
(``sys.path`` order, then folder order; the first distribution of a name wins). Anything it
cannot read the same way (zip files or eggs on ``sys.path``, a meta-path finder of its own
that offers distributions) makes ``scan`` return None, and the caller uses importlib.metadata.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any, Optional

_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_SUFFIXES = (".dist-info", ".egg-info")
# the importlib_metadata backport (imported by toolz, hence dask) adds this finder: it
# searches sys.path's dist-info folders just as the standard library's does
_SAME_AS_PATHFINDER = {("importlib_metadata", "MetadataPathFinder")}


class Dist:
    """Name and version of a distribution, read from its metadata headers on first use."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._headers: Optional[dict[str, str]] = None

    def _header(self, key: str) -> str:
        if self._headers is None:
            self._headers = _read_headers(self._path)
        return self._headers.get(key, "?")

    @property
    def name(self) -> str:
        return self._header("name")

    @property
    def version(self) -> str:
        return self._header("version")


class EntryPoint:
    """What plugin loading uses of ``importlib.metadata.EntryPoint``: name, dist, load()."""

    def __init__(self, name: str, value: str, group: str, dist: Dist) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def load(self) -> Any:
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: malformed value {self.value!r}")
        obj: Any = importlib.import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"


def _usable() -> bool:
    """Only plain folders on sys.path and no finder but PathFinder offering distributions."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is PathFinder or not callable(getattr(finder, "find_distributions", None)):
            continue
        kind = type(finder)
        if (kind.__module__, kind.__qualname__) not in _SAME_AS_PATHFINDER:
            return False
    for entry in sys.path:
        if not isinstance(entry, str) or entry.lower().endswith(".egg"):
            return False
        if entry and os.path.isfile(entry):  # a zip file on sys.path
            return False
    return True


def _normalize(stem: str) -> str:
    """The distribution name in a folder's name, as importlib.metadata compares them."""
    return re.sub(r"[-_.]+", "_", stem.partition("-")[0]).lower()


def scan(group: str) -> Optional[list[EntryPoint]]:
    """The group's entry points, or None when importlib.metadata must be asked instead."""
    if not _usable():
        return None
    seen: set[str] = set()
    found = []
    for entry in sys.path:
        folder = entry or "."
        try:
            children = os.listdir(folder)
        except OSError:
            continue
        for child in children:
            low = child.lower()
            if not low.endswith(_SUFFIXES):
                continue
            key = _normalize(child.rpartition(".")[0])
            if key in seen:
                continue
            seen.add(key)
            path = os.path.join(folder, child)
            text = _read(os.path.join(path, "entry_points.txt"))
            if text is None or f"[{group}]" not in text:
                continue
            dist = Dist(path)
            found += [EntryPoint(n, v, group, dist) for n, v in _section(text, group)]
    return found


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """``name = value`` pairs of one ``[group]`` in an entry_points.txt (ini-like) file."""
    pairs, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current == group and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def _read_headers(path: str) -> dict[str, str]:
    """Name and Version from METADATA (dist-info) or PKG-INFO (egg-info)."""
    text = _read(os.path.join(path, "METADATA"))
    if text is None:
        text = _read(os.path.join(path, "PKG-INFO")) or ""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the body (long description) starts after the first blank line
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in ("name", "version") and key not in headers:
            headers[key] = value.strip()
    return headers
