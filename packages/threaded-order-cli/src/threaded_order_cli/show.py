"""What mtrun prints instead of running: versions, plugins, collected tasks, the graph."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from threaded_order import PluginManager, Task, installed_plugins
from threaded_order import __version__ as core_version

from . import __version__
from .terminal import plural, visible

if TYPE_CHECKING:
    from .hooks import CliHooks


def _out(text: str) -> None:
    """Names, tags and plugin metadata come from files mtrun does not control."""
    sys.stdout.write(visible(text, layout=True) + "\n")


def versions(pm: PluginManager) -> None:
    _out(f"mtrun {__version__} (threaded-order {core_version})")
    for info in pm.distributions.values():
        _out(f"  plugin {info.name}: {info.distribution} {info.version}")


def plugins(hooks: CliHooks) -> None:
    """Every installed plugin, whether it loaded, and the reporters on offer."""
    pm = hooks.pm
    found = installed_plugins()
    if not found:
        _out("no plugins installed")
    for info in found:
        loaded = "loaded" if info.name in pm.distributions else (
            "blocked" if pm.is_blocked(info.name) else "not loaded")
        _out(f"{info.name:<16} {info.distribution} {info.version} ({loaded})")
    reporters = hooks.reporters()
    if reporters:
        _out("")
        _out("reporters (--reporter NAME[=DEST]):")
        for name, description in sorted(reporters.items()):
            _out(f"  {name:<14} {description}")
    from .executors import available

    _out("")
    _out("executors (--executor NAME[=ADDRESS]):")
    for name, description in sorted(available(hooks).items()):
        _out(f"  {name:<14} {description}")


def collected(tasks: list[Task]) -> None:
    for task in tasks:
        details = []
        if task.after:
            details.append("after: " + ", ".join(task.after))
        if task.tags:
            details.append("tags: " + ", ".join(task.tags))
        _out(visible(task.name + ("  " + "  ".join(details) if details else "")))
    _out(f"\n{plural(len(tasks), 'task')} collected")


def graph(tasks: list[Task], form: str) -> None:
    _out(render_graph(tasks, form))


def render_graph(tasks: list[Task], form: str) -> str:
    """The graph as indented text, a Mermaid flowchart or a Graphviz digraph."""
    tasks = [t._replace(name=visible(t.name), after=tuple(visible(d) for d in t.after))
             for t in tasks]
    if form == "mermaid":
        ids = {t.name: f"t{i}" for i, t in enumerate(tasks)}
        lines = ["graph TD"]
        lines += [f'    {ids[t.name]}["{_escape(t.name)}"]' for t in tasks]
        lines += [f"    {ids[d]} --> {ids[t.name]}" for t in tasks for d in t.after]
        return "\n".join(lines)
    if form == "dot":
        lines = ["digraph tasks {", "    rankdir=LR;"]
        lines += [f'    "{_escape(t.name)}";' for t in tasks]
        lines += [f'    "{_escape(d)}" -> "{_escape(t.name)}";' for t in tasks for d in t.after]
        return "\n".join([*lines, "}"])
    levels = _levels(tasks)
    ordered = sorted(tasks, key=lambda t: levels[t.name])
    return "\n".join(
        f"{'  ' * levels[t.name]}{t.name}" + (f"  <- {', '.join(t.after)}" if t.after else "")
        for t in ordered
    )


def _levels(tasks: list[Task]) -> dict[str, int]:
    """Depth of each task: 0 for no dependencies, else one more than its deepest one."""
    by_name: dict[str, Any] = {t.name: t for t in tasks}
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        stack = [name]
        while stack:
            current = stack[-1]
            pending = [d for d in by_name[current].after if d not in depth]
            if pending:
                stack.extend(pending)
                continue
            depth[current] = 1 + max((depth[d] for d in by_name[current].after), default=-1)
            stack.pop()
        return depth[name]

    return {t.name: level(t.name) for t in tasks}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
