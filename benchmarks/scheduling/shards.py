"""N shards of the suite, as N clean CI machines would run them: by ``--shard K/N`` and,
for comparison, by splitting the files into N groups of equal count (round robin over the
sorted names, ``split -n r/K/N``).

History comes as CI has it: one full run writes ``.mtrun-durations.json``
(``--store-durations``), then every shard starts without ``.mtrun_cache/``, so all shards
see the same durations and so the same split.
"""

from __future__ import annotations

import shutil
import statistics
from typing import Any, NamedTuple

from .runs import Outcome, run_mtrun
from .suite import Suite, Written, critical_path

METHODS = ("--shard K/N", "file count")


class Split(NamedTuple):
    method: str
    n: int  # shards
    workers: int
    shards: list[Outcome]

    def summary(self, suite: Suite) -> dict[str, Any]:
        """Work (the sum of durations) and wall time of each shard, against the ideal."""
        works = [s.busy for s in self.shards]
        walls = [s.makespan for s in self.shards]
        total = sum(works)
        ideal = total / self.n
        names = [n for s in self.shards for n in s.durations]
        everything = {t.name for t in suite.tests}
        seconds = {n: d for s in self.shards for n, d in s.durations.items()}
        # the longest chain runs whole in some shard: no shard split can end sooner
        ideal_wall = max(ideal / self.workers, critical_path(suite.edges(), seconds))
        partition = sorted(names) == sorted(everything)
        return {
            "method": self.method, "shards": self.n, "workers": self.workers,
            "tests": [len(s.durations) for s in self.shards],
            "work_s": works, "wall_s": walls, "total_work_s": total, "ideal_work_s": ideal,
            "slowest_work_ratio": max(works) / ideal if ideal else float("nan"),
            "work_spread": max(works) / min(works) if min(works) > 0 else float("inf"),
            "ideal_wall_s": ideal_wall,
            "slowest_wall_ratio": max(walls) / ideal_wall if ideal_wall else float("nan"),
            "wall_spread": max(walls) / min(walls) if min(walls) > 0 else float("inf"),
            "partition": partition,
            "right": partition and all(s.right for s in self.shards),
            "problems": [p for s in self.shards for p in s.problems],
            "headers": [s.note for s in self.shards],
        }


def store_durations(suite: Suite, written: Written, workers: int) -> Outcome:
    """The committed history: one full run with ``--store-durations``."""
    shutil.rmtree(written.mtrun_dir / ".mtrun_cache", ignore_errors=True)
    return run_mtrun(suite, written, "history for shards", workers,
                     (".", "--store-durations"), {t.name for t in suite.tests})


def _clean_machine(written: Written) -> None:
    shutil.rmtree(written.mtrun_dir / ".mtrun_cache", ignore_errors=True)


def by_file_count(suite: Suite, count: int) -> list[list[str]]:
    files = suite.files
    return [files[k::count] for k in range(count)]


def run_splits(suite: Suite, written: Written, count: int, workers: int) -> list[Split]:
    """Each shard of each method, interleaved: shard 1 both ways, then shard 2, ..."""
    found: dict[str, list[Outcome]] = {m: [] for m in METHODS}
    groups = by_file_count(suite, count)
    for k in range(1, count + 1):
        _clean_machine(written)
        found[METHODS[0]].append(run_mtrun(suite, written, f"shard {k}/{count}", workers,
                                           (".", "--shard", f"{k}/{count}")))
        _clean_machine(written)
        files = groups[k - 1]
        expected = {t.name for t in suite.tests if t.module in files}
        found[METHODS[1]].append(run_mtrun(suite, written, f"files {k}/{count}", workers,
                                           tuple(files), expected))
    _clean_machine(written)
    return [Split(m, count, workers, found[m]) for m in METHODS]


def median_summary(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over repeats of one method; per-shard lists of floats
    element-wise, the tests per shard of the first repeat (each repeat's durations, so its
    split, may differ a little)."""
    first = summaries[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        values = [s[key] for s in summaries]
        if isinstance(value, bool):
            merged[key] = all(values)
        elif isinstance(value, (int, float)):
            merged[key] = statistics.median(values)
        elif isinstance(value, list) and value and isinstance(value[0], float):
            merged[key] = [statistics.median(col) for col in zip(*values)]
        elif key == "problems":
            merged[key] = [p for v in values for p in v]
        else:
            merged[key] = value
    return merged
