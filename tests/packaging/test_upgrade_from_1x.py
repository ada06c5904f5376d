"""Upgrading from threaded-order 1.x, for real: the real 1.8.1 from the package index in a
fresh venv, then this repository's wheels installed over it with pip the way the README tells
1.x users; and the reverse order, which must at least be detected."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

# The uv running these tests (``uv run`` names it in UV), else one on PATH: CI's uv lives in
# the tool environment that README's command makes, which is not on the tests' PATH.
UV = os.environ.get("UV") or shutil.which("uv")

ROOT = Path(__file__).resolve().parents[2]
VERSION = (ROOT / "VERSION").read_text().strip()
README = (ROOT / "README.md").read_text()
LEGACY = "1.8.1"  # the last threaded-order 1.x on PyPI
UPGRADE = "pip install -U threaded-order threaded-order-cli"  # the README's upgrade command
TIMEOUT = 180  # seconds for one pip or uv command: a hang fails the test
BIN = "Scripts" if sys.platform == "win32" else "bin"


def _env() -> dict[str, str]:
    skip = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONWARNINGS="")
    return env


def _run(*args: object, ok: bool = True, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=cwd, env=env or _env())
    if ok:
        assert proc.returncode == 0, f"{args} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    return proc


def _index_reason() -> str | None:
    """Why threaded-order 1.8.1 cannot be fetched from the package index, or None."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        with urllib.request.urlopen(f"{index}/threaded-order/", timeout=15) as response:
            page = response.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as exc:
        return f"the package index {index} cannot be reached ({exc})"
    if f"threaded_order-{LEGACY}" not in page:
        return f"the package index {index} does not offer threaded-order {LEGACY}"
    return None


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's wheels, built once per session."""
    reason = _index_reason()
    if reason:
        pytest.skip(f"{reason}: these tests install threaded-order {LEGACY} from it")
    if UV is None:
        pytest.skip("needs uv to build the wheels and the venvs")
    out = tmp_path_factory.mktemp("wheels")
    for folder in ("threaded-order-core", "threaded-order-core-alias", "threaded-order-cli"):
        _run(UV, "build", "--wheel", "-q", "-o", out, ROOT / "packages" / folder)
    return out


