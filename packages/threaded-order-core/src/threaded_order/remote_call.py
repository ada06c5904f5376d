"""The executor's side of ``Scheduler(executor=...)``: what runs in a pool process or on a
Dask worker. Importable with the standard library and this package only.

``run_task`` never raises: it catches everything the body raises (``SystemExit`` too) and
returns it as text with the remote traceback, since exceptions may not pickle. The return
value is pickled here, so an unpicklable one is this task's failure, named as such.

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
import sys
import threading
from types import ModuleType
from typing import Any, Optional

from . import capture, policies

PROTOCOL = pickle.HIGHEST_PROTOCOL
NO_OUTPUT = ("", "", "")
# (value as bytes or None, (error type, message, traceback) or None, stdout, stderr, log)
Reply = tuple[Optional[bytes], Optional[tuple[str, str, str]], str, str, str]
# (module name, file name, source, is a package, digest of the source)
Shipment = tuple[tuple[str, str, str, bool, str], ...]

try:  # cloudpickle, where installed, also handles lambdas and closures
    import cloudpickle as fallback_pickler
except ImportError:  # pragma: no cover - the core depends only on pluggy
    fallback_pickler = None  # type: ignore[assignment]

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
        if not isinstance(sys.stdout, capture._RoutingStream):
            capture.Capture().__enter__()


def run_task(name: str, func_blob: bytes, shipment: Optional[Shipment],
             state_blobs: Optional[dict[str, bytes]], result_blobs: Optional[dict[str, bytes]],
             capture_output: bool, is_async: bool, timeout: Optional[float]) -> Reply:
    """Run one task body where the executor puts it; never raises (see the module doc)."""
    buffers = None
    if capture_output:
        _install_capture()
        buffers = capture.begin()
    value: Optional[bytes] = None
    error: Optional[tuple[str, str, str]] = None
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
        if is_async:
            coroutine = func(*args)
            if timeout is not None:
                coroutine = policies._bounded(name, coroutine, timeout)
            returned = asyncio.run(coroutine)
        else:
            returned = func(*args)
        try:
            value = dumps_value(returned)
        except Exception as exc:
            raise TypeError(f"the return value of task {name!r} cannot be pickled to send it "
                            f"back: {type(exc).__name__}: {exc}") from None
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are task failures too
        error = (type(exc).__name__, str(exc), policies.format_exception(exc))
    finally:
        if buffers is not None:
            capture.end()
    if buffers is None:
        return (value, error, *NO_OUTPUT)
    return (value, error, buffers.stdout.getvalue(), buffers.stderr.getvalue(),
            buffers.log.getvalue())


def ping() -> int:
    """A no-op call: makes a pool start its processes, or checks a cluster answers."""
    return os.getpid()
