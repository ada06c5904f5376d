"""A failed task's traceback text as structured data, in the shape of structlog's
``dict_tracebacks``.

Task results carry the traceback as text only (a body in another process or on a Dask
worker sends nothing else), so the text is parsed: one entry per exception of the chain,
the raised one first and what caused it after (``is_cause``), each with its frames from
the outermost to the innermost. Frames have no ``locals``; the members of an exception
group are not split out (``is_group`` is set, ``exceptions`` stays empty).
"""

from __future__ import annotations

import re
from typing import Any, Optional

_CHAIN = re.compile(
    r"\n+(?:The above exception was the direct cause of the following exception:"
    r"|During handling of the above exception, another exception occurred:)\n+")
_FRAME = re.compile(r'^  File "(?P<filename>.*)", line (?P<lineno>\d+)(?:, in (?P<name>.*))?$')
_HEADERS = ("Traceback (most recent call last):", "Where the task was when it timed out:")


def exception_dicts(traceback: Optional[str], error_type: Optional[str],
                    error: Optional[str]) -> list[dict[str, Any]]:
    """The ``exception`` list of a failure: from the traceback text, with the raised
    exception's type and message taken from the result (exact, where the text may be cut
    or qualified by a module)."""
    text = (traceback or "").strip("\n")
    stacks = [_stack(part) for part in _CHAIN.split(text)] if text else []
    stacks.reverse()  # the raised exception first, then its causes, as dict_tracebacks
    if not stacks:
        stacks.append(_stack(""))
    top = stacks[0]
    if error_type:
        top["exc_type"] = error_type
    if error is not None:
        tail = top.pop("_tail")
        top["exc_value"] = error
        at = tail.find(error) if error else tail.find("\n")
        if at >= 0:  # what follows the message is the notes (add_note)
            top["exc_notes"] = [n for n in tail[at + len(error):].split("\n") if n]
    for index, stack in enumerate(stacks):
        stack.pop("_tail", None)
        stack["is_cause"] = index > 0
    return stacks


def _stack(text: str) -> dict[str, Any]:
    lines = text.split("\n")
    group = lines[0].startswith("  + Exception Group Traceback")
    if group:  # "  | "-prefixed lines up to the first member's "  +-+---- 1 ----"
        ends = [i for i, line in enumerate(lines) if line.startswith("  +-")]
        lines = [line[4:] for line in lines[1:ends[0] if ends else None]]
    frames: list[dict[str, Any]] = []
    tail_at = len(lines)
    for index, line in enumerate(lines):
        match = _FRAME.match(line)
        if match:
            frames.append({"filename": match["filename"], "lineno": int(match["lineno"]),
                           "name": match["name"] or ""})
        elif line and not line[0].isspace() and line not in _HEADERS:
            tail_at = index  # the exception line: "module.Type: message"
            break
    tail = lines[tail_at:]
    first, *rest = tail or [""]
    kind, sep, value = first.partition(": ")
    return {
        "exc_type": kind.rsplit(".", 1)[-1].strip(),
        "exc_value": "\n".join([value, *rest] if sep else rest),
        "exc_notes": [],
        "syntax_error": None,
        "is_cause": False,
        "frames": frames,
        "is_group": group,
        "exceptions": [],
        "_tail": "\n".join(tail),
    }
