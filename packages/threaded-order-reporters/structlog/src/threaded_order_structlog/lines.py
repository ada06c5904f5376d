"""What every line of the reporter has, and the logger that writes the reporter's events.

Every line starts with ``timestamp`` (ISO 8601, UTC, always with microseconds, so that
timestamps sort as strings), ``level`` and ``event``, and ends with ``run_id``, ``host``
and ``pid``; fields that do not apply (None) are left out.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

_FIRST_KEYS = ("timestamp", "level", "event")
AT = "_at_us"  # a line's own time in epoch microseconds, when it is not "now"


def iso(microseconds: int) -> str:
    seconds, fraction = divmod(microseconds, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=fraction)
    return stamp.isoformat(timespec="microseconds").replace("+00:00", "Z")


def at_floor(epoch: float) -> int:
    """A start: its microsecond, never after it, so a line logged in the task sorts after."""
    return math.floor(epoch * 1_000_000)


def at_ceil(epoch: float) -> int:
    """A finish: never before it, so a line logged in the task sorts before."""
    return math.ceil(epoch * 1_000_000)


def stamp(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """``timestamp``: the line's own time (``_at_us``), else the log record's, else now."""
    at = event_dict.pop(AT, None)
    if at is None:
        record = event_dict.get("_record")
        created = getattr(record, "created", None)
        at = at_floor(created if isinstance(created, float) else time.time())
    event_dict["timestamp"] = iso(at)
    return event_dict


class Common:
    """Orders a line's fields and adds the run's: ``run_id``, ``host``, ``pid``."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields  # the reporter's own dict: a new run_id shows at once

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        ordered = {key: event_dict.pop(key) for key in _FIRST_KEYS if key in event_dict}
        ordered.update((k, v) for k, v in event_dict.items()
                       if v is not None and k not in self.fields)
        ordered.update(self.fields)
        return ordered


def make_logger(sink: Any, common: Common) -> Any:
    """A structlog logger with all its settings given here, none taken from the global
    configuration."""
    return structlog.wrap_logger(
        sink,
        processors=[structlog.contextvars.merge_contextvars,  # the user's bound context
                    structlog.processors.add_log_level, stamp, common,
                    structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(0),
        context_class=dict,
        cache_logger_on_first_use=False,
    )
