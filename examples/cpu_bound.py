"""A CPU-bound graph: pure-Python loops that hold the GIL, so threads take turns on one core
while processes or Dask workers use every core. Each task computes for about 0.2 s.

    prepare -> crunch_0 .. crunch_9 -> report        (12 tasks, 10 of them independent)

As a test module (each run prints its duration):

    mtrun examples/cpu_bound.py                          # threads (the default)
    mtrun examples/cpu_bound.py --executor processes
    mtrun examples/cpu_bound.py --executor dask          # starts a local cluster

As a script, timing ``Scheduler.start()`` on each executor (the cluster's start-up is not
counted, a pool's is):

    uv run python examples/cpu_bound.py [--rounds 3]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from threaded_order import Scheduler, dmark, register_marked

LOOPS = 2_000_000  # about 0.2 s of pure Python on one core of the reference machine


def burn(loops: int) -> int:
    total = 0
    for i in range(loops):
        total += i * i % 7
    return total


@dmark()
def test_prepare() -> int:
    return burn(LOOPS)


def crunch(state: dict[str, Any]) -> int:
    return burn(LOOPS) + state["results"]["test_prepare"] % 2


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_0(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_1(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_2(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_3(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_4(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_5(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_6(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_7(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_8(state): return crunch(state)


@dmark(after=["test_prepare"], with_state=True)
def test_crunch_9(state): return crunch(state)


@dmark(after=[f"test_crunch_{n}" for n in range(10)], with_state=True)
def test_report(state: dict[str, Any]) -> int:
    burn(LOOPS)
    return sum(v for k, v in state["results"].items() if k.startswith("test_crunch_"))


def timed(executor: Any, workers: int) -> float:
    s = Scheduler(workers=workers, executor=executor)
    register_marked(s, sys.modules[__name__])
    started = time.perf_counter()
    summary = s.start()
    elapsed = time.perf_counter() - started
    assert not summary["failed"], summary["failures"]
    return elapsed


def main(rounds: int) -> None:
    workers = 2
    results: dict[str, list[float]] = {"threads": [], "processes": [], "dask": []}
    for _ in range(rounds):
        results["threads"].append(timed(None, workers))
        with ProcessPoolExecutor(workers) as pool:  # its start-up is part of the time
            results["processes"].append(timed(pool, workers))
    try:
        from threaded_order_dask import DaskExecutor
    except ImportError:
        del results["dask"]
    else:
        with DaskExecutor.local(workers) as dask:
            for _ in range(rounds):
                results["dask"].append(timed(dask, workers))
    print(f"12 CPU-bound tasks of ~0.2 s, {workers} workers, best of {rounds}:")
    for name, times in results.items():
        print(f"  {name:<10} {min(times):5.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3)
