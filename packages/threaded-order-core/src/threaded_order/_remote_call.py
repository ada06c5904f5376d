"""The executor's side of ``Scheduler(executor=...)``: what runs in a pool process or on a
Dask worker. Importable with the standard library and this package only.

``run_task`` never raises: it catches everything the body raises (``SystemExit`` too) and
returns it as text with the remote traceback, since exceptions may not pickle. The return
value is pickled here, so an unpicklable one is this task's failure, named as such. A user's
object that cannot even be turned into text (an ``__str__`` or ``__reduce__`` that raises)
becomes ``<unprintable TYPE>``: it fails its task, never the process that ran it.

``serve_calls`` is the loop of a worker process of mtrun's own pool (``--executor processes``).

Modules that the workers cannot import by name (mtrun's test files) travel as source
(``Shipment``) and are loaded by an import finder under their own file name: tracebacks
show the real file, line and code, and module-level objects (locks, events) never need to
pickle since each process builds its own.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import signal
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable, Optional

from . import _capture, _policies
from ._text import attach_task_stack, format_exception, safe_format_exception, safe_str, type_name
from .outcomes import classify

PROTOCOL = pickle.HIGHEST_PROTOCOL
NO_OUTPUT = ("", "", "")
Error = tuple[str, str, str]  # error type, message, traceback
# (value as bytes or None, error or None, stdout, stderr, log, and the id of this process
# when the task timed out and its body still runs here, else None)
Reply = tuple[Optional[bytes], Optional[Error], str, str, str, Optional[int]]
# (module name, file name, source, is a package, digest of the source)
Shipment = tuple[tuple[str, str, str, bool, str], ...]

try:  # cloudpickle, where installed, also handles lambdas and closures
    import cloudpickle
except ImportError:  # pragma: no cover - the core depends only on pluggy
    cloudpickle = None
fallback_pickler: Any = cloudpickle  # the module or None; it publishes no types

_LINUX = sys.platform.startswith("linux")
PR_SET_PDEATHSIG = 1
_lock = threading.Lock()
SOURCE_ATTR = "__threaded_order_source__"


def dumps_value(value: Any) -> bytes:
    """Plain pickle first (fast); cloudpickle for what only it can do."""
    try:
        return pickle.dumps(value, protocol=PROTOCOL)
    except Exception:
        if fallback_pickler is None:
            raise
        return fallback_pickler.dumps(value, protocol=PROTOCOL)  # type: ignore[no-any-return]


# An error type that starts with this carries an outcome (skip, xfail...), not a failure.
OUTCOME = "threaded_order.outcome:"


def outcome_of(error: Optional[Error]) -> Optional[tuple[str, str]]:
    """``(status, reason)`` when a reply's error is an outcome exception, else None."""
    if error is None or not error[0].startswith(OUTCOME):
        return None
    return error[0][len(OUTCOME):], error[1]


def describe(exc: BaseException) -> Error:
    """An exception as text, whatever its ``__str__`` does."""
    try:
        text = format_exception(exc)
    except BaseException:  # a hostile exception: the safe fallback below
        text = safe_format_exception(exc, exc.__traceback__)
    return type_name(exc), safe_str(exc), text


def failure(error: Error) -> Reply:
    return (None, error, *NO_OUTPUT, None)


def grace(timeout: float) -> float:
    """How long past its timeout an async body may take to be cancelled where it awaits,
    before it counts as blocking its loop (the same as with threads)."""
    return min(1.0, max(0.05, timeout / 10))


class SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves shipped modules by name, before the file system is searched."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, str, bool, str]] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        entry = self.sources.get(name)
        if entry is not None:
            spec = importlib.util.spec_from_loader(name, self, origin=entry[0],
                                                   is_package=entry[2])
            if spec is not None:
                spec.has_location = True
            return spec
        # The parent of a dotted test module name (mtrun's tests.sub.test_x): an empty
        # package unless the worker has a real one.
        if any(n.startswith(name + ".") for n in self.sources) and \
                importlib.machinery.PathFinder.find_spec(name, path) is None:
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        entry = self.sources.get(module.__name__)
        if entry is None:
            return  # a synthetic parent package
        filename, source, _, digest = entry
        module.__file__ = filename
        setattr(module, SOURCE_ATTR, digest)
        exec(compile(source, filename, "exec"), module.__dict__)

    def get_source(self, name: str) -> Optional[str]:
        """For tracebacks (linecache) where the file is not on this machine."""
        entry = self.sources.get(name)
        return entry[1] if entry is not None else None


