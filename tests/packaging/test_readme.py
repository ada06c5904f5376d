"""The README stays true: its hook reference matches the hookspecs, and its commands match CI."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import threaded_order.hookspecs as core_specs
import threaded_order_cli.hookspecs as cli_specs

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _hook_signatures(module):
    return {
        name: list(inspect.signature(fn).parameters)
        for name, fn in vars(module).items()
        if name.startswith("threaded_order_") and callable(fn)
    }


def test_hook_reference_lists_every_hook_with_its_arguments():
    table = README.split("<!-- hooks:start -->")[1].split("<!-- hooks:end -->")[0]
    documented = {m.group(1): [a.strip() for a in m.group(2).split(",") if a.strip()]
                  for m in re.finditer(r"`(threaded_order_\w+)\(([^)]*)\)`", table)}
    specs = {**_hook_signatures(core_specs), **_hook_signatures(cli_specs)}
    assert documented == specs


def test_ci_runs_the_readme_test_command():
    block = README.split("```", 2)[1]  # the first code block: the two commands
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2, "README opens with the two commands"
    assert commands[0].endswith("mtrun examples/example4c.py")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci, "CI runs README's test command, as written"


def test_the_jq_recipe_is_the_one_the_structlog_tests_run():
    """The structlog package's README holds the query its tests run with the real jq."""
    package = (ROOT / "packages" / "threaded-order-reporters" / "structlog" / "README.md")

    def query(text):
        found = re.search(r"^jq -s '.*?' \S+$", text, re.M | re.S)
        assert found, "no jq recipe"
        return found.group(0)

    assert query(README) == query(package.read_text())
