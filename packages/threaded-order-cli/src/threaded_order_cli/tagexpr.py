"""``--tags``: a comma list (any of the tags) or a boolean expression, as in pytest's ``-m``.

Grammar: ``expr := term ("or" term)*``, ``term := factor ("and" factor)*``,
``factor := "not" factor | "(" expr ")" | TAG``; a comma is another spelling of ``or``.
"""

from __future__ import annotations

import re
from typing import Callable

from .config import UsageError

Matcher = Callable[[set[str]], bool]

_TOKEN = re.compile(r"\s*(?:(\()|(\))|(,)|([^\s(),]+))")


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise UsageError(f"--tags {text!r}: cannot read it at position {pos}")
        tokens.append("or" if match.group(3) else match.group(0).strip())
        pos = match.end()
    return tokens


def compile_tags(text: str) -> Matcher:
    """Parse once; the matcher takes a task's set of tags."""
    tokens = _tokens(text)
    if not tokens:
        raise UsageError("--tags needs at least one tag")
    position = 0

    def fail(what: str) -> UsageError:
        return UsageError(f"--tags {text!r}: {what}")

    def peek() -> str:
        return tokens[position] if position < len(tokens) else ""

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expr() -> Matcher:
        parts = [term()]
        while peek() == "or":
            take()
            parts.append(term())
        return parts[0] if len(parts) == 1 else (lambda tags: any(p(tags) for p in parts))

    def term() -> Matcher:
        parts = [factor()]
        while peek() == "and":
            take()
            parts.append(factor())
        return parts[0] if len(parts) == 1 else (lambda tags: all(p(tags) for p in parts))

    def factor() -> Matcher:
        token = peek()
        if token == "not":
            take()
            inner = factor()
            return lambda tags: not inner(tags)
        if token == "(":
            take()
            inner = expr()
            if peek() != ")":
                raise fail("missing ')'")
            take()
            return inner
        if token in ("", ")", "and", "or"):
            raise fail(f"expected a tag, found {token or 'the end'!r}")
        take()
        return lambda tags: token in tags

    matcher = expr()
    if position != len(tokens):
        raise fail(f"unexpected {peek()!r}")
    return matcher
