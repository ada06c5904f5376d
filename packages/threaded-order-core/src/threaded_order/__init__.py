"""threaded-order: run functions concurrently on threads while honouring a dependency graph."""

from __future__ import annotations

from ._legacy import check as _check_install
from .context import current_task
from .graph import (
    CycleError,
    DAGraph,
    NotPicklableError,
    Task,
    TaskGraphError,
    UnknownDependencyError,
)
from .hookspecs import hookimpl, hookspec
from .markers import dmark, register_marked, tag, tasks_from_marked
from .outcomes import fail, skip, xfail
from .plugins import (
    ENTRY_POINT_GROUP,
    PluginManager,
    PluginWarning,
    create_plugin_manager,
    installed_plugins,
    load_entrypoint_plugins,
)
from .results import (
    CANCELLED,
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    XPASSED,
    ExitCode,
    Summary,
    TaskResult,
    exit_status,
)
from .scheduler import Scheduler, default_workers
from .thread_logging import ThreadProxyLogger, configure_logging

__version__ = _check_install(__file__)  # from the installed metadata

__all__ = [
    "CANCELLED",
    "ENTRY_POINT_GROUP",
    "FAILED",
    "PASSED",
    "SKIPPED",
    "XFAILED",
    "XPASSED",
    "CycleError",
    "DAGraph",
    "ExitCode",
    "NotPicklableError",
    "PluginManager",
    "PluginWarning",
    "Scheduler",
    "Summary",
    "Task",
    "TaskGraphError",
    "TaskResult",
    "ThreadProxyLogger",
    "UnknownDependencyError",
    "__version__",
    "configure_logging",
    "create_plugin_manager",
    "current_task",
    "default_workers",
    "dmark",
    "exit_status",
    "fail",
    "hookimpl",
    "hookspec",
    "installed_plugins",
    "load_entrypoint_plugins",
    "register_marked",
    "skip",
    "tag",
    "tasks_from_marked",
    "xfail",
]
