"""The typed hook callers: schedulers sharing a plugin manager, callbacks named in errors,
tracing, and the SIGINT relay breaking into a hook that never returns."""

from __future__ import annotations

import gc
import json
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from threaded_order import Scheduler, create_plugin_manager, hookimpl

from ._support import TIMEOUT, noop

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("THREADED_ORDER_STRICT_PLUGINS", raising=False)


class Done:
    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl
    def threaded_order_task_done(self, name):
        self.names.append(name)


def test_a_plugin_manager_serves_one_scheduler_after_another():
    """Before: each Scheduler registered its callbacks as 'callbacks-<id>' for ever, and the
    next one made with the same id (the first one freed) raised 'already registered'."""
    plugin = Done()
    pm = create_plugin_manager([plugin])
    for _ in range(20):  # each freed at once: the next one usually gets the same id
        Scheduler(workers=1, plugin_manager=pm)
    for round_ in range(3):
        s = Scheduler(workers=1, plugin_manager=pm)
        s.register(noop, f"t{round_}")
        s.start()
        del s
        gc.collect()
    assert plugin.names == ["t0", "t1", "t2"]
    assert pm.get_plugins() == {plugin}


def test_schedulers_sharing_a_plugin_manager_call_only_their_own_callbacks():
    pm = create_plugin_manager()
    first, second = Scheduler(workers=1, plugin_manager=pm), Scheduler(workers=1,
                                                                        plugin_manager=pm)
    seen: dict[str, list[str]] = {"first": [], "second": []}
    first.on_task_done(lambda name, ok: seen["first"].append(name))
    second.on_task_done(lambda name, ok: seen["second"].append(name))
    first.register(noop, "a")
    second.register(noop, "b")
    first.start()
    second.start()
    assert seen == {"first": ["a"], "second": ["b"]}


def test_a_raising_callback_is_named_after_the_callback():
    s = Scheduler(workers=1)
    s.register(noop, "a")

    def my_fn(name, ok, extra):
        raise ValueError(f"{name} {extra}")

    s.on_task_done(my_fn, extra="x")
    summary = s.start()
    assert summary["plugin_errors"] == ["on_task_done callback 'my_fn' failed: ValueError: a x"]


def test_callbacks_come_after_the_plugins_and_get_their_own_arguments():
    order: list[str] = []

    class First:
        def threaded_order_task_done(self, name):
            order.append(f"plugin {name}")

    s = Scheduler(workers=1, plugins=[First()])
    s.on_task_done(lambda name, ok, tag, *, more: order.append(f"callback {name} {ok} "
                                                              f"{tag} {more}"), "T", more="M")
    s.register(noop, "a")
    s.start()
    assert order == ["plugin a", "callback a True T M"]


def test_tracing_writes_every_hook_call_with_its_arguments():
    lines: list[str] = []
    plugin = Done()
    pm = create_plugin_manager([plugin])
    stop = pm.trace_hooks(lines.append)
    try:
        s = Scheduler(workers=1, plugin_manager=pm)
        s.register(noop, "traced_task")
        s.start()
    finally:
        stop()
    text = "".join(lines)
    assert plugin.names == ["traced_task"]
    for hook in ("scheduler_start", "task_start", "task_run", "task_done", "scheduler_done"):
        assert f"  threaded_order_{hook} [hook]\n" in text, text
        assert f"  finish threaded_order_{hook} --> [] [hook]\n" in text, text
    assert "      name: traced_task\n" in text
    lines.clear()
    s = Scheduler(workers=1, plugin_manager=pm)
    s.register(noop, "quiet")
    s.start()
    assert lines == []  # stopped


def test_tracing_goes_on_after_a_hook_raises():
    lines: list[str] = []

    class Broken:
        def threaded_order_task_done(self):
            raise RuntimeError("broken")

    pm = create_plugin_manager([Broken()])
    pm.trace_hooks(lines.append)
    s = Scheduler(workers=1, plugin_manager=pm)
    s.register(noop, "a")
    summary = s.start()
    assert len(summary["plugin_errors"]) == 1
    text = "".join(lines)
    assert "  finish threaded_order_task_done --> [] [hook]\n" in text
    assert "  finish threaded_order_scheduler_done --> [] [hook]\n" in text


STUCK_HOOK = """
import json, signal, sys, threading
from threaded_order import Scheduler

signal.signal(signal.SIGINT, lambda *a: None)  # outside start(): signals are ignored

def stuck(*args):
    sys.stdout.write("MARK\\n")
    sys.stdout.flush()
    threading.Event().wait()

class Plugin:
    def threaded_order_task_done(self, name):
        stuck()

s = Scheduler(workers=1, plugins=[Plugin()] if sys.argv[1] == "plugin" else [])
if sys.argv[1] == "callback":
    s.on_task_done(stuck)
s.register(lambda: None, "a")
summary = s.start()
print("SUMMARY", json.dumps({"errors": summary["plugin_errors"],
                             "interrupted": summary["interrupted"]}), flush=True)
sys.stdin.read()  # until the signals stop: one during shutdown would kill us
"""


@posix_only
@pytest.mark.parametrize("where", ["plugin", "callback"])
def test_ctrl_c_held_breaks_into_a_hook_that_never_returns(tmp_path, where):
    """The relay raises only in a frame called by the dispatcher: a plugin's impl, and now
    a callback too (it used to sit behind an adapter frame of ours, out of reach)."""
    script = tmp_path / "stuck.py"
    script.write_text(textwrap.dedent(STUCK_HOOK))
    proc = subprocess.Popen([sys.executable, str(script), where], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "MARK"
        summarized = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.append(line)
                if line.startswith("SUMMARY "):
                    summarized.set()

        threading.Thread(target=read, daemon=True).start()
        for _ in range(int(TIMEOUT / 0.1)):  # a held Ctrl-C; the relay escalates after 2 s
            if summarized.wait(0.1):
                break
            proc.send_signal(signal.SIGINT)
        proc.stdin.close()
        assert proc.wait(TIMEOUT) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (line,) = [x for x in out if x.startswith("SUMMARY ")]
    result = json.loads(line.split(" ", 1)[1])
    assert result["interrupted"] is True
    assert len(result["errors"]) == 1 and "KeyboardInterrupt" in result["errors"][0]
