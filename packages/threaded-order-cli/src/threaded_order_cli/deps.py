"""What a test's ``after=`` names, once every file of the run is collected.

A dependency is a bare name (a task of the same file), a node id
(``path/from/rootdir.py::name``), or ``file.py::name`` with the path relative to the
dependent's own folder (or to the rootdir, or the unique file whose path ends so). A bare
name of a parametrized task means all of its instances; ``name[id]`` means one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple, Optional

__all__ = ["Resolved", "instances", "resolve", "suggestions"]


class Resolved(NamedTuple):
    """The node ids a dependency names; or, with ``outside``, the file outside the run
    that holds it (dropped, or imported with ``--with-deps``)."""

    ids: tuple[str, ...]
    outside: Optional[Path] = None


def instances(node: str, ids: Iterable[str]) -> tuple[str, ...]:
    """``node`` itself, or all of its parametrized instances ``node[...]``."""
    prefix = node + "["
    return tuple(i for i in ids if i == node or (i.startswith(prefix) and i.endswith("]")))


def resolve(dep: str, owner: Path, shown: str, ids: dict[str, None], rootdir: Path,
            display: dict[Path, str]) -> Resolved:
    """Resolve ``dep``, written in the file ``owner`` (shown as ``shown``); ``ids`` are the
    node ids collected so far, ``display`` maps each collected file to its shown path.
    An empty ``ids`` in the result means nothing matched."""
    if "::" not in dep:
        return Resolved(instances(f"{shown}::{dep}", ids))
    if dep in ids:
        return Resolved((dep,))
    where, _, name = dep.rpartition("::")  # "a.py::b::c" is not a thing: the last wins
    found = instances(dep, ids)
    if found:
        return Resolved(found)
    for base in (owner.parent, rootdir):
        try:
            path = (base / where).resolve()
        except (OSError, RuntimeError):
            continue
        shown_path = display.get(path)
        if shown_path is not None:
            found = instances(f"{shown_path}::{name}", ids)
            if found:
                return Resolved(found)
        elif path.is_file():
            return Resolved((), path)
    tail = "/" + where.replace("\\", "/").lstrip("./")
    matches = [p for p in set(display.values()) if ("/" + p).endswith(tail)]
    if len(matches) == 1:
        return Resolved(instances(f"{matches[0]}::{name}", ids))
    return Resolved(())


def suggestions(dep: str, shown: str, ids: Iterable[str], limit: int = 3) -> list[str]:
    """Near matches for an unknown dependency, best first: names close to its name (bare
    names in its own file, node ids in the others), ranked by the whole text."""
    prefix = shown + "::"
    word = dep.rpartition("::")[2]
    scored = []
    for node in ids:
        shown_as = node[len(prefix):] if node.startswith(prefix) else node
        if difflib.SequenceMatcher(None, word, node.rpartition("::")[2]).ratio() >= 0.8:
            scored.append((-difflib.SequenceMatcher(None, dep, shown_as).ratio(), shown_as))
    return [name for _, name in sorted(scored)[:limit]]