class Venv:
    """A fresh venv with pip (nothing else) and what the tests ask of it."""

    def __init__(self, path: Path) -> None:
        _run(UV, "venv", "-q", "--seed", "--python", sys.executable, path)
        self.python = path / BIN / "python"
        self.site = Path(_run(self.python, "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])").stdout.strip())

    def pip(self, *args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(self.python, "-m", "pip", *args, ok=ok)

    def script(self, name: str) -> Path:
        return self.python.parent / name

    def package(self) -> dict[str, bytes]:
        """The files of site-packages/threaded_order/, without compiled ones."""
        root = self.site / "threaded_order"
        return {p.name: p.read_bytes() for p in root.iterdir() if p.name != "__pycache__"}

    def metadata(self) -> list[str]:
        return sorted(p.name for p in self.site.glob("threaded_order*-info"))

    def import_version(self) -> subprocess.CompletedProcess[str]:
        return _run(self.python, "-c", "import threaded_order; print(threaded_order.__version__)")


def _wheel_package(wheels: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheels / f"threaded_order-{VERSION}-py3-none-any.whl") as whl:
        return {Path(n).name: whl.read(n) for n in whl.namelist()
                if n.startswith("threaded_order/")}


def _with_1x(tmp_path: Path) -> Venv:
    venv = Venv(tmp_path / "venv")
    venv.pip("install", f"threaded-order=={LEGACY}")
    assert (venv.site / "threaded_order" / "runner.py").is_file()  # really 1.x, with tdrun
    assert venv.script("tdrun").is_file()
    return venv


def _assert_2x_alone(venv: Venv, wheels: Path, *dists: str) -> None:
    """threaded_order is this version's, no file or metadata of 1.x is left, no warning."""
    assert venv.package() == _wheel_package(wheels)
    assert venv.metadata() == sorted(f"{d.replace('-', '_')}-{VERSION}.dist-info" for d in dists)
    imported = venv.import_version()
    assert (imported.stdout.strip(), imported.stderr) == (VERSION, "")


def _summary(output: str) -> str:
    lines = [line for line in output.splitlines() if re.search(r"\d+ passed", line)]
    assert lines, output
    return lines[-1].strip("= ").rpartition(" in ")[0]


def test_readme_tells_1x_users_the_upgrade_command():
    assert UPGRADE in README
    assert 'pip install -U "threaded-order[cli]"' in README


def test_pip_install_U_replaces_1x_and_tdrun_and_mtrun_run_an_example(wheels, tmp_path):
    venv = _with_1x(tmp_path)
    venv.pip(*UPGRADE.split()[1:], "--find-links", wheels)
    _assert_2x_alone(venv, wheels, "threaded-order", "threaded-order-cli")
    venv.pip("install", "faker")  # example4c, the original README's tdrun example, uses it
    shutil.copy(ROOT / "examples" / "example4c.py", tmp_path)
    results = [_run(venv.script(cmd), "example4c.py", "--workers", "3", ok=False, cwd=tmp_path)
               for cmd in ("tdrun", "mtrun")]
    for result in results:
        assert result.returncode == 1, result.stdout + result.stderr  # test_d fails on purpose
        assert "FAILED test_d - AssertionError: Intentional Failure" in result.stdout
        assert result.stderr == ""
    assert _summary(results[0].stdout) == _summary(results[1].stdout)
    assert "1 failed" in _summary(results[0].stdout)


def test_pip_install_core_over_1x_replaces_it_and_the_cli_extra_brings_tdrun_back(
        wheels, tmp_path):
    venv = _with_1x(tmp_path)
    venv.pip("install", "--find-links", wheels, "threaded-order-core")
    _assert_2x_alone(venv, wheels, "threaded-order", "threaded-order-core")
    assert not venv.script("tdrun").exists()  # 1.x's script went with 1.x
    venv.pip("install", "--find-links", wheels, "threaded-order[cli]")
    assert _run(venv.script("tdrun"), "--version").stdout.startswith(f"mtrun {VERSION} ")
    venv.pip("check")


def test_1x_installed_over_2x_replaces_it_whole_and_pip_reports_the_conflict(wheels, tmp_path):
    venv = Venv(tmp_path / "venv")
    venv.pip("install", "--find-links", wheels, "threaded-order-cli")
    downgrade = venv.pip("install", f"threaded-order=={LEGACY}")
    assert (f"threaded-order-cli {VERSION} requires threaded-order<3,>=2.0, but you have "
            f"threaded-order {LEGACY}") in downgrade.stdout + downgrade.stderr
    # pip replaced 2.x whole: 1.x's files alone, nothing for a later uninstall to break
    assert sorted(venv.package()) == ["__init__.py", "graph.py", "graph_summary.py",
                                      "logger.py", "runner.py", "scheduler.py", "timer.py"]
    assert venv.metadata() == [f"threaded_order-{LEGACY}.dist-info",
                               f"threaded_order_cli-{VERSION}.dist-info"]
    assert "threaded-order-cli" in venv.pip("check", ok=False).stdout
    venv.pip("install", "-U", "--find-links", wheels, "threaded-order")  # and back
    _assert_2x_alone(venv, wheels, "threaded-order", "threaded-order-cli")


def _legacy_warning(stderr: str, *found: str) -> None:
    """One line naming what of 1.x was found."""
    assert len(stderr.splitlines()) == 1, stderr
    assert "LegacyInstallWarning: threaded-order 1.x is installed beside threaded-order " \
           f"{VERSION} ({', '.join(found)}); uninstalling 1.x would delete files" in stderr


def test_1x_files_mixed_into_2x_warn_at_import_and_the_repair_it_names_works(wheels, tmp_path):
    venv = _with_1x(tmp_path)
    venv.pip("install", "--ignore-installed", "--find-links", wheels,
             f"threaded-order=={VERSION}")
    imported = venv.import_version()
    assert imported.stdout.strip() == VERSION
    _legacy_warning(imported.stderr, f"threaded_order-{LEGACY}.dist-info",
                    *(f"threaded_order/{m}.py" for m in
                      ("graph_summary", "logger", "runner", "timer")))
    # the repair the warning names: uninstall until none is left, then install
    for _ in range(2):
        assert "Successfully uninstalled" in venv.pip("uninstall", "-y", "threaded-order").stdout
    assert "not installed" in venv.pip("uninstall", "-y", "threaded-order").stderr
    venv.pip("install", "--find-links", wheels, "threaded-order")
    _assert_2x_alone(venv, wheels, "threaded-order")


def test_1x_metadata_left_beside_2x_by_pip_target_warns_at_import(wheels, tmp_path):
    venv = Venv(tmp_path / "venv")
    target = tmp_path / "target"
    venv.pip("install", "--target", target, f"threaded-order=={LEGACY}")
    venv.pip("install", "--target", target, "--upgrade", "--find-links", wheels,
             "threaded-order")
    assert not (target / "threaded_order" / "runner.py").exists()  # its files are replaced
    env = {**_env(), "PYTHONPATH": str(target)}
    imported = _run(sys.executable, "-S", "-c",  # -S: only the target folder and the stdlib
                    "import threaded_order; print(threaded_order.__version__)", env=env)
    assert imported.stdout.strip() == VERSION
    _legacy_warning(imported.stderr, f"threaded_order-{LEGACY}.dist-info")
