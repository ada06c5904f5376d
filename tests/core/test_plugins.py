"""Plugin objects on the Scheduler: hook arguments, isolation, strict mode, validation."""

from __future__ import annotations

import sys
import threading

import pluggy
import pytest

from threaded_order import Scheduler, TaskResult, create_plugin_manager, hookimpl

from ._support import TIMEOUT, fail, noop

STRICT = "THREADED_ORDER_STRICT_PLUGINS"


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv(STRICT, raising=False)


class Recorder:
    """Marked impls that each name the arguments they want."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.threads: set[threading.Thread] = set()

    def _seen(self, *call):
        self.calls.append(call)
        self.threads.add(threading.current_thread())

    @hookimpl
    def threaded_order_scheduler_start(self, meta, scheduler):
        self._seen("scheduler_start", meta["total_tasks"], scheduler)

    @hookimpl
    def threaded_order_task_start(self, name):
        self._seen("task_start", name)

    @hookimpl
    def threaded_order_task_run(self, thread, name):
        self._seen("task_run", name, thread)

    @hookimpl
    def threaded_order_task_done(self, result):
        self._seen("task_done", result)

    @hookimpl
    def threaded_order_scheduler_done(self, summary):
        self._seen("scheduler_done", summary)


class Unmarked:
    """No @hookimpl: the threaded_order_ prefix alone makes these impls."""

    def __init__(self) -> None:
        self.done: list[tuple[str, bool, str]] = []

    def threaded_order_task_done(self, name, ok, result):
        self.done.append((name, ok, result.status))

    def not_a_hook(self):
        raise AssertionError("never called")


def test_hooks_get_only_the_arguments_they_name_on_the_calling_thread():
    recorder = Recorder()
    s = Scheduler(workers=2, plugins=[recorder])
    s.register(noop, "a")
    s.register(fail(), "b", after="a")
    summary = s.start()
    calls = recorder.calls
    assert calls[0] == ("scheduler_start", 2, s)
    assert ("task_start", "a") in calls
    assert any(c[:2] == ("task_run", "b") and c[2].startswith("thread_") for c in calls)
    done = {c[1].name: c[1] for c in calls if c[0] == "task_done"}
    assert all(isinstance(r, TaskResult) for r in done.values())
    assert done["a"].status == "passed" and done["b"].error_type == "ValueError"
    assert calls[-1] == ("scheduler_done", summary)
    assert recorder.threads == {threading.current_thread()}


def test_unmarked_prefixed_functions_are_hook_impls():
    plugin = Unmarked()
    s = Scheduler(workers=1, plugins=[plugin])
    s.register(noop, "a")
    s.register(fail(), "b")
    s.start()
    assert plugin.done == [("a", True, "passed"), ("b", False, "failed")]


def test_a_module_can_be_a_plugin(tmp_path, monkeypatch):
    (tmp_path / "module_plugin_for_core_tests.py").write_text(
        "seen = []\n"
        "def threaded_order_task_start(name):\n"
        "    seen.append(name)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import module_plugin_for_core_tests as module

    try:
        s = Scheduler(workers=1, plugins=[module])
        s.register(noop, "a")
        s.start()
        assert module.seen == ["a"]
    finally:
        sys.modules.pop("module_plugin_for_core_tests", None)


class Broken:
    def threaded_order_scheduler_start(self):
        raise RuntimeError("broken start")

    def threaded_order_task_start(self, name):
        raise RuntimeError(f"broken on {name}")

    def threaded_order_task_done(self, name):
        raise KeyError(name)

    def threaded_order_scheduler_done(self):
        raise RuntimeError("broken done")


def test_each_hook_impl_is_isolated():
    """The raising plugin sits on both sides of the healthy one in call order."""
    before, recorder, after = Broken(), Recorder(), Broken()
    s = Scheduler(workers=2, plugins=[before, recorder, after])
    for name in ("a", "b", "c"):
        s.register(noop, name)
    summary = s.start()
    assert sorted(summary["passed"]) == ["a", "b", "c"]
    kinds = [c[0] for c in recorder.calls]
    assert kinds.count("task_done") == 3 and kinds.count("task_run") == 3
    assert kinds[0] == "scheduler_start" and kinds[-1] == "scheduler_done"
    errors = summary["plugin_errors"]
    assert len(errors) == 2 * (1 + 3 + 3 + 1)
    assert sum("threaded_order_task_done" in e and "KeyError" in e for e in errors) == 6
    assert sum("broken done" in e for e in errors) == 2


def test_strict_mode_raises_out_of_start_and_stops_the_workers(monkeypatch):
    monkeypatch.setenv(STRICT, "1")
    released = threading.Event()
    task_threads = []

    def blocker():
        task_threads.append(threading.current_thread())
        released.wait(TIMEOUT)

    class Strict:
        def threaded_order_task_done(self, name):
            if name == "quick":
                raise RuntimeError("strict failure")

    s = Scheduler(workers=3, plugins=[Strict()])
    s.register(blocker, "blocker")
    s.register(lambda: task_threads.append(threading.current_thread()), "quick")
    for i in range(5):
        s.register(blocker, f"after{i}", after="quick")
    with pytest.raises(RuntimeError, match="strict failure"):
        s.start()
    released.set()
    # Every worker (busy or idle when the error hit) must end; an idle one left waiting
    # on the run's condition would never return.
    workers = {t for t in threading.enumerate() if t.name.startswith("thread_")}
    for thread in workers | set(task_threads):
        thread.join(TIMEOUT)
        assert not thread.is_alive(), thread.name
    # The scheduler is usable again once the error is gone.
    monkeypatch.delenv(STRICT)
    assert len(s.start()["passed"]) == 7


def test_strict_mode_error_in_scheduler_start_runs_nothing(monkeypatch):
    monkeypatch.setenv(STRICT, "1")
    ran = []
    s = Scheduler(workers=1, plugins=[Broken()])
    s.register(lambda: ran.append(1), "a")
    with pytest.raises(RuntimeError, match="broken start"):
        s.start()
    assert ran == []


@pytest.mark.parametrize("marked", [False, True])
def test_a_misspelled_hook_fails_at_start(marked):
    def threaded_order_task_dnoe(name):
        pass

    plugin = type("Typo", (), {})()
    plugin.threaded_order_task_dnoe = hookimpl(threaded_order_task_dnoe) if marked else \
        threaded_order_task_dnoe
    s = Scheduler(workers=1, plugins=[plugin])
    s.register(noop, "a")
    with pytest.raises(pluggy.PluginValidationError, match="threaded_order_task_dnoe"):
        s.start()


def test_an_impl_asking_for_an_unknown_argument_is_rejected():
    class Greedy:
        def threaded_order_task_done(self, name, bogus):
            pass

    with pytest.raises(pluggy.PluginValidationError, match="bogus"):
        Scheduler(workers=1, plugins=[Greedy()])


def test_a_wrapper_impl_is_rejected_at_start():
    class Wrapper:
        @hookimpl(wrapper=True)
        def threaded_order_task_done(self, name):
            return (yield)

    s = Scheduler(workers=1, plugins=[Wrapper()])
    s.register(noop, "a")
    with pytest.raises(pluggy.PluginValidationError, match="wrapper"):
        s.start()


def test_a_given_plugin_manager_is_used():
    plugin = Unmarked()
    pm = create_plugin_manager([plugin])
    s = Scheduler(workers=1, plugin_manager=pm)
    assert s.plugin_manager is pm
    s.register(noop, "a")
    s.start()
    assert plugin.done == [("a", True, "passed")]
