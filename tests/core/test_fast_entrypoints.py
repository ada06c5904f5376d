"""The direct dist-info reader finds what importlib.metadata finds, or steps aside.

It exists only to save mtrun's start-up the import of importlib.metadata, so the one thing
that matters is that it agrees with importlib.metadata everywhere it answers at all.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import zipfile

import pytest

from threaded_order import _entrypoints


def _as_tuples(eps):
    return [(e.name, e.value, e.dist.name, e.dist.version) for e in eps]


def _metadata(group):
    return _as_tuples(importlib.metadata.entry_points(group=group))


@pytest.mark.parametrize("group", ["threaded_order", "pytest11", "console_scripts", "nothing"])
def test_agrees_with_importlib_metadata_on_this_environment(group):
    found = _entrypoints.scan(group)
    assert found is not None
    assert _as_tuples(found) == _metadata(group)


def _dist(folder, stem, name, version, text, info="dist-info"):
    path = folder / f"{stem}-{version}.{info}"
    path.mkdir(parents=True)
    header = "PKG-INFO" if info == "egg-info" else "METADATA"
    (path / header).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"
                               "Name: not-this-one\n")
    (path / "entry_points.txt").write_text(text)


def test_first_distribution_of_a_name_wins_and_sections_are_kept_apart(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    text = ("# comment\n[other]\nx = nope:nope\n\n[to_fast_test]\n  # indented comment\n"
            "one = json : dumps [extra]\ntwo=os.path\n")
    _dist(first, "To.Fast_dist", "To.Fast-dist", "2.0", text)
    _dist(second, "to_fast_dist", "to-fast-dist", "1.0", "[to_fast_test]\nthree = os\n")
    _dist(second, "to_fast_egg", "to-fast-egg", "3.0", "[to_fast_test]\negg = os\n", "egg-info")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    found = _entrypoints.scan("to_fast_test")
    assert found is not None
    assert _as_tuples(found) == _metadata("to_fast_test")
    assert [e.name for e in found] == ["one", "two", "egg"]
    assert found[0].dist.name == "To.Fast-dist" and found[0].dist.version == "2.0"
    import json
    import os.path

    assert found[0].load() is json.dumps
    assert found[1].load() is os.path


def test_steps_aside_for_a_zip_on_sys_path(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x-1.0.dist-info/entry_points.txt", "[to_fast_test]\nx = os\n")
    monkeypatch.syspath_prepend(str(archive))
    assert _entrypoints.scan("to_fast_test") is None


def test_steps_aside_for_a_finder_that_offers_distributions(monkeypatch):
    class Finder:
        @staticmethod
        def find_spec(*_args):
            return None

        @staticmethod
        def find_distributions(*_args):
            return iter(())

    monkeypatch.setattr(sys, "meta_path", [Finder, *sys.meta_path])
    assert _entrypoints.scan("threaded_order") is None


def test_the_backports_path_finder_changes_nothing(monkeypatch):
    backport = pytest.importorskip("importlib_metadata")
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, backport.MetadataPathFinder()])
    found = _entrypoints.scan("threaded_order")
    assert found is not None
    assert _as_tuples(found) == _metadata("threaded_order")


def test_malformed_value_fails_on_load_only(tmp_path, monkeypatch):
    _dist(tmp_path, "to_fast_bad", "to-fast-bad", "1.0", "[to_fast_test]\nbad = not a module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    (entry,) = _entrypoints.scan("to_fast_test")
    with pytest.raises(ValueError, match="malformed"):
        entry.load()