_finder: Optional[SourceFinder] = None


def load_shipment(shipment: Shipment) -> None:
    """Make shipped modules importable here; a module loaded from an older source is
    dropped, so a long-lived worker never runs stale test code."""
    global _finder
    with _lock:
        if _finder is None:
            _finder = SourceFinder()
            sys.meta_path.insert(0, _finder)
        for name, filename, source, is_package, digest in shipment:
            if _finder.sources.get(name, (None,) * 4)[3] == digest:
                continue
            _finder.sources[name] = (filename, source, is_package, digest)
            loaded = sys.modules.get(name)
            if loaded is not None and getattr(loaded, SOURCE_ATTR, digest) != digest:
                del sys.modules[name]


def _install_capture() -> None:
    """Route this process's stdout, stderr and logging per thread, once and for good (a
    forked child may have inherited the routing already)."""
    with _lock:
        if not isinstance(sys.stdout, _capture._RoutingStream):
            _capture.Capture().__enter__()


def run_task(name: str, func_blob: bytes, shipment: Optional[Shipment],
             state_blobs: Optional[dict[str, bytes]], result_blobs: Optional[dict[str, bytes]],
             capture_output: bool, is_async: bool, timeout: Optional[float], *,
             watch: bool = True, started: Optional[Callable[[], None]] = None) -> Reply:
    """Run one task body where the executor puts it; never raises (see the module doc).

    With ``watch`` (process pools) a body with a timeout runs on a helper thread and the
    clock starts with the body: at the timeout the reply says so and names this process, where
    the body still runs (mtrun's pool ends the process). Without (Dask) the body runs on this
    thread, which stays busy until it ends, and the caller times it from ``started``, called
    just before the body starts.
    """
    try:
        return _run_task(name, func_blob, shipment, state_blobs, result_blobs,
                         capture_output, is_async, timeout, watch, started)
    except BaseException as exc:  # a fault of ours, or a hostile object
        return failure((type_name(exc), f"internal error while running task {name!r}: "
                        f"{safe_str(exc)}", safe_format_exception(exc, exc.__traceback__)))


def _run_task(name: str, func_blob: bytes, shipment: Optional[Shipment],
              state_blobs: Optional[dict[str, bytes]],
              result_blobs: Optional[dict[str, bytes]], capture_output: bool, is_async: bool,
              timeout: Optional[float], watch: bool,
              started: Optional[Callable[[], None]]) -> Reply:
    buffers = None
    if capture_output:
        _install_capture()
        buffers = _capture.begin()
    value: Optional[bytes] = None
    error: Optional[Error] = None
    running: Optional[int] = None
    try:
        if shipment:
            load_shipment(shipment)
        func = pickle.loads(func_blob)
        args: tuple[Any, ...] = ()
        if state_blobs is not None:
            state = {key: pickle.loads(blob) for key, blob in state_blobs.items()}
            if result_blobs is not None:
                state["results"] = {k: pickle.loads(b) for k, b in result_blobs.items()}
            state["_state_lock"] = threading.RLock()
            args = (state,)
        if started is not None:
            started()
        if watch and timeout is not None:
            returned = _watched(name, func, args, is_async, timeout, buffers)
        else:
            returned = _call(name, func, args, is_async, timeout)
        try:
            value = dumps_value(returned)
        except BaseException as exc:  # a __reduce__ may raise SystemExit
            raise TypeError(f"the return value of task {name!r} cannot be pickled to send it "
                            f"back: {type_name(exc)}: {safe_str(exc)}") from None
    except _StillRunning as timed_out:
        error, running = describe(timed_out.error), timed_out.pid
    except BaseException as exc:  # SystemExit, KeyboardInterrupt: task failures
        error = describe(exc)
        outcome = classify(exc)  # skip(), xfail(): the dispatcher's engine records these
        if outcome is not None:
            error = (OUTCOME + outcome[0], outcome[1], error[2])
    finally:
        if buffers is not None:
            _capture.end()
    if buffers is None:
        return (value, error, *NO_OUTPUT, running)
    return (value, error, buffers.stdout.getvalue(), buffers.stderr.getvalue(),
            buffers.log.getvalue(), running)


