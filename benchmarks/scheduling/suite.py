"""The generated suite: skewed sleep durations, modules with chains, written twice.

One seeded description gives both copies: ``@dmark`` tasks with ``after=`` for mtrun, and
plain pytest tests without dependencies for pytest-xdist. Every test appends one line,
``name start end`` (wall-clock seconds), to a log when its body ends, so the makespan, each
test's real duration and the order of a chain are read the same way for every runner.
"""

from __future__ import annotations

import heapq
import math
import os
import random
from pathlib import Path
from typing import NamedTuple, Optional


class Spec(NamedTuple):
    """``chained`` of the tests depend on the test just before them in their module; the
    durations are lognormal(0, ``sigma``), scaled so that the lower bound at ``workers``
    workers is ``seconds``."""

    tests: int = 400
    modules: int = 20
    sigma: float = 1.5
    chained: float = 0.3
    seconds: float = 6.0
    workers: int = 8
    seed: int = 14


class Test(NamedTuple):
    module: str  # file name, "test_m07.py"
    name: str
    seconds: float
    after: Optional[str]  # the test of the same module this one runs after


class Suite(NamedTuple):
    spec: Spec
    tests: list[Test]  # modules in order, tests in registration order within each

    @property
    def files(self) -> list[str]:
        return sorted({t.module for t in self.tests})

    def edges(self) -> dict[str, list[str]]:
        return {t.name: [t.after] if t.after else [] for t in self.tests}


def _sizes(rng: random.Random, tests: int, modules: int) -> list[int]:
    """Module sizes between about a third and twice the mean, summing to ``tests``."""
    weights = [rng.uniform(0.3, 2.0) for _ in range(modules)]
    total = sum(weights)
    sizes = [max(1, math.floor(tests * w / total)) for w in weights]
    for i in sorted(range(modules), key=lambda i: -weights[i])[:tests - sum(sizes)]:
        sizes[i] += 1
    return sizes


def generate(spec: Spec) -> Suite:
    """The suite of ``spec``: the same spec always gives the same suite."""
    if spec.tests < spec.modules or spec.modules < 1:
        raise ValueError(f"{spec.tests} tests do not fill {spec.modules} modules")
    rng = random.Random(spec.seed)
    sizes = _sizes(rng, spec.tests, spec.modules)
    raw = [rng.lognormvariate(0.0, spec.sigma) for _ in range(spec.tests)]
    slots = [(m, k) for m, size in enumerate(sizes) for k in range(1, size)]
    chained = set(rng.sample(slots, min(len(slots), round(spec.chained * spec.tests))))
    tests, i = [], 0
    for m, size in enumerate(sizes):
        for k in range(size):
            name = f"test_m{m:02d}_{k:03d}"
            after = f"test_m{m:02d}_{k - 1:03d}" if (m, k) in chained else None
            tests.append(Test(f"test_m{m:02d}.py", name, raw[i], after))
            i += 1
    unscaled = Suite(spec, tests)
    scale = spec.seconds / lower_bound(unscaled.edges(), _seconds(unscaled), spec.workers)
    return Suite(spec, [t._replace(seconds=round(t.seconds * scale, 4)) for t in tests])


def _seconds(suite: Suite) -> dict[str, float]:
    return {t.name: t.seconds for t in suite.tests}


def nominal(suite: Suite) -> dict[str, float]:
    """Each test's sleep, by name."""
    return _seconds(suite)


def critical_path(edges: dict[str, list[str]], seconds: dict[str, float]) -> float:
    """The longest chain of ``seconds`` through the graph; names are in registration order
    and dependencies come before their dependents, as in the generated suite."""
    finish: dict[str, float] = {}
    for name, deps in edges.items():
        finish[name] = seconds.get(name, 0.0) + max((finish[d] for d in deps), default=0.0)
    return max(finish.values(), default=0.0)


def lower_bound(edges: dict[str, list[str]], seconds: dict[str, float], workers: int) -> float:
    """max(critical path, total / workers): no order of these tests can end sooner."""
    return max(critical_path(edges, seconds), sum(seconds.values()) / workers)


