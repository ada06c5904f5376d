"""Assertion values: mtrun rewrites the ``assert`` statements of the test modules it imports.

``assert resp.status == 200`` in a test function becomes, in effect::

    t1 = t2 = UNSET
    if not ((t1 := resp.status) == (t2 := 200)):
        raise AssertionError(explain(SPEC, (t1, t2), None))

Every sub-expression is still evaluated once, in the same order and with the same short
circuits (``and``, ``or``, chained comparisons): the walrus keeps what each operand gave,
and only a failing assert formats anything::

    AssertionError: assert 500 == 200
     where 500 = resp.status

Only ``assert`` statements inside functions are rewritten, and only their comparison,
``and``/``or``, ``not``, call and attribute parts get names; anything else is left as it
is. ``mtrun --assert=plain`` imports the modules unchanged. Helper modules a test imports
are not rewritten (a plain ``assert`` there still fails, without values).
"""

from __future__ import annotations

import ast
import sys
from types import CodeType
from typing import Any, Optional, Union

__all__ = ["HELPER", "UNSET", "explain", "install", "rewrite", "rewritten"]

HELPER = "@mtrun_assert"  # this module, in a rewritten module's globals: no code can spell it
_MAX_REPR = 240
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
        ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_NO_WHERE = (ast.Name, ast.Constant)  # their value says it all: no "where" line


class _Unset:
    def __repr__(self) -> str:
        return "<not evaluated>"


UNSET = _Unset()

# A spec is plain data (a constant in the rewritten code):
#   ("v", temp, source, inner)          a value; inner: the spec of an and/or operand
#   ("cmp", (temp, ...), (op, ...), (source, ...))
#   ("bool", "and" | "or", (spec, ...))
#   ("not", spec)
Spec = tuple[Any, ...]


def rewrite(source: Union[str, bytes], filename: str) -> CodeType:
    """Compile a test module with its asserts rewritten (unchanged under ``python -O``)."""
    tree = ast.parse(source, filename)
    if not sys.flags.optimize:
        _Rewriter().visit(tree)
        ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec", dont_inherit=True)


class _Rewriter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.count = 0
        self.depth = 0  # inside a function: only there do asserts get temporaries

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: Union[ast.FunctionDef, ast.AsyncFunctionDef]) -> ast.AST:
        self.depth += 1
        try:
            self.generic_visit(node)
        finally:
            self.depth -= 1
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        outer, self.depth = self.depth, 0  # a class body is no function scope
        try:
            self.generic_visit(node)
        finally:
            self.depth = outer
        return node

    def visit_Assert(self, node: ast.Assert) -> Any:
        if not self.depth or isinstance(node.test, ast.Tuple):
            return node
        temps: list[str] = []
        test, spec = self._explain(node.test, temps)
        if not temps:
            return node
        unset = ast.Attribute(ast.Name(HELPER, ast.Load()), "UNSET", ast.Load())
        init = ast.Assign([ast.Name(t, ast.Store()) for t in temps], unset)
        values = ast.Tuple([ast.Name(t, ast.Load()) for t in temps], ast.Load())
        message = node.msg if node.msg is not None else ast.Constant(None)
        call = ast.Call(ast.Attribute(ast.Name(HELPER, ast.Load()), "explain", ast.Load()),
                        [ast.Constant(spec),  # type: ignore[arg-type]  # tuples are too
                         values, message], [])
        fail = ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), [call], []), None)
        check = ast.If(ast.UnaryOp(ast.Not(), test), [fail], [])
        for new in (init, check):
            ast.copy_location(new, node)
        return [init, check]

    def _temp(self, node: ast.expr, temps: list[str]) -> tuple[ast.expr, int]:
        self.count += 1
        name = f"@mtrun_t{self.count}"
        temps.append(name)
        walrus = ast.NamedExpr(ast.Name(name, ast.Store()), node)
        return ast.copy_location(walrus, node), len(temps) - 1

    def _explain(self, node: ast.expr, temps: list[str]) -> tuple[ast.expr, Spec]:
        if isinstance(node, ast.Compare) and all(type(op) in _OPS for op in node.ops):
            operands, indexes, sources = [], [], []
            for operand in (node.left, *node.comparators):
                new, index = self._temp(operand, temps)
                operands.append(new)
                indexes.append(index)
                sources.append("" if isinstance(operand, _NO_WHERE) else ast.unparse(operand))
            node.left, node.comparators = operands[0], operands[1:]
            ops = tuple(_OPS[type(op)] for op in node.ops)
            return node, ("cmp", tuple(indexes), ops, tuple(sources))
        if isinstance(node, ast.BoolOp):
            specs = []
            values = []
            for value in node.values:
                new, spec = self._explain(value, temps)
                wrapped, index = self._temp(new, temps)  # the operand's own truth value
                values.append(wrapped)
                specs.append(("v", index, "", spec))
            node.values = values
            return node, ("bool", "and" if isinstance(node.op, ast.And) else "or", tuple(specs))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand, spec = self._explain(node.operand, temps)
            node.operand = operand
            return node, ("not", spec)
        new, index = self._temp(node, temps)
        return new, ("v", index, "" if isinstance(node, _NO_WHERE) else ast.unparse(node), None)


def explain(spec: Spec, values: tuple[Any, ...], message: Any) -> str:
    """The text of a failed assert: its values, then a ``where`` line for each call or
    attribute. Never raises: a value whose repr fails shows as a placeholder."""
    try:
        wheres: list[str] = []
        line = "assert " + _render(spec, values, wheres)
        text = "\n".join([line, *wheres])
    except Exception:  # our own bug must not hide the user's failure
        text = "assert <could not show the values>"
    if message is None:
        return text
    return f"{_safe_str(message)}\n{text}"


def _render(spec: Spec, values: tuple[Any, ...], wheres: list[str]) -> str:
    kind = spec[0]
    if kind == "cmp":
        _, indexes, ops, sources = spec
        parts = []
        for position, index in enumerate(indexes):
            value = values[index]
            if value is UNSET:
                break  # a chained comparison stopped before this operand
            if position:
                parts.append(ops[position - 1])
            parts.append(_repr(value))
            _where(value, sources[position], wheres)
        return " ".join(parts)
    if kind == "bool":
        _, op, children = spec
        shown = [_render(child, values, wheres) for child in children
                 if values[child[1]] is not UNSET]
        return "(" + f" {op} ".join(shown) + ")"
    if kind == "not":
        return "not " + _render(spec[1], values, wheres)
    _, index, source, inner = spec
    if inner is not None:
        return _render(inner, values, wheres)
    value = values[index]
    _where(value, source, wheres)
    return _repr(value)


def _where(value: Any, source: str, wheres: list[str]) -> None:
    shown = _repr(value)
    if source and source != shown:  # "[0, 1]" needs no "where [0, 1] = [0, 1]"
        wheres.append(f" where {shown} = {source}")


def _repr(value: Any) -> str:
    try:
        text = repr(value)
        if not isinstance(text, str):
            raise TypeError
    except BaseException:
        return f"<unprintable {type(value).__name__}>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR - 3] + "..."


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except BaseException:
        return _repr(value)


def install(namespace: dict[str, Any]) -> None:
    """Make a rewritten module's code find this module under ``HELPER``."""
    namespace[HELPER] = sys.modules[__name__]


def rewritten(source: bytes, filename: str) -> Optional[CodeType]:
    """``rewrite``, or None when the source does not parse (the import reports it)."""
    try:
        return rewrite(source, filename)
    except (SyntaxError, ValueError):
        return None
