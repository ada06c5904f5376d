"""mtrun's process pool for ``--executor processes``; imported only when chosen.

Unlike ``ProcessPoolExecutor``'s, its processes are independent: one can end without breaking
the others. So a body that times out ends with its process (``run_task`` reports it still
running, and the process exits before its task is reported), a process that dies fails the
one task it was running and no other, processes start as calls need them up to ``--workers``,
and none outlives mtrun (nor keeps mtrun's stdout open after it).

On Linux the workers are forked, with the test modules imported, by a fork server that mtrun
forks once, at the run's first call, before the run's threads exist: a process with threads
must not fork (a child may inherit a lock taken mid-way). Elsewhere they are spawned and load
the test modules that mtrun sends as source.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import struct
import sys
import threading
import time
from concurrent.futures import Executor, Future
from multiprocessing.connection import Connection
from queue import Empty, SimpleQueue
from typing import Any, Callable, Optional

from threaded_order.ext import die_with, quiet_signals, run_task, safe_str, serve_calls, type_name

from .executors import PROCESSES

_LINUX = sys.platform.startswith("linux")
# A timed body whose process does not answer (it holds the GIL in C code, say) is ended this
# long after its timeout, counted from when the call was sent.
SAFETY_NET = 30.0
EXIT_WAIT = 5.0  # for a process to be gone after it said it ends, or was killed
_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WorkerDied(Exception):
    """The worker process running a call died before it answered."""


class ProcessExecutor(Executor):
    """mtrun's process pool (see the module doc); ``fork`` is for tests (default: Linux)."""

    start_before_run = True  # so the fork server is forked before the run's threads start
    ends_timed_out_bodies = True

    def __init__(self, workers: int, fork: Optional[bool] = None) -> None:
        self.max_workers = workers
        self.fork = _LINUX if fork is None else fork
        self.description = f"{PROCESSES} (up to {workers} worker processes)"
        self._jobs: SimpleQueue[Optional[_Job]] = SimpleQueue()
        self._lock = threading.Lock()
        self._handlers: list[threading.Thread] = []  # one per worker process
        self._busy = 0  # handlers running a call
        self._queued = 0  # calls not yet taken by a handler
        self._workers: set[_Worker] = set()
        self._server: Optional[_ForkServer] = None
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self.fork and self._server is None:
                self._server = _ForkServer()
            self._jobs.put((future, fn, args, kwargs))
            self._queued += 1
            free = len(self._handlers) - self._busy
            if self._queued > free and len(self._handlers) < self.max_workers:
                handler = threading.Thread(target=self._handle, daemon=True,
                                           name=f"mtrun process {len(self._handlers)}")
                self._handlers.append(handler)
                handler.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """End every process now (a body still running is not needed once the run is over)
        and cancel the calls not started."""
        with self._lock:
            self._closed = True
            workers, handlers = list(self._workers), list(self._handlers)
            server, self._server = self._server, None
        while True:
            try:
                job = self._jobs.get_nowait()
            except Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in handlers:
            self._jobs.put(None)
        for worker in workers:
            worker.kill()
        if server is not None:
            server.close()
        if wait:
            for handler in handlers:
                if handler is not threading.current_thread():
                    handler.join(EXIT_WAIT)

    def _handle(self) -> None:
        worker: Optional[_Worker] = None
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                with self._lock:
                    self._queued -= 1
                    self._busy += 1
                settle: Callable[[], None] = _nothing
                try:
                    future, fn, args, kwargs = job
                    if future.set_running_or_notify_cancel():
                        worker, settle = self._call(worker, future, fn, args, kwargs)
                finally:
                    with self._lock:  # free before the caller hears back and sends more
                        self._busy -= 1
                    settle()
        finally:
            if worker is not None:
                self._retire(worker, kill=True)

    def _call(self, worker: Optional[_Worker], future: Future[Any], fn: Callable[..., Any],
              args: tuple[Any, ...], kwargs: dict[str, Any]
              ) -> tuple[Optional[_Worker], Callable[[], None]]:
        """One call on this handler's process (started first if need be): the process to use
        next (None when it is gone), and what settles the call's future."""
        for _ in range(3):
            if worker is None:
                try:
                    worker = self._start_worker()
                except BaseException as exc:
                    return None, _fails(future, WorkerDied(
                        f"could not start a worker process: {type_name(exc)}: "
                        f"{safe_str(exc)}"))
            try:
                worker.conn.send((fn, args, kwargs))
                break
            except (OSError, EOFError):  # it died while idle: not this call's doing
                self._retire(worker, kill=True)
                worker = None
            except BaseException as exc:  # the call does not pickle; nothing was sent
                return worker, _fails(future, exc)
        else:
            return None, _fails(future, WorkerDied("worker processes die as they start"))
        state = worker.wait_answer(_answer_limit(fn, args))
        if state == "late":
            self._retire(worker, kill=True)
            return None, _fails(future, TimeoutError(
                f"no answer from worker process {worker.pid} long after the task's timeout "
                "(a body that never lets go of the interpreter); the process was ended"))
        try:
            if state == "dead":
                raise EOFError
            (ok, value), ending = worker.conn.recv()
        except (EOFError, OSError):
            self._retire(worker, kill=True)
            return None, _fails(future, WorkerDied(
                f"worker process {worker.pid} died while running this task: it exited or was "
                "killed (os._exit, a signal, out of memory, a crash in C code)"))
        except BaseException as exc:  # the answer does not unpickle here
            return worker, _fails(future, exc)
        if ending:  # a timed-out body still ran there: the process ends, and is gone first
            self._retire(worker, kill=False)
            worker = None
        if ok:
            return worker, lambda: future.set_result(value)
        return worker, _fails(future, value)

    def _start_worker(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool was shut down")
            server = self._server
        if not self.fork:
            worker = _spawn()
        else:
            try:
                worker = server.fork()  # type: ignore[union-attr]
            except (OSError, AttributeError):  # the fork server is gone: a new one
                with self._lock:
                    if self._closed:
                        raise RuntimeError("the pool was shut down") from None
                    server = self._server = _ForkServer()
                worker = server.fork()
        with self._lock:
            self._workers.add(worker)
            closed = self._closed
        if closed:
            self._retire(worker, kill=True)
            raise RuntimeError("the pool was shut down")
        return worker

    def _retire(self, worker: _Worker, kill: bool) -> None:
        worker.end(kill)
        with self._lock:
            self._workers.discard(worker)


def _nothing() -> None:
    pass


def _fails(future: Future[Any], error: BaseException) -> Callable[[], None]:
    return lambda: future.set_exception(error)


def _answer_limit(fn: Callable[..., Any], args: tuple[Any, ...]) -> Optional[float]:
    timeout = args[7] if fn is run_task and len(args) > 7 else None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return float(timeout) + max(SAFETY_NET, float(timeout))
    return None


class _Worker:
    """One worker process, from mtrun's side."""

    def __init__(self, pid: int, conn: Connection, process: Any = None) -> None:
        self.pid = pid
        self.conn = conn
        self.process = process  # a multiprocessing.Process when spawned

    def alive(self) -> bool:
        if self.process is not None:
            return bool(self.process.is_alive())
        try:
            os.kill(self.pid, 0)  # the fork server's children are reaped as they end
        except ProcessLookupError:
            return False
        except OSError:
            pass
        return True

    def kill(self) -> None:
        try:
            if self.process is not None:
                self.process.kill()
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def wait_answer(self, limit: Optional[float]) -> str:
        """"ready" (an answer, or the end of the connection), "dead" or "late". The process
        is watched too: a child it forked may hold the connection open after it died."""
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            step = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if step <= 0:
                return "late"
            if self.conn.poll(step):
                return "ready"
            if not self.alive():
                return "ready" if self.conn.poll(0) else "dead"

    def end(self, kill: bool) -> None:
        """Make sure the process is gone before going on (so a body never runs twice at
        once): it ends by itself, or is killed."""
        if kill or not self._gone(EXIT_WAIT):
            self.kill()
            self._gone(EXIT_WAIT)
        self.conn.close()
        if self.process is not None:
            self.process.join(EXIT_WAIT)

    def _gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                if self.conn.poll(min(0.05, left)):
                    self.conn.recv_bytes()
                    continue
            except (EOFError, OSError):
                return True
            if not self.alive():
                return True


class _ForkServer:
    """A child of mtrun, forked while mtrun has one thread, that forks the workers."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                _serve_forks(theirs, parent)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.lock = threading.Lock()

    def fork(self) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"w"], [theirs.fileno()])
                answer = b""
                while len(answer) < 4:
                    chunk = self.sock.recv(4 - len(answer))
                    if not chunk:
                        raise OSError("the fork server is gone")
                    answer += chunk
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return _Worker(struct.unpack("i", answer)[0], Connection(ours.detach()))

    def close(self) -> None:
        """Its end of the socket closes: it exits (its workers were killed already)."""
        with self.lock:
            self.sock.close()
        for _ in range(100):
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return
            time.sleep(0.01)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _serve_forks(sock: socket.socket, parent: int) -> None:
    """The fork server: one worker per request, whose end of its connection comes along."""
    quiet_signals()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps the workers
    die_with(parent)
    me = os.getpid()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1, 1)
        except OSError:
            return
        if not message or not fds:
            return  # mtrun closed its end: the pool is shut down, or mtrun is gone
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocess needs it back
                die_with(me)
                serve_calls(Connection(fds[0]))
            finally:
                os._exit(1)
        os.close(fds[0])
        sock.sendall(struct.pack("i", pid))


def _spawn() -> _Worker:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_spawned, args=(theirs, os.getpid()), daemon=True,
                              name="mtrun worker")
    process.start()
    theirs.close()
    return _Worker(process.pid or 0, ours, process)


def _spawned(conn: Connection, parent: int) -> None:
    quiet_signals()
    die_with(parent)
    serve_calls(conn)
