"""Parametrized tasks through a real mtrun: name[id] instances, dependencies on and from
them, ::name[id] selection, and pytest's parametrize marks."""

from __future__ import annotations

import json
from pathlib import Path

from ._support import mtrun, write

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "http_api"

PARAMS = '''
from pathlib import Path

from threaded_order import dmark


def log(line):
    with open(Path(__file__).parent / "order.log", "a") as f:
        f.write(line + "\\n")


@dmark(params=["admin", "guest"])
def test_create(param):
    log(f"create {param}")
    return {"role": param}


@dmark(after=["test_create"], with_state=True, params=[("admin", 200), ("guest", 403)],
       argnames="role,status", ids=lambda value: value[0])
def test_read(state, role, status):
    log(f"read {role}")
    for r in ("admin", "guest"):  # a dependency on a parametrized task: all of it
        assert state["results"][f"test_create[{r}]"] == {"role": r}
    assert status in (200, 403)


@dmark(after=["test_create[admin]"], with_state=True)
def test_admin_only(state):
    log("admin only")
    assert state["results"]["test_create[admin]"] == {"role": "admin"}


@dmark(params=[1, 1, None, object()])
def test_default_ids(param):
    pass
'''


def order(root: Path) -> list[str]:
    return (root / "order.log").read_text().splitlines()


def test_instances_and_dependencies_in_both_directions(tmp_path: Path) -> None:
    write(tmp_path, "test_params.py", PARAMS)
    done = mtrun("test_params.py", "--reporter", "json=r.json", cwd=tmp_path, autoload=True)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=9)
    ids = [t["id"] for t in json.loads((tmp_path / "r.json").read_text())["tasks"]]
    assert sorted(ids) == sorted(f"test_params.py::{n}" for n in [
        "test_create[admin]", "test_create[guest]", "test_read[admin]", "test_read[guest]",
        "test_admin_only", "test_default_ids[10]", "test_default_ids[11]",
        "test_default_ids[None]", "test_default_ids[param3]"])
    lines = order(tmp_path)
    creates = [lines.index("create admin"), lines.index("create guest")]
    assert max(creates) < min(lines.index("read admin"), lines.index("read guest"))
    assert lines.index("create admin") < lines.index("admin only")


def test_select_one_instance_with_its_dependencies(tmp_path: Path) -> None:
    write(tmp_path, "test_params.py", PARAMS)
    done = mtrun("test_params.py::test_admin_only", "--with-deps", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    assert order(tmp_path) == ["create admin", "admin only"]

    (tmp_path / "order.log").unlink()
    done = mtrun("test_params.py::test_create[guest]", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    assert order(tmp_path) == ["create guest"]


def test_a_bad_parameter_spec_is_a_one_line_error(tmp_path: Path) -> None:
    write(tmp_path, "test_bad.py", '''
        from threaded_order import dmark

        @dmark(params=[1, 2], ids=["only one"])
        def test_x(param):
            pass
    ''')
    done = mtrun("test_bad.py", cwd=tmp_path)
    assert done.ret != 0 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert "test_bad.py" in line and "1 ids for 2 params" in line


def test_pytest_parametrize_marks_are_honoured(tmp_path: Path) -> None:
    write(tmp_path, "test_pt.py", '''
        import pytest
        from threaded_order import dmark

        @dmark()
        @pytest.mark.parametrize("x", [0, 1])
        @pytest.mark.parametrize("y,z", [(2, 3), pytest.param(4, 5, id="big")])
        def test_grid(x, y, z):
            assert y < z

        @pytest.mark.parametrize("n", [3], ids=["three"])
        @dmark(after=["test_grid"])
        def test_after_grid(n):
            assert n == 3
    ''')
    done = mtrun("test_pt.py", "-v", cwd=tmp_path)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=5)
    for name in ("test_grid[2-3-0]", "test_grid[2-3-1]", "test_grid[big-0]",
                 "test_grid[big-1]", "test_after_grid[three]"):
        assert name in done.stdout, name


def test_the_http_api_example_suite(tmp_path: Path) -> None:
    done = mtrun(str(EXAMPLE), "-rsx", "--reporter", f"json={tmp_path / 'r.json'}",
                 cwd=EXAMPLE.parent.parent, autoload=True)
    assert done.ret == 0, done.stdout + done.stderr
    done.assert_outcomes(passed=12, skipped=2, xfailed=1)
    ids = {t["id"] for t in json.loads((tmp_path / "r.json").read_text())["tasks"]}
    assert "examples/http_api/test_users.py::test_update[viewer]" in ids
