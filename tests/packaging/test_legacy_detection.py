"""threaded_order._legacy on real folders laid out as installers leave them: the version from
the metadata beside the package, and one warning when 1.x's files or metadata are there."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import threaded_order
from threaded_order import _legacy


def _site(tmp_path: Path, *entries: str, modules: tuple[str, ...] = ()) -> str:
    """A site-packages folder with threaded_order/ and the given metadata folders; returns
    the package's __init__.py."""
    package = tmp_path / "threaded_order"
    package.mkdir()
    for name in ("__init__.py", *modules):
        (package / name).write_text("")
    for entry in entries:
        (tmp_path / entry).mkdir()
    return str(package / "__init__.py")


def _check(init: str) -> tuple[str, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        version = _legacy.check(init)
    return version, caught


def test_a_clean_install_gives_its_version_and_no_warning(tmp_path):
    init = _site(tmp_path, "threaded_order-2.3.1.dist-info", "threaded_order_cli-2.3.1.dist-info",
                 "pluggy-1.6.0.dist-info")
    assert _check(init) == ("2.3.1", [])


def test_1x_metadata_beside_the_package_warns_once_in_one_line(tmp_path):
    init = _site(tmp_path, "threaded_order-2.3.1.dist-info", "threaded_order-1.8.1.dist-info")
    version, caught = _check(init)
    assert version == "2.3.1"
    assert [w.category for w in caught] == [_legacy.LegacyInstallWarning]
    message = str(caught[0].message)
    assert "\n" not in message
    assert message.startswith("threaded-order 1.x is installed beside threaded-order 2.3.1 "
                              "(threaded_order-1.8.1.dist-info); uninstalling 1.x would delete")
    assert "pip uninstall -y threaded-order" in message
    assert caught[0].filename == os.path.dirname(init) and caught[0].lineno == 0


def test_1x_modules_in_the_package_warn(tmp_path):
    init = _site(tmp_path, "threaded_order-2.3.1.dist-info",
                 modules=("runner.py", "timer.py", "graph.py"))
    version, caught = _check(init)
    assert version == "2.3.1"
    assert len(caught) == 1
    assert "(threaded_order/runner.py, threaded_order/timer.py)" in str(caught[0].message)


def test_egg_info_of_1x_counts_and_never_becomes_our_version(tmp_path):
    init = _site(tmp_path, "Threaded_Order-1.4.0-py3.11.egg-info")
    version, caught = _check(init)
    assert version != "1.4.0"  # no 2.x metadata here: the installed one's, or 0+unknown
    assert "(Threaded_Order-1.4.0-py3.11.egg-info)" in str(caught[0].message)


def test_installed_version_reads_only_the_named_distribution(tmp_path):
    init = _site(tmp_path, "threaded_order-2.3.1.dist-info", "threaded_order_cli-2.10.0.dist-info",
                 "threaded_order_cli-2.9.0.dist-info")
    assert _legacy.installed_version("threaded-order-cli", init) == "2.10.0"
    assert _legacy.installed_version("threaded-order", init) == "2.3.1"


def test_no_metadata_anywhere_gives_unknown(tmp_path, monkeypatch):
    init = _site(tmp_path)
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    assert _legacy.installed_version("threaded-order-not-installed", init) == _legacy.UNKNOWN


def test_2x_has_no_module_named_like_one_of_1x():
    package = Path(threaded_order.__file__).parent
    assert sorted(set(_legacy.LEGACY_MODULES) & set(os.listdir(package))) == []