def simulate(edges: dict[str, list[str]], seconds: dict[str, float], workers: int,
             order: str, weights: Optional[dict[str, float]] = None) -> float:
    """The makespan of list scheduling without overhead: whenever a worker is free it takes
    the ready test first in ``order`` ("registration", or "critical-path" by the longest
    remaining path in ``weights``, one unit each when None)."""
    names = list(edges)
    dependents: dict[str, list[str]] = {n: [] for n in names}
    for name, deps in edges.items():
        for d in deps:
            dependents[d].append(name)
    rank = {n: i for i, n in enumerate(names)}
    if order == "critical-path":
        longest: dict[str, float] = {}
        for name in reversed(names):
            own = 1.0 if weights is None else weights[name]
            longest[name] = own + max((longest[c] for c in dependents[name]), default=0.0)
        key = {n: (-longest[n], rank[n]) for n in names}
    else:
        key = {n: (0.0, rank[n]) for n in names}
    waiting = {n: len(edges[n]) for n in names}
    ready = [key[n] + (n,) for n in names if not waiting[n]]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < workers:
            name = heapq.heappop(ready)[2]
            heapq.heappush(running, (now + seconds[name], name))
        now, done = heapq.heappop(running)
        for child in dependents[done]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, key[child] + (child,))
    return now


_PROLOGUE = '''"""Generated by benchmarks.scheduling; do not edit."""

import os
import threading
import time
{imports}
_LOG = {log!r}


def _sleep(name, seconds):
    start = time.time()
    time.sleep(seconds)
    # one write() per line on an O_APPEND file: lines from threads and processes do not mix
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{{name}} {{start!r}} {{time.time()!r}} {{os.getpid()}}-"
                     f"{{threading.get_ident()}}\\n".encode())
    finally:
        os.close(fd)
'''


def module_source(tests: list[Test], runner: str, log: Path) -> str:
    """One test file for ``runner``: "mtrun" (``@dmark``, with ``after=``) or "pytest"."""
    imports = "\nfrom threaded_order import dmark\n" if runner == "mtrun" else ""
    lines = [_PROLOGUE.format(imports=imports, log=os.fspath(log))]
    for t in tests:
        if runner == "mtrun":
            lines.append("\n" + (f"@dmark(after=[{t.after!r}])" if t.after else "@dmark()"))
        else:
            lines.append("")
        lines += [f"def {t.name}():", f"    _sleep({t.name!r}, {t.seconds!r})", ""]
    return "\n".join(lines)


class Written(NamedTuple):
    mtrun_dir: Path
    pytest_dir: Path
    mtrun_log: Path
    pytest_log: Path


def write(suite: Suite, root: Path) -> Written:
    """``root/{mtrun,pytest}/test_mNN.py``, each folder with a config file that makes it
    the rootdir, and the logs beside the folders."""
    folders = {}
    for runner, config, text in (("mtrun", "pyproject.toml", "[tool.mtrun]\n"),
                                 ("pytest", "pytest.ini", "[pytest]\n")):
        folder = root / runner
        folder.mkdir(parents=True, exist_ok=True)
        (folder / config).write_text(text, encoding="utf-8")
        log = root / f"{runner}.log"
        for module in suite.files:
            mine = [t for t in suite.tests if t.module == module]
            (folder / module).write_text(module_source(mine, runner, log), encoding="utf-8")
        folders[runner] = (folder, log)
    return Written(folders["mtrun"][0], folders["pytest"][0], folders["mtrun"][1],
                   folders["pytest"][1])


class Log(NamedTuple):
    """What the tests of one run wrote: each one's (start, end), the worker that ran it
    (process and thread), and names seen twice."""

    spans: dict[str, tuple[float, float]]
    repeated: list[str]
    workers: dict[str, str]

    @property
    def makespan(self) -> float:
        if not self.spans:
            return 0.0
        return (max(e for _, e in self.spans.values())
                - min(s for s, _ in self.spans.values()))

    def durations(self) -> dict[str, float]:
        return {n: e - s for n, (s, e) in self.spans.items()}

    def start_skew(self) -> float:
        """From the first test's start to the start of the last worker's first test: how
        late the last worker joined (xdist's worker processes start one by one)."""
        first: dict[str, float] = {}
        for name, (start, _) in self.spans.items():
            worker = self.workers.get(name, "")
            first[worker] = min(start, first.get(worker, start))
        return max(first.values()) - min(first.values()) if first else 0.0


def read_log(path: Path) -> Log:
    spans: dict[str, tuple[float, float]] = {}
    repeated, workers = [], {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines():
        name, start, end, worker = line.split()
        if name in spans:
            repeated.append(name)
        spans[name] = (float(start), float(end))
        workers[name] = worker
    return Log(spans, repeated, workers)


def order_violations(suite: Suite, log: Log) -> list[str]:
    """Tests that started before the test they run after had ended."""
    return [f"{t.name} started before {t.after} ended" for t in suite.tests
            if t.after and t.name in log.spans and t.after in log.spans
            and log.spans[t.name][0] < log.spans[t.after][1]]
