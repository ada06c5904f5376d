"""The reporters and the Dask executor need the core alone: installed into a fresh venv they
bring no click (no mtrun), and each works as a plain ``Scheduler(plugins=[...])`` plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

UV = os.environ.get("UV") or shutil.which("uv")
ROOT = Path(__file__).resolve().parents[2]
REPORTERS = ROOT / "packages" / "threaded-order-reporters"
TIMEOUT = 300  # seconds for one install: a hang fails the test

LIBRARY_RUN = """
    import json, sys
    import xml.etree.ElementTree as ET
    from threaded_order import Scheduler
    from threaded_order_json import JSONReporter
    from threaded_order_junit import JUnitReporter

    def ok():
        pass

    def broken():
        raise ValueError("boom")

    s = Scheduler(workers=2, plugins=[JUnitReporter("out.xml"), JSONReporter("out.json")])
    s.register(ok, "ok")
    s.register(broken, "broken", after=["ok"])
    s.start()
    suite = ET.parse("out.xml").getroot().iter("testsuite").__next__()
    report = json.load(open("out.json"))
    print(json.dumps({"junit": [suite.get("tests"), suite.get("failures")],
                      "json": sorted(t["status"] for t in report["tasks"])}))
    print(sorted(m for m in sys.modules if m.split(".")[0] in ("click", "threaded_order_cli")))
"""


def _env() -> dict[str, str]:
    skip = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in skip}


def _run(*args: object, cwd: Path | None = None) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=cwd, env=_env())
    assert proc.returncode == 0, f"{args} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def _declared(folder: Path) -> list[str]:
    with (folder / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


@pytest.mark.parametrize("folder", [*sorted(p for p in REPORTERS.iterdir()
                                            if (p / "pyproject.toml").is_file()),
                                    ROOT / "packages" / "threaded-order-dask"],
                         ids=lambda p: p.name)
def test_declares_no_cli_dependency(folder):
    names = [d.split(">")[0].split("<")[0].split("[")[0].strip() for d in _declared(folder)]
    assert "threaded-order-cli" not in names
    assert "click" not in names
    assert "threaded-order" in names


@pytest.mark.skipif(UV is None, reason="needs uv to build a clean venv")
def test_reporters_in_a_fresh_venv_bring_no_click_and_work_as_plugins(tmp_path):
    venv = tmp_path / "venv"
    _run(UV, "venv", "-q", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    _run(UV, "pip", "install", "-q", "--python", python, ROOT / "packages" / "threaded-order-core",
         *(REPORTERS / name for name in ("junit", "json", "structlog", "progress")))
    listed = _run(UV, "pip", "list", "--python", python, "--format", "freeze")
    names = {line.split("==")[0].lower() for line in listed.split()}
    assert "click" not in names and "threaded-order-cli" not in names, names
    assert {"threaded-order", "threaded-order-junit", "threaded-order-json"} <= names
    (tmp_path / "run.py").write_text(textwrap.dedent(LIBRARY_RUN))
    out = _run(python, "run.py", cwd=tmp_path).splitlines()
    assert json.loads(out[0]) == {"junit": ["2", "1"], "json": ["failed", "passed"]}
    assert out[1] == "[]"  # neither click nor mtrun was imported
    for module in ("threaded_order_structlog", "threaded_order_progress"):
        _run(python, "-c", f"import {module}.reporter, sys; "
                           "assert 'click' not in sys.modules", cwd=tmp_path)
