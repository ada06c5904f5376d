"""Property test: random DAGs, worker counts and failures keep every promise of the engine."""

from __future__ import annotations

import random
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from threaded_order import Scheduler, Task


@st.composite
def runs(draw):
    """A DAG (each task may wait for earlier ones), failing tasks and run options."""
    size = draw(st.integers(min_value=1, max_value=12))
    deps = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
        for i in range(size)
    ]
    failing = draw(st.sets(st.integers(0, size - 1)))
    workers = draw(st.integers(min_value=1, max_value=6))
    skip_dependents = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))  # the order tasks are handed to add_tasks
    return deps, failing, workers, skip_dependents, seed


def _expected(deps, failing, skip_dependents):
    """Statuses worked out in dependency order from the rules of the scheduler."""
    status = []
    for i, parents in enumerate(deps):
        if skip_dependents and any(status[p] != "passed" for p in parents):
            status.append("skipped")
        else:
            status.append("failed" if i in failing else "passed")
    return status


@settings(max_examples=200, deadline=None)
@given(runs())
def test_random_graphs_respect_dependencies_and_account_for_every_task(case):
    deps, failing, workers, skip_dependents, seed = case
    names = [f"t{i}" for i in range(len(deps))]
    lock = threading.Lock()
    finished: set[str] = set()
    starts: list[str] = []
    early: list[tuple[str, list[str]]] = []

    def body(i):
        def task():
            with lock:
                starts.append(names[i])
                missing = [names[p] for p in deps[i] if names[p] not in finished]
                if missing:
                    early.append((names[i], missing))
            try:
                if i in failing:
                    raise RuntimeError(f"{names[i]} fails")
            finally:
                with lock:
                    finished.add(names[i])

        return task

    tasks = [Task(names[i], body(i), tuple(names[p] for p in deps[i])) for i in range(len(deps))]
    random.Random(seed).shuffle(tasks)
    s = Scheduler(workers=workers, skip_dependents=skip_dependents)
    s.add_tasks(tasks)
    summary = s.start()

    assert early == [], "a task started before its dependencies finished"
    assert len(starts) == len(set(starts)), "a task ran twice"
    everything = summary["passed"] + summary["failed"] + summary["skipped"]
    assert sorted(everything) == sorted(names) and len(everything) == len(names)
    assert summary["cancelled"] == [] and summary["interrupted"] is False
    assert set(summary["ran"]) == set(starts)

    status = _expected(deps, failing, skip_dependents)
    assert {n: summary["tasks"][n].status for n in names} == dict(zip(names, status))
    failed = {names[i] for i, s_ in enumerate(status) if s_ == "failed"}
    if skip_dependents:
        dependents = set()
        frontier = set(failed)
        while frontier:
            frontier = {names[i] for i, parents in enumerate(deps)
                        if any(names[p] in frontier for p in parents)} - dependents
            dependents |= frontier
        assert set(summary["skipped"]) == dependents
    else:
        assert summary["skipped"] == []
        assert set(summary["failed"]) == {names[i] for i in failing}
