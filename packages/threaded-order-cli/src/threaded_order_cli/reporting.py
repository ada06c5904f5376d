"""The report helpers, under mtrun's name. They live in the core,
``threaded_order.reporting``, so that a reporter needs no CLI to be installed."""

from threaded_order.reporting import (
    STDOUT,
    Destination,
    ReporterError,
    check_file,
    claim,
    crash_location,
    discard,
    failure_line,
    open_beside,
    publish,
    relative_to_rootdir,
    replaceable,
    task_location,
    write_atomically,
)

__all__ = [
    "STDOUT",
    "Destination",
    "ReporterError",
    "check_file",
    "claim",
    "crash_location",
    "discard",
    "failure_line",
    "open_beside",
    "publish",
    "relative_to_rootdir",
    "replaceable",
    "task_location",
    "write_atomically",
]
