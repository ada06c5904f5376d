"""The files that outlive a run: ``.mtrun_cache/`` at the rootdir, and the committed
durations file (``--store-durations``).

Every write is whole or absent: a temporary file in the same folder, then ``os.replace``;
so concurrent runs in one checkout never leave a torn file, and the last writer wins. A file
that cannot be read (missing, torn by something else, not ours) counts as empty: history
only helps a run, it must never stop one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

from threaded_order.ext import safe_str

__all__ = ["DIRNAME", "DURATIONS_FILE", "Cache", "Durations", "problem", "read_durations_file",
           "storable", "write_durations_file", "write_json"]

DIRNAME = ".mtrun_cache"
DURATIONS_FILE = ".mtrun-durations.json"
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by mtrun.\n"
        "# For information about cache directory tags, see:\n"
        "#\thttps://bford.info/cachedir/spec.html\n")
_GITIGNORE = "# Created by mtrun automatically.\n*\n"
RESULT_LIMIT = 100_000  # characters of JSON: a bigger return value is not kept
_SMOOTHING = 0.3  # weight of the newest duration in the smoothed mean

# node id: {"mean": seconds (exponentially weighted), "last": seconds}
Durations = dict[str, dict[str, float]]


def write_json(path: Path, data: Any, *, indent: Optional[int] = None) -> None:
    """Write ``data`` as JSON to ``path`` whole."""
    _write_text(path, json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False)
                + "\n")


def _write_text(path: Path, text: str) -> None:
    """A temporary file beside ``path``, then a rename: whole or absent, and no temporary
    file left behind when it fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _seconds(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if 0.0 <= value < 1e9 else None  # nan and inf fail both


class Cache:
    """``.mtrun_cache/`` in ``rootdir``: outcomes and durations per node id."""

    def __init__(self, rootdir: Path) -> None:
        self.path = rootdir / DIRNAME

    def _file(self, name: str) -> Path:
        return self.path / "v" / name

    def clear(self) -> None:
        """``--cache-clear``: empty it (another run may be writing: what is gone is gone)."""
        shutil.rmtree(self.path, ignore_errors=True)

    def _make(self) -> None:
        """The folder, tagged so that backup tools and git leave it alone."""
        (self.path / "v").mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", _GITIGNORE)):
            target = self.path / name
            if not target.exists():
                _write_text(target, text)

    # -- outcomes ---------------------------------------------------------------------

    def outcomes(self) -> dict[str, str]:
        """The last known status per node id (``failed``, ``passed``...)."""
        data = _read_json(self._file("outcomes.json"))
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def durations(self) -> Durations:
        data = _read_json(self._file("durations.json"))
        if not isinstance(data, dict):
            return {}
        found: Durations = {}
        for key, entry in data.items():
            if not isinstance(entry, dict):
                continue
            mean, last = _seconds(entry.get("mean")), _seconds(entry.get("last"))
            if isinstance(key, str) and mean is not None and last is not None:
                found[key] = {"mean": mean, "last": last}
        return found

    # -- results, for --lf --skip-deps --------------------------------------------------

    def results(self) -> dict[str, Any]:
        """The last return value per node id, for the passed tasks whose value JSON keeps
        exactly (see ``storable``)."""
        data = _read_json(self._file("results.json"))
        return data if isinstance(data, dict) else {}

    def save_results(self, kept: dict[str, Any], dropped: set[str]) -> None:
        """Merge this run's storable values in; ``dropped`` (ran, and did not pass or gave
        a value JSON cannot keep) lose theirs."""
        merged = {k: v for k, v in self.results().items() if k not in dropped}
        merged.update(kept)
        self._make()
        write_json(self._file("results.json"), merged)

    def save(self, outcomes: dict[str, str], durations: dict[str, float]) -> Durations:
        """Merge this run's outcomes and completed durations into the cache; returns the
        durations as saved."""
        self._make()
        merged_outcomes = self.outcomes()
        merged_outcomes.update(outcomes)
        merged = self.durations()
        for node, seconds in durations.items():
            old = merged.get(node)
            mean = seconds if old is None else \
                (1 - _SMOOTHING) * old["mean"] + _SMOOTHING * seconds
            merged[node] = {"mean": round(mean, 6), "last": round(seconds, 6)}
        write_json(self._file("outcomes.json"), merged_outcomes)
        write_json(self._file("durations.json"), merged)
        return merged


def storable(value: Any) -> bool:
    """Whether JSON gives ``value`` back equal and of the same types (no tuple becomes a
    list, no int key a string, no NaN), in at most ``RESULT_LIMIT`` characters: only then
    can a stored result stand in for a run, and the cache stays small."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    if len(text) > RESULT_LIMIT:
        return False
    copy = json.loads(text)
    return bool(copy == value) and _same_types(copy, value)


def _same_types(copy: Any, value: Any) -> bool:
    if type(copy) is not type(value):
        return False
    if isinstance(value, dict):
        return all(_same_types(copy[k], v) for k, v in value.items())
    if isinstance(value, list):
        return all(_same_types(c, v) for c, v in zip(copy, value))
    return True


def read_durations_file(path: Path) -> dict[str, float]:
    """The committed durations file: ``{node id: seconds}``; missing or unreadable: empty."""
    data = _read_json(path)
    if not isinstance(data, dict):
        return {}
    found = {}
    for key, value in data.items():
        seconds = _seconds(value)
        if isinstance(key, str) and seconds is not None:
            found[key] = seconds
    return found


def write_durations_file(path: Path, durations: dict[str, float]) -> None:
    """Small, stable and sorted, one task a line, so that it diffs well when committed."""
    write_json(path, {k: round(v, 4) for k, v in durations.items()}, indent=2)


def problem(exc: BaseException) -> str:
    return safe_str(getattr(exc, "strerror", None) or exc)
