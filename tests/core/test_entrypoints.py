"""Entry-point discovery against real distribution metadata written to a sys.path folder."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
import warnings

import pytest

from threaded_order import (
    PluginWarning,
    Scheduler,
    create_plugin_manager,
    installed_plugins,
    load_entrypoint_plugins,
)

from ._support import noop

STRICT = "THREADED_ORDER_STRICT_PLUGINS"
NO_AUTOLOAD = "THREADED_ORDER_DISABLE_PLUGIN_AUTOLOAD"
_ids = itertools.count()

GOOD_PLUGIN = """
seen = []

def threaded_order_task_done(name, ok):
    seen.append((name, ok))
"""


@pytest.fixture
def dist(tmp_path, monkeypatch):
    """Install a fake distribution: dist-info metadata plus plugin modules, on sys.path."""
    monkeypatch.delenv(STRICT, raising=False)
    monkeypatch.delenv(NO_AUTOLOAD, raising=False)
    modules: list[str] = []

    def make(entry_points: dict[str, str], sources: dict[str, str]):
        n = next(_ids)
        dist_name = f"to-fake-plugin-{n}"
        info = tmp_path / f"to_fake_plugin_{n}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n"
        )
        lines = ["[threaded_order]", *(f"{k} = {v}" for k, v in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in sources.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            modules.append(module)
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()
        return dist_name

    yield make
    for module in modules:
        sys.modules.pop(module, None)


def _unique(stem: str) -> str:
    return f"to_core_{stem}_{next(_ids)}"


def _others(*ours: str) -> list[str]:
    """Plugins other packages of this environment installed: keep them out of these tests."""
    return [p.name for p in installed_plugins() if p.name not in ours]


def test_installed_plugins_lists_name_distribution_and_version(dist):
    good, extra = _unique("good"), _unique("extra")
    dist_name = dist({good: good, extra: f"{good}:seen"}, {good: GOOD_PLUGIN})
    found = [p for p in installed_plugins() if p.distribution == dist_name]
    assert [tuple(p) for p in found] == sorted([(good, dist_name, "1.0"),
                                                (extra, dist_name, "1.0")])
    assert good not in sys.modules  # listing does not import


def test_load_entrypoint_plugins_registers_them_for_the_run(dist):
    good = _unique("good")
    dist_name = dist({good: good}, {good: GOOD_PLUGIN})
    pm = create_plugin_manager()
    loaded = load_entrypoint_plugins(pm, blocked=_others(good))
    assert [tuple(p) for p in loaded] == [(good, dist_name, "1.0")]
    assert pm.has_plugin(good)
    assert pm.distributions[good].distribution == dist_name
    s = Scheduler(workers=1, plugin_manager=pm)
    s.register(noop, "a")
    s.start()
    assert sys.modules[good].seen == [("a", True)]
    # Loading again does not register the same plugin twice.
    assert load_entrypoint_plugins(pm, blocked=_others(good)) == []


def test_a_broken_plugin_warns_naming_it_and_the_others_still_load(dist):
    broken, good = _unique("broken"), _unique("good")
    dist_name = dist(
        {broken: broken, good: good},
        {broken: "raise RuntimeError('cannot import me')\n", good: GOOD_PLUGIN},
    )
    pm = create_plugin_manager()
    with pytest.warns(PluginWarning) as caught:
        loaded = load_entrypoint_plugins(pm, blocked=_others(broken, good))
    assert [p.name for p in loaded] == [good]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert broken in messages[0] and dist_name in messages[0] and "1.0" in messages[0]
    assert "cannot import me" in messages[0]
    assert not pm.has_plugin(broken)


def test_a_missing_attribute_or_invalid_hook_also_only_warns(dist):
    missing, invalid = _unique("missing"), _unique("invalid")
    dist({missing: f"{missing}:nothing_here", invalid: invalid},
         {missing: "x = 1\n", invalid: "def threaded_order_task_done(name, bogus):\n    pass\n"})
    pm = create_plugin_manager()
    with pytest.warns(PluginWarning) as caught:
        loaded = load_entrypoint_plugins(pm, blocked=_others(missing, invalid))
    assert loaded == []
    text = " ".join(str(w.message) for w in caught)
    assert missing in text and invalid in text


def test_strict_mode_re_raises_a_broken_plugin(dist, monkeypatch):
    broken = _unique("broken")
    dist({broken: broken}, {broken: "raise RuntimeError('cannot import me')\n"})
    monkeypatch.setenv(STRICT, "1")
    with pytest.raises(RuntimeError, match="cannot import me"):
        load_entrypoint_plugins(create_plugin_manager(), blocked=_others(broken))


def test_blocked_plugins_are_not_imported(dist):
    blocked, good = _unique("blocked"), _unique("good")
    dist({blocked: blocked, good: good},
         {blocked: "raise RuntimeError('must not be imported')\n", good: GOOD_PLUGIN})
    pm = create_plugin_manager()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        loaded = load_entrypoint_plugins(pm, blocked=[*_others(good), blocked])
    assert [p.name for p in loaded] == [good]
    assert blocked not in sys.modules


def test_plugins_blocked_on_the_manager_are_skipped(dist):
    good = _unique("good")
    dist({good: good}, {good: GOOD_PLUGIN})
    pm = create_plugin_manager()
    pm.set_blocked(good)
    assert load_entrypoint_plugins(pm, blocked=_others(good)) == []
    assert good not in sys.modules


def test_the_disable_variable_turns_autoloading_off(dist, monkeypatch):
    good = _unique("good")
    dist({good: good}, {good: GOOD_PLUGIN})
    monkeypatch.setenv(NO_AUTOLOAD, "1")
    pm = create_plugin_manager()
    assert load_entrypoint_plugins(pm) == []
    assert good not in sys.modules and not pm.has_plugin(good)


@pytest.mark.parametrize("value", ["0", "false", "no", ""])
def test_the_disable_variable_set_to_off_keeps_autoloading(dist, monkeypatch, value):
    """0/false/no mean off, as for the strict variable."""
    good = _unique("good")
    dist({good: good}, {good: GOOD_PLUGIN})
    monkeypatch.setenv(NO_AUTOLOAD, value)
    pm = create_plugin_manager()
    assert good in [p.name for p in load_entrypoint_plugins(pm, blocked=_others(good))]


def test_a_bare_scheduler_never_autoloads(dist):
    good = _unique("good")
    dist({good: good}, {good: GOOD_PLUGIN})
    assert good in [p.name for p in installed_plugins()]
    s = Scheduler(workers=1)
    s.register(noop, "a")
    s.start()
    assert good not in sys.modules
    assert not s.plugin_manager.has_plugin(good)
