"""Every code block of README.md runs, through sybil: Python snippets as scripts, shell
blocks as mtrun commands, TOML blocks as configuration that mtrun accepts.

A block that cannot run here is marked in the README with ``<!-- skip: next "why" -->``
(sybil's skip directive); it is reported as a skipped test with that reason. A block that is
neither runnable nor marked fails, so a new block is either tested or visibly skipped. Each
block runs in its own temporary project holding a copy of ``examples/`` and a small
``tests/`` suite, with a timeout.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path

import pytest
from sybil import Document, Example, Region
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

from threaded_order_cli.testing import TIMEOUT, run_mtrun

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# The suite `mtrun tests/` finds in the temporary project: it passes, with a dependency.
SUITE = '''\
from threaded_order import dmark

@dmark()
def test_login(): pass

@dmark(after=["test_login"])
def test_profile(): pass
'''
# A pytest test of a snippet is a top-level `def test_...(tmp_path)`.
PYTEST_SNIPPET = re.compile(r"^def test_\w+\(tmp_path", re.M)
MTRUN_LINE = re.compile(r"^(?:uv run )?mtrun(?: |$)")


def _code_blocks(document: Document) -> Iterator[Region]:
    """Every fenced block, whatever its language (none included)."""
    lexer = FencedCodeBlockLexer(language=r"[\w-]*", mapping={"language": "language",
                                                             "source": "source"})
    for region in lexer(document):
        region.parsed = (region.lexemes["language"], str(region.lexemes["source"]))
        region.evaluator = _evaluate
        yield region


def _project(tmp_path: Path) -> Path:
    """A temporary project: the repository's examples and a passing tests/ suite."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info", ".venv", "build", "dist"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(SUITE, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'sample'\n", encoding="utf-8")
    return tmp_path


def _run_python(source: str, cwd: Path) -> None:
    """A snippet is a script (or a pytest test module) that a user pastes into a file."""
    if PYTEST_SNIPPET.search(source):
        script = cwd / "test_snippet.py"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name]
    else:
        script = cwd / "snippet.py"
        command = [sys.executable, script.name]
    script.write_text(source, encoding="utf-8")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _run_commands(source: str, cwd: Path) -> None:
    """Each line is an mtrun command that must pass on the sample project."""
    for line in source.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert MTRUN_LINE.match(line), (
            f"not an mtrun command: {line!r}; mark the block <!-- skip: next \"why\" -->")
        result = run_mtrun(*words[words.index("mtrun") + 1:], cwd=cwd)
        assert result.ret == 0, f"{line}: exit {result.ret}\n{result.stdout}\n{result.stderr}"


def _check_config(source: str, cwd: Path) -> None:
    """The TOML parses, and mtrun accepts it as the project's pyproject.toml."""
    config = tomllib.loads(source)
    if "tool" in config and "mtrun" in config["tool"]:
        (cwd / "pyproject.toml").write_text(source, encoding="utf-8")
    result = run_mtrun("--show-config", cwd=cwd)
    assert result.ret == 0, f"exit {result.ret}\n{result.stdout}\n{result.stderr}"


def _evaluate(example: Example) -> None:
    language, source = example.parsed
    cwd = example.namespace["cwd"]
    if language == "python":
        _run_python(source, cwd)
    elif language == "toml":
        _check_config(source, cwd)
    elif language in ("", "sh", "shell", "bash"):
        _run_commands(source, cwd)
    else:
        raise AssertionError(f"no way to run a {language!r} block; mark it skipped")


def _blocks() -> list[tuple[Example, list[Example]]]:
    """Each code block with the skip directives just before it."""
    document = Document.parse(str(README), SkipParser(), _code_blocks)
    blocks: list[tuple[Example, list[Example]]] = []
    directives: list[Example] = []
    for example in document.examples():
        if example.region.evaluator is _evaluate:
            blocks.append((example, directives))
            directives = []
        else:
            directives.append(example)
    return blocks


BLOCKS = _blocks()


@pytest.mark.parametrize(("block", "directives"), BLOCKS,
                         ids=[f"README.md:{block.line}" for block, _ in BLOCKS])
def test_readme_block(block: Example, directives: list[Example], tmp_path: Path) -> None:
    block.namespace["cwd"] = _project(tmp_path)
    for directive in directives:
        assert directive.parsed[1], "a skip directive needs a reason: <!-- skip: next \"why\" -->"
    try:
        for directive in directives:
            directive.evaluate()
        block.evaluate()
    except unittest.SkipTest as skip:
        pytest.skip(f"README.md:{block.line}: {skip}")


def test_readme_has_blocks_of_each_kind() -> None:
    languages = {block.parsed[0] for block, _ in BLOCKS}
    assert {"python", "toml", ""} <= languages
