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


def scan(text: str, token: re.Pattern[str], refuse: Callable[[str, int], str]) -> list[str]:
    """Split an expression into tokens (``-k`` and ``--tags`` share this); ``refuse`` gives
    the one-line error for the position where no token matches."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = token.match(text, pos)
        if match is None:
            raise UsageError(refuse(text, pos))
        tokens.append(match.group(0).strip())
        pos = match.end()
    return tokens


def _tokens(text: str) -> list[str]:
    found = scan(text, _TOKEN, lambda t, pos: f"--tags {t!r}: cannot read it at position {pos}")
    return ["or" if t == "," else t for t in found]  # "a,b": any of the tags


def compile_tags(text: str) -> Matcher:
    """Parse once; the matcher takes a task's set of tags.

    Parsed and evaluated without recursion (shunting-yard into postfix), so an expression
    nested a thousand deep is just long, not a ``RecursionError``.
    """
    tokens = _tokens(text)
    if not tokens:
        raise UsageError("--tags needs at least one tag")
    program = _postfix(tokens, lambda what: UsageError(f"--tags {text!r}: {what}"))

    def match(tags: set[str]) -> bool:
        return evaluate(program, tags.__contains__)

    return match


def evaluate(program: list[str], holds: Callable[[str], bool]) -> bool:
    """Run a postfix ``program`` (from ``_postfix``); ``holds(word)`` says if a word is
    true. Shared by ``--tags`` and ``-k``."""
    stack: list[bool] = []
    for op in program:
        if op == _NOT:
            stack.append(not stack.pop())
        elif op in _BINARY:
            right, left = stack.pop(), stack.pop()
            stack.append(left and right if op == _AND else left or right)
        else:
            stack.append(holds(op[1:]))
    return stack[0]


# Postfix program: operators as below, a tag as "=" + its name (no clash with an operator).
_NOT, _AND, _OR = "not", "and", "or"
_BINARY = {_AND: 2, _OR: 1}


def _postfix(tokens: list[str], fail: Callable[[str], UsageError], noun: str = "a tag"
             ) -> list[str]:
    """``expr := term (or term)*``, ``term := factor (and factor)*``,
    ``factor := not factor | ( expr ) | TAG``, as postfix."""
    out: list[str] = []
    ops: list[str] = []  # "not", "and", "or" and "("
    want_operand = True
    for token in tokens:
        if want_operand:
            if token in (_NOT, "("):
                ops.append(token)
            elif token in (")", _AND, _OR):
                raise fail(f"expected {noun}, found {token!r}")
            else:
                out.append("=" + token)
                want_operand = False
        elif token in _BINARY:
            while ops and ops[-1] != "(" and (ops[-1] == _NOT or
                                              _BINARY[ops[-1]] >= _BINARY[token]):
                out.append(ops.pop())
            ops.append(token)
            want_operand = True
        elif token == ")":
            while ops and ops[-1] != "(":
                out.append(ops.pop())
            if not ops:
                raise fail("unexpected ')'")
            ops.pop()
        else:
            raise fail(f"unexpected {token!r}")
    if want_operand:
        raise fail(f"expected {noun}, found 'the end'")
    while ops:
        op = ops.pop()
        if op == "(":
            raise fail("missing ')'")
        out.append(op)
    return out
