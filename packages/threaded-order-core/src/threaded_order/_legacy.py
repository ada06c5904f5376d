"""Versions from the installed metadata, and a warning when threaded-order 1.x shares the install.

threaded-order 1.x shipped the same ``threaded_order`` package under the same distribution
name. pip replaces it cleanly when it upgrades, but ``pip install --ignore-installed``,
``pip install --target`` into a folder that held 1.x, or copied folders can leave 1.x's modules
or its ``.dist-info`` beside ours; uninstalling 1.x then deletes our ``__init__.py``,
``graph.py`` and ``scheduler.py``. One warning at import says so before that happens.

Why not importlib.metadata: importing it and scanning every distribution costs more than the
rest of ``import threaded_order``. One listing of the folder that holds the package (a few
more on an editable install) gives both our version and 1.x's metadata.
"""

from __future__ import annotations

import os
import re
import sys
import warnings

DIST = "threaded-order"
UNKNOWN = "0+unknown"
_LEGACY = ("0.", "1.")  # versions of threaded-order 1.x (and before)
# modules that only 1.x had (1.0 to 1.8.1): 2.x must never add a module of one of these names
LEGACY_MODULES = ("runner.py", "graph_summary.py", "timer.py", "logger.py", "threaded.py",
                  "torun.py")


class LegacyInstallWarning(UserWarning):
    """Files or metadata of threaded-order 1.x are installed beside 2.x's."""


def _metadata(folder: str, dist: str) -> dict[str, str]:
    """``{version: folder name}`` of the metadata folders of ``dist`` in ``folder``:
    ``threaded_order-2.0.0.dist-info``, ``threaded_order-1.8.1-py3.11.egg-info``."""
    prefix = dist.replace("-", "_").lower() + "-"  # no regex: compiling one costs more
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    found = {}
    for name in names:
        low = name.lower()
        if low.startswith(prefix) and low.endswith((".dist-info", ".egg-info")):
            found[name[len(prefix) :].rpartition(".")[0].partition("-")[0]] = name
    return found


def _metadata_of(dist: str, package_dir: str) -> dict[str, str]:
    """``dist``'s metadata folders: those beside the package (an installed wheel), else those
    in the first folder on ``sys.path`` that has some (an editable install)."""
    found = _metadata(os.path.dirname(package_dir), dist)
    for entry in sys.path if not found else ():
        found = _metadata(entry or ".", dist) if isinstance(entry, str) else {}
        if found:
            break
    return found


def _newest(versions: list[str]) -> str:
    if len(versions) == 1:
        return versions[0]

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", version.partition("+")[0])[:3])

    return max(versions, key=key)


def _from_importlib(dist: str) -> str:
    """For what a folder listing cannot read (zip files, eggs, finders of their own)."""
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return UNKNOWN


def installed_version(dist: str, init_file: str) -> str:
    """The version in the installed metadata of ``dist``, whose package's ``__init__.py`` is
    ``init_file``; ``0+unknown`` when there is none."""
    found = _metadata_of(dist, os.path.dirname(os.path.abspath(init_file)))
    return _newest(list(found)) if found else _from_importlib(dist)


def check(init_file: str) -> str:
    """Warn in one line when 1.x's files or metadata are beside this package (whose
    ``__init__.py`` is ``init_file``); return 2.x's version in the installed metadata."""
    package_dir = os.path.dirname(os.path.abspath(init_file))
    found = _metadata_of(DIST, package_dir)
    ours = [v for v in found if not v.startswith(_LEGACY)]
    version = _newest(ours) if ours else _from_importlib(DIST)
    if version.startswith(_LEGACY):  # importlib.metadata found only 1.x's metadata
        version = UNKNOWN
    legacy = [found[v] for v in found if v not in ours]
    legacy += [f"{os.path.basename(package_dir)}/{m}" for m in LEGACY_MODULES
               if os.path.exists(os.path.join(package_dir, m))]
    if legacy:
        warnings.warn_explicit(  # at line 0 of the package: one line, no source line
            f"threaded-order 1.x is installed beside threaded-order {version} "
            f"({', '.join(sorted(legacy))}); uninstalling 1.x would delete files of "
            f"{version}. Repair: run 'pip uninstall -y {DIST}' until none is left, then "
            f"'pip install {DIST}'",
            LegacyInstallWarning, filename=package_dir, lineno=0, module="threaded_order")
    return version
