"""The benchmark suite at tiny sizes: correctness only, never timing.

Ours and the hand-rolled baseline need only the standard library, so CI checks them; the
dask runner and the chart need the ``bench`` group and are skipped without it.
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path

import pytest

from benchmarks import graphs, measure, runners
from benchmarks.__main__ import main

ROOT = Path(__file__).resolve().parents[2]

SPECS = ["independent:30", "chain:15", "fan:20", "layered:40", "suite:60"]
TINY = ["--sizes", "20", "--sleep-size", "12", "--sleep-ms", "1", "--repeats", "1",
        "--scale-sizes", "50,200"]


def test_imports_the_repository_package():
    assert Path(graphs.__file__).parent == ROOT / "benchmarks"


@pytest.mark.parametrize("spec", SPECS)
def test_graphs_are_seeded_dags_in_topological_order(spec):
    graph = graphs.make(spec)
    assert graph == graphs.make(spec)
    assert all(d < i for i, ds in enumerate(graph.deps) for d in ds)


def _list_schedule(graph: graphs.Graph, workers: int) -> int:
    """Makespan of greedy list scheduling of unit tasks: an upper bound on the optimum."""
    pending = [len(d) for d in graph.deps]
    children: list[list[int]] = [[] for _ in graph.deps]
    for i, ds in enumerate(graph.deps):
        for d in ds:
            children[d].append(i)
    ready = [i for i, n in enumerate(pending) if n == 0]
    steps = 0
    while ready:
        heapq.heapify(ready)
        batch = [heapq.heappop(ready) for _ in range(min(workers, len(ready)))]
        steps += 1
        for i in batch:
            for c in children[i]:
                pending[c] -= 1
                if pending[c] == 0:
                    ready.append(c)
    return steps


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
@pytest.mark.parametrize("spec", [*SPECS, "layered:200", "suite:300"])
def test_lower_bound_is_between_the_simple_bound_and_a_real_schedule(spec, workers):
    graph = graphs.make(spec)
    bound = graphs.unit_lower_bound(graph, workers)
    assert graphs.simple_lower_bound(graph, workers) <= bound <= _list_schedule(graph, workers)


def test_lower_bound_is_exact_where_the_optimum_is_known():
    assert graphs.unit_lower_bound(graphs.make("independent:10"), 4) == 3
    assert graphs.unit_lower_bound(graphs.make("chain:7"), 4) == 7
    assert graphs.unit_lower_bound(graphs.make("fan:10"), 4) == 2 + 3


@pytest.mark.parametrize("runner", ["ours", "handrolled"])
@pytest.mark.parametrize("spec", SPECS)
def test_stdlib_runners_run_every_task_after_its_dependencies(runner, spec):
    graph = graphs.make(spec)
    recorder = runners.Recorder(graph.size)
    runners.RUNNERS[runner](graph, recorder.funcs, 3)
    assert recorder.problems(graph) == []


def test_check_order_reports_a_violation():
    graph = graphs.make("chain:2")
    assert runners.check_order(graph, [(1, 0), (0, 0), (0, 1), (1, 1)])
    assert runners.check_order(graph, [(0, 0), (0, 1)])


def test_scale_probe_reports_every_figure():
    scale = measure.scale_runs(50, 200, 2, 1)
    assert set(scale["register_us_per_task"]) == {"ours:50", "ours:200", "handrolled:50",
                                                  "handrolled:200"}
    assert set(scale["run_us_per_task"]) == {"50", "200"}
    assert scale["peak_bytes_per_task"] > 0


def test_cli_without_the_bench_group(tmp_path, capsys):
    out = tmp_path / "r.json"
    data = main([*TINY, "--runners", "ours,handrolled", "--out", str(out), "--no-chart"])
    text = capsys.readouterr().out
    assert "TARGETS" in text and out.exists()
    saved = json.loads(out.read_text())
    assert {r["runner"] for r in saved["noop"]} == {"ours", "handrolled"}
    assert len(data["sleep"]) == 2 * len(graphs.KINDS)
    assert all(r["efficiency"] > 0 for r in data["sleep"])


def test_dask_runner_runs_every_task_after_its_dependencies():
    pytest.importorskip("dask")
    for spec in SPECS:
        graph = graphs.make(spec)
        recorder = runners.Recorder(graph.size)
        runners.run_dask(graph, recorder.funcs, 3)
        assert recorder.problems(graph) == []


def test_cli_with_dask_and_chart(tmp_path):
    pytest.importorskip("dask")
    pytest.importorskip("matplotlib")
    out, chart = tmp_path / "r.json", tmp_path / "c.png"
    data = main([*TINY, "--runners", "ours,handrolled,dask", "--skip", "sleep,scale",
                 "--out", str(out), "--chart", str(chart)])  # those two: tested above
    assert chart.stat().st_size > 0
    assert {r["runner"] for r in data["noop"]} == {"ours", "handrolled", "dask"}


def test_original_if_already_installed():
    from benchmarks import original

    if not any(original.CACHE.glob("original-*/installed.txt")):
        pytest.skip("the original threaded-order is not installed in benchmarks/.cache")
    orig = original.Original()
    for spec in ("chain:3", "fan:4", "layered:8"):
        orig.measure(graphs.make(spec), 4)  # raises if a task is missing or out of order
