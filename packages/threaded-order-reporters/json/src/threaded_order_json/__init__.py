"""The json reporter for mtrun: one JSON document with the run's counts and every task.

``JSONReporter`` is imported lazily, so loading the entry point costs nothing when the
reporter is not selected. ``schema()`` returns the JSON Schema the document follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reporter import JSONReporter

DEFAULT_DEST = "report.json"
SCHEMA_VERSION = 1

__all__ = ["DEFAULT_DEST", "SCHEMA_VERSION", "JSONReporter", "schema"]


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report, shipped as package data."""
    import json
    from importlib import resources

    text = resources.files(__name__).joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "JSONReporter":
        from .reporter import JSONReporter

        return JSONReporter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
