"""``-k EXPR``: select tasks by name with pytest's grammar, parsed and never evaluated.

``expr := and_expr ("or" and_expr)*``, ``and_expr := not_expr ("and" not_expr)*``,
``not_expr := "not" not_expr | "(" expr ")" | IDENT``. An identifier matches a task when it
is a case-insensitive substring of one of its names: the folders and file of its module, the
function, or one of its tags (pytest's markers). An empty expression matches every task.
"""

from __future__ import annotations

import re
from typing import Callable

from threaded_order import Task

from .collect import selection
from .config import UsageError
from .tagexpr import _postfix, evaluate, scan

KeywordMatcher = Callable[[Task], bool]

_TOKEN = re.compile(r"\s*(?:(\()|(\))|([\w:+\-.\[\]\\/]+))")


def _tokens(text: str) -> list[str]:
    return scan(text, _TOKEN, lambda t, pos: f"-k {t!r}: unexpected character "
                                             f"{t[pos:].lstrip()[0]!r} at position {pos + 1}")


def names_of(task: Task) -> list[str]:
    """What ``-k`` looks in, lower-cased: ``tests/test_api.py::login`` gives ``tests``,
    ``test_api.py`` and ``login`` (in a one-file run too); then the tags."""
    where = f"{task.module}::{task.name}" if task.module and "::" not in task.name \
        else task.name
    parts = [p for part in where.split("::") for p in part.split("/") if p]
    return [p.lower() for p in (*parts, *task.tags)]


def compile_keywords(text: str) -> KeywordMatcher:
    tokens = _tokens(text)
    if not tokens:
        return lambda task: True
    program = _postfix(tokens, lambda what: UsageError(f"-k {text!r}: {what}"),
                       "an identifier")

    def match(task: Task) -> bool:
        names = names_of(task)
        return evaluate(program, lambda word: any(word.lower() in name for name in names))

    return match


def select(all_tasks: list[Task], chosen: list[Task], match: KeywordMatcher,
           with_deps: bool) -> list[Task]:
    """Of ``chosen`` (targets and --tags applied), those ``match`` takes; with ``with_deps``
    also every task they depend on. Dependencies left out are dropped from ``after``."""
    return selection(all_tasks, {t.name for t in chosen if match(t)}, with_deps)
