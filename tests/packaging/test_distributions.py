"""Each distribution stands on its own: metadata, typing marker, and a core free of the CLI's
and reporters' dependencies."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The uv running these tests (``uv run`` names it in UV), else one on PATH: CI's uv lives in
# the tool environment that README's command makes, which is not on the tests' PATH.
UV = os.environ.get("UV") or shutil.which("uv")

ROOT = Path(__file__).resolve().parents[2]
# Distributions with code (the code-less threaded-order-core alias has none).
PACKAGES = sorted(p.parent for p in (ROOT / "packages").rglob("pyproject.toml")
                  if (p.parent / "src").is_dir())
HEAVY = ("click", "structlog", "rich", "dask", "threaded_order_cli")


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_distribution_has_readme_and_py_typed(package):
    assert (package / "README.md").is_file()
    typed = list((package / "src").glob("*/py.typed"))
    assert typed, f"{package.name} has no py.typed"


def test_importing_the_core_loads_no_cli_or_reporter_dependency():
    code = (
        "import sys, threaded_order\n"
        "s = threaded_order.Scheduler(workers=2)\n"
        "s.register(lambda: None, 'a')\n"
        "s.start()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_core_source_never_imports_click_structlog_or_rich():
    pattern = re.compile(r"^\s*(import|from)\s+(click|structlog|rich)\b", re.M)
    core = ROOT / "packages" / "threaded-order-core" / "src"
    offenders = [p for p in core.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.skipif(UV is None, reason="needs uv to build a clean venv")
def test_core_installs_alone_into_a_clean_venv(tmp_path):
    """pip install threaded-order-core pulls in threaded-order and pluggy, nothing else."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   env=env)
    python = venv / "bin" / "python"
    subprocess.run([UV, "pip", "install", "-q", "--python", str(python),
                    str(ROOT / "packages" / "threaded-order-core"),
                    str(ROOT / "packages" / "threaded-order-core-alias")], check=True, env=env)
    listed = subprocess.run([UV, "pip", "list", "--python", str(python), "--format", "freeze"],
                            capture_output=True, text=True, check=True, env=env).stdout
    names = sorted(line.split("==")[0].lower() for line in listed.split())
    assert names == ["pluggy", "threaded-order", "threaded-order-core"]
    out = subprocess.run(
        [str(python), "-c", "import threaded_order; print(threaded_order.Scheduler().start()"
                            "['text'])"], capture_output=True, text=True, check=True).stdout
    assert "0 passed, 0 failed, 0 skipped" in out


def test_sister_distributions_reach_core_internals_only_through_ext():
    """threaded_order.ext is the one door for the CLI, reporters and Dask; users' imports
    (threaded_order and its public modules) are the other."""
    internal = re.compile(r"^\s*(from|import)\s+threaded_order\.(_\w+|plugins|markers)\b", re.M)
    offenders = []
    for path in sorted((ROOT / "packages").rglob("*.py")):
        if "threaded-order-core" in path.parts or "src" not in path.parts:
            continue
        for match in internal.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
    assert offenders == []
