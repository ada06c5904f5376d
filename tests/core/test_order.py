"""Critical-path-first order, priorities, and the critical path and efficiency in the summary."""

from __future__ import annotations

import threading

import pytest

from threaded_order import Scheduler
from threaded_order._order import remaining_paths, renumbered

from ._support import noop


def _start_order(s: Scheduler) -> list[str]:
    started: list[str] = []
    lock = threading.Lock()

    def record(name: str) -> None:
        with lock:
            started.append(name)

    s.on_task_start(record)
    s.start()
    return started


def _suite(order: str, **options) -> Scheduler:
    """One worker, so the start order is exactly the ready order. "short" is registered
    first but "head" begins a chain of three: the chain goes first by critical path."""
    s = Scheduler(workers=1, order=order, **options)
    s.register(noop, "short")
    s.register(noop, "head")
    s.register(noop, "middle", after="head")
    s.register(noop, "tail", after="middle")
    s.register(noop, "other")
    return s


def test_registration_order_is_the_library_default():
    assert _start_order(_suite("registration")) == ["short", "head", "middle", "tail", "other"]
    s = Scheduler(workers=1)
    assert s.order == "registration"


def test_critical_path_first_starts_the_longest_chain_first():
    # Once "tail" is all that is left of the chain, it ties with the others (one task
    # each): ties keep registration order.
    assert _start_order(_suite("critical-path")) == ["head", "middle", "short", "tail",
                                                     "other"]


def test_expected_durations_weigh_the_paths():
    """A long task alone outweighs a chain of short ones; unknown tasks take the median."""
    s = _suite("critical-path", expected_durations={"other": 10.0, "head": 0.1,
                                                     "middle": 0.1, "tail": 0.1})
    assert _start_order(s)[0] == "other"


def test_priority_wins_over_the_critical_path():
    s = _suite("critical-path")
    s.register(noop, "urgent", priority=5)
    assert _start_order(s)[0] == "urgent"


def test_a_bad_order_or_priority_is_a_value_error():
    with pytest.raises(ValueError, match="order must be one of"):
        Scheduler(order="fastest")
    with pytest.raises(ValueError, match="priority"):
        Scheduler().register(noop, "a", priority="high")


def test_results_and_reports_keep_registration_order():
    s = _suite("critical-path")
    summary = s.start()
    assert list(summary["tasks"]) == ["short", "head", "middle", "tail", "other"]
    assert sorted(summary["passed"]) == sorted(summary["tasks"])


def test_remaining_paths_and_an_unchanged_graph_is_not_copied():
    s = _suite("critical-path")
    compiled = s.graph.compile()
    assert remaining_paths(compiled, None) == [1.0, 3.0, 2.0, 1.0, 1.0]
    flat = Scheduler()
    for name in "abc":
        flat.register(noop, name)
    same = flat.graph.compile()
    assert renumbered(same, None) == (same, None)


def test_the_summary_names_the_critical_path_and_the_efficiency():
    gate = threading.Event()
    s = Scheduler(workers=2)
    s.register(lambda: gate.wait(10), "slow")
    s.register(noop, "after_slow", after="slow")
    s.register(lambda: gate.set(), "opens")
    summary = s.start()
    path, tasks = summary["critical_path"], summary["tasks"]
    # Which chain has the most work depends on timing: check what holds for any of them.
    assert path["tasks"] in (["slow", "after_slow"], ["opens"])
    assert path["duration"] == pytest.approx(sum(tasks[n].duration for n in path["tasks"]))
    assert path["duration"] >= max(r.duration for r in tasks.values())
    eff = summary["efficiency"]
    assert eff["workers"] == 2 and 0 < eff["parallel"] <= 1.0
    assert eff["lower_bound"] <= eff["wall"] + 1e-3


def test_an_empty_run_has_an_empty_critical_path():
    summary = Scheduler().start()
    assert summary["critical_path"] == {"tasks": [], "duration": 0.0}


def test_the_critical_path_of_a_long_chain_is_found_in_linear_time():
    """A chain as long as the run: the walk back must not look through the chain so far
    at each step (it was quadratic: 5000 tasks took longer than the run itself)."""
    from threaded_order._order import critical_path
    from threaded_order.results import TaskResult

    n = 20000
    records = {}
    for i in range(n):
        result = TaskResult(f"t{i}", "passed", start=float(i), finish=i + 1.0, duration=1.0,
                            after=(f"t{i - 1}",) if i else ())
        records[result.name] = result
    path = critical_path(records, list(records))
    assert len(path["tasks"]) == n and path["duration"] == n


def _record(name, start, finish, after=()):
    from threaded_order.results import TaskResult

    return TaskResult(name, "passed", start=start, finish=finish, duration=finish - start,
                      after=after)


def test_the_critical_path_is_the_chain_with_most_work_not_the_last_to_finish():
    """A run bounded by total work ends with some short task; the critical path is still
    the longest chain, the bound no order could beat."""
    from threaded_order._order import critical_path

    ended = [_record("a", 0.0, 2.0), _record("b", 2.0, 5.0, ("a",)),
             _record("x", 0.0, 1.0), _record("y", 1.0, 1.5, ("x",)),
             _record("short_last", 5.0, 5.1)]
    records = {r.name: r for r in ended}
    path = critical_path(records, [r.name for r in ended])
    assert path == {"tasks": ["a", "b"], "duration": 5.0}


def test_the_longest_dependency_is_followed_where_a_task_has_several():
    from threaded_order._order import critical_path

    ended = [_record("quick", 0.0, 0.5), _record("slow", 0.0, 3.0),
             _record("join", 3.0, 4.0, ("quick", "slow", "never_ran"))]
    records = {r.name: r for r in ended}
    path = critical_path(records, [r.name for r in ended])
    assert path == {"tasks": ["slow", "join"], "duration": 4.0}


def test_independent_tasks_give_the_longest_one():
    from threaded_order._order import critical_path

    ended = [_record("a", 0.0, 1.0), _record("b", 0.0, 3.0), _record("c", 1.0, 1.5)]
    path = critical_path({r.name: r for r in ended}, [r.name for r in ended])
    assert path == {"tasks": ["b"], "duration": 3.0}
