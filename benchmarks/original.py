"""The original threaded-order from PyPI, installed in a throwaway venv and timed there.

Its import name clashes with ours, so it lives in ``benchmarks/.cache/`` (gitignored) and
each measurement runs in a subprocess. It polls every 0.1 s (about 100 ms per dependency
level and 25 ms per task at 4 workers), so it only runs at capped sizes; full-size times
are estimated by scaling the per-task time, and are labelled as estimates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from .graphs import Graph
from .runners import Timing, check_order

CACHE = Path(__file__).resolve().parent / ".cache"
WORKER = Path(__file__).resolve().parent / "_original_worker.py"
DEFAULT_VERSION = "1.8.1"
CAPS = {"chain": 10, "fan": 38, "independent": 40, "layered": 40, "suite": 40}


def capped(spec: str) -> str:
    """The size the original runs at for a graph kind: about one second of polling."""
    kind, _, size = spec.partition(":")
    return f"{kind}:{min(int(size), CAPS[kind])}"


class Original:
    """A venv with the original installed, or the reason there is none."""

    def __init__(self, version: str = DEFAULT_VERSION) -> None:
        self.python: Optional[Path] = None
        self.version = version
        self.problem = ""
        try:
            self._install()
        except (OSError, subprocess.SubprocessError) as exc:
            self.problem = f"could not install threaded-order=={version}: {exc}"

    def _install(self) -> None:
        for pin in (f"threaded-order=={self.version}", "threaded-order<2"):
            venv = CACHE / ("original-" + pin.split("=")[-1].replace("<", "lt"))
            python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            marker = venv / "installed.txt"
            if not marker.exists():
                shutil.rmtree(venv, ignore_errors=True)
                CACHE.mkdir(parents=True, exist_ok=True)
                if not _create(venv, python, pin):
                    self.problem = f"could not install {pin} into {venv}"
                    continue
                version = _run([str(python), "-c", "import importlib.metadata as m; "
                                "print(m.version('threaded-order'))"]).stdout.strip()
                marker.write_text(version + "\n")
            self.python = python
            self.version = marker.read_text().strip()
            self.problem = ""
            return

    def measure(self, graph: Graph, workers: int, sleep: float = 0.0) -> Timing:
        """One timed run of the original in its own interpreter; checks the order too."""
        if self.python is None:
            raise RuntimeError(self.problem)
        job = {"deps": [list(d) for d in graph.deps], "workers": workers, "sleep": sleep}
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        proc = subprocess.run(
            [str(self.python), str(WORKER)], input=json.dumps(job), capture_output=True,
            text=True, timeout=600, env=env, cwd=str(CACHE), check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"original failed: {proc.stderr.strip()[-2000:]}")
        out: dict[str, Any] = json.loads(proc.stdout)
        problems = check_order(graph, [tuple(e) for e in out["events"]])
        if out["passed"] != graph.size or problems:
            raise RuntimeError(f"original ran {out['passed']}/{graph.size}: {problems}")
        return Timing(out["build_s"], out["run_s"])


def _create(venv: Path, python: Path, pin: str) -> bool:
    uv = shutil.which("uv")
    if uv:
        steps = [[uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                 [uv, "pip", "install", "--quiet", "--python", str(python), pin]]
    else:
        steps = [[sys.executable, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", pin]]
    for step in steps:
        proc = _run(step)
        if proc.returncode != 0:
            print(f"  [original] {' '.join(step)} failed: {proc.stderr.strip()[-500:]}",
                  file=sys.stderr)
            return False
    return True


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env,
                          check=False)
