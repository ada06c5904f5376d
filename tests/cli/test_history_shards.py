"""--shard K/N: a partition of the selected tasks, closed under dependencies, balanced by
expected durations (LPT), the same every time, and named in the reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from ._support import assert_error, mtrun

# Components (weights from the durations file): a chain c1 -> c2 -> c3 of 1 + 2 + 5 = 8,
# a chain d1 -> d2 of 3 + 4 = 7, and singles of 6, 5, 4, 3, 2, 1.
DURATIONS = {"c1": 1, "c2": 2, "c3": 5, "d1": 3, "d2": 4,
             "s6": 6, "s5": 5, "s4": 4, "s3": 3, "s2": 2, "s1": 1}
AFTER = {"c2": "c1", "c3": "c2", "d2": "d1"}


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    source = "from threaded_order import dmark\n"
    for name in DURATIONS:
        after = f'after=["test_{AFTER[name]}"]' if name in AFTER else ""
        source += f"\n@dmark({after})\ndef test_{name}():\n    pass\n"
    (tmp_path / "test_sharded.py").write_text(source, encoding="utf-8")
    (tmp_path / ".mtrun-durations.json").write_text(json.dumps(
        {f"test_sharded.py::test_{k}": v for k, v in DURATIONS.items()}))
    return tmp_path


def _listed(result):
    assert result.ret == 0, result.stderr
    return [line.split()[0][len("test_"):] for line in result.stdout.splitlines()
            if line.startswith("test_")]


def _shards(folder, count):
    with ThreadPoolExecutor(count) as pool:
        runs = list(pool.map(lambda k: mtrun("test_sharded.py", f"--shard={k}/{count}",
                                             "--collect-only", cwd=folder),
                             range(1, count + 1)))
    return [_listed(r) for r in runs]


def test_shards_partition_keep_chains_whole_and_balance_longest_first(tmp_path):
    folder = _project(tmp_path)
    everything = _listed(mtrun("test_sharded.py", "--collect-only", cwd=folder))
    shards = _shards(folder, 2)
    assert sorted(t for s in shards for t in s) == sorted(everything)  # the union is the suite...
    assert not set(shards[0]) & set(shards[1])  # ...each task in one shard
    for chain in (("c1", "c2", "c3"), ("d1", "d2")):
        assert any(set(chain) <= set(s) for s in shards), (chain, shards)
    # LPT: 8 | 7, 6 -> 2nd (13), 5 -> 1st (13), 4 -> 1st (17), 3 -> 2nd (16), 2 -> 2nd,
    # 1 -> 1st: 18 and 18.
    assert [sum(DURATIONS[n] for n in s) for s in shards] == [18, 18]
    assert sorted(shards[0]) == sorted(["c1", "c2", "c3", "s5", "s4", "s1"])
    assert _shards(folder, 2) == shards  # the same inputs, the same shards


def test_more_shards_than_chains_and_the_header(tmp_path):
    folder = _project(tmp_path)
    shards = _shards(folder, 8)
    assert sorted(t for s in shards for t in s) == sorted(DURATIONS) and all(shards)
    result = mtrun("test_sharded.py", "--shard", "1/3", cwd=folder)
    assert result.ret == 0, result.stderr
    assert "shard 1/3: " in result.stdout
    assert_error(mtrun("test_sharded.py", "--shard=9/9", "-k", "c1 or c2", cwd=folder), 5,
                 "--shard 9/9: this shard is empty")


def test_bad_shard_specs_are_one_line(tmp_path):
    folder = _project(tmp_path)
    for spec, words in (("0/2", "between 1 and N"), ("3/2", "between 1 and N"),
                        ("2", "expected K/N"), ("a/b", "expected K/N")):
        assert_error(mtrun("test_sharded.py", f"--shard={spec}", cwd=folder), 4, words)


def test_each_shard_report_names_its_shard(tmp_path):
    folder = _project(tmp_path)
    result = mtrun("test_sharded.py", "--shard=2/3", "--reporter", "json=r.json",
                   "--junitxml", "j.xml", cwd=folder, autoload=True)
    assert result.ret == 0, result.stderr
    assert json.loads((folder / "r.json").read_text())["shard"] == "2/3"
    root = ET.parse(folder / "j.xml").getroot()
    assert root.get("name").endswith("shard 2/3")
    assert [p.get("value") for p in root.iter("property") if p.get("name") == "shard"] \
        == ["2/3"]