def _call(name: str, func: Any, args: tuple[Any, ...], is_async: bool,
          timeout: Optional[float]) -> Any:
    """The body. A child it forked that comes back here ends at once, with the body's outcome
    as its status: going on, it would answer for the task in its parent's place."""
    pid = os.getpid()
    try:
        if not is_async:
            returned = func(*args)
        else:
            coroutine = func(*args)
            if timeout is not None:
                coroutine = _policies._bounded(name, coroutine, timeout)
            returned = asyncio.run(coroutine)
    except BaseException:
        if os.getpid() != pid:
            _exit(1)
        raise
    if os.getpid() != pid:
        _exit(0)
    return returned


def _watched(name: str, func: Any, args: tuple[Any, ...], is_async: bool, timeout: float,
             buffers: Optional[_capture.TaskBuffers]) -> Any:
    """The body on a helper thread, waited for at most ``timeout`` (an async body gets a
    little longer to be cancelled where it awaits): its value, what it raised, or
    ``_StillRunning`` when time ran out."""
    box: dict[str, Any] = {}
    finished = threading.Event()

    def body() -> None:
        _capture.adopt(buffers)
        try:
            box["value"] = _call(name, func, args, is_async, timeout)
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            finished.set()

    helper = threading.Thread(target=body, name=f"body of {name}", daemon=True)
    helper.start()
    if finished.wait(timeout + (grace(timeout) if is_async else 0.0)):
        if "error" in box:
            raise box["error"]
        return box.get("value")
    error = TimeoutError(f"task {name!r} timed out after {timeout:g}s")
    attach_task_stack(error, helper, __file__)
    raise _StillRunning(error, os.getpid())


class _StillRunning(Exception):
    """A timeout, with the id of the process where the body still runs."""

    def __init__(self, error: TimeoutError, pid: int) -> None:
        super().__init__(error)
        self.error = error
        self.pid = pid


def announce_start(topic: str) -> None:
    """For ``run_task(started=...)`` on a Dask worker: tell the scheduler, and through it the
    client subscribed to ``topic``, that the worker's current task starts its body. The
    scheduler acknowledges before the body runs, so the news outlives a body that kills its
    worker at once. Imports distributed, which every Dask worker has, only when called."""
    from distributed import get_worker
    from distributed.utils import sync

    worker = get_worker()
    sync(worker.loop, worker.scheduler.log_event, topic=topic,
         msg={"key": worker.get_current_task(), "pid": os.getpid(), "worker": worker.address})


def serve_calls(conn: Any) -> None:
    """A worker process of mtrun's pool: run the calls that come on ``conn`` (a
    ``multiprocessing.connection.Connection``) until it closes, answering each with
    ``((ok, value or exception), ending)``. After a ``run_task`` whose timed-out body still
    runs here the process ends (``ending``), as nothing else can stop that body."""
    fork = sys.modules.get("threaded_order._fork")
    if fork is not None:  # a worker is a fresh process for the engine, not a forked body
        fork.forked = False  # type: ignore[attr-defined]  # it is _fork, which has it
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            _exit(0)
        ending = False
        try:
            fn, args, kwargs = pickle.loads(data)
            outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
            ending = fn is run_task and _still_running(outcome[1])
        except BaseException as exc:
            outcome = (False, exc)
        _flush()
        try:
            conn.send((outcome, ending))
        except BaseException as exc:
            try:
                conn.send(((False, RuntimeError(f"the result cannot be sent back: "
                                                f"{type_name(exc)}: {safe_str(exc)}")), ending))
            except BaseException:
                _exit(1)
        if ending:
            _exit(0)


def _still_running(reply: Any) -> bool:
    return isinstance(reply, tuple) and len(reply) > 5 and reply[5] is not None


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _exit(status: int) -> None:
    _flush()
    os._exit(status)


def quiet_signals() -> None:
    """Ctrl-C reaches the whole process group: mtrun decides what it means, as with threads.
    SIGTERM and SIGHUP end a worker at once, whatever handler mtrun had when it forked."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def die_with(parent: int) -> None:
    """No worker outlives mtrun: on Linux the kernel kills this process when its parent ends
    (PR_SET_PDEATHSIG); elsewhere a thread watches for the parent to go."""
    if _LINUX:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent:
                    os._exit(0)  # it ended before we asked
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def ping() -> int:
    """A no-op call: makes a pool start its processes, or checks a cluster answers."""
    return os.getpid()
