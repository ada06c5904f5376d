"""``DaskExecutor``: a ``concurrent.futures.Executor`` on a Dask cluster, for
``Scheduler(executor=...)`` and ``mtrun --executor dask``.

The scheduler stays in the calling process and sends one task body per call, so Dask only
runs bodies. Calls are never deduplicated (``pure=False``: a retry must run again) and carry
the task's name in their Dask key. The local cluster listens on 127.0.0.1 only (over TLS
with a throwaway certificate where ``cryptography`` is installed), has no dashboard, one
thread per worker process, and gives up on a task at the first worker that dies running it
(``allowed-failures`` 0), so a crashing task is reported at once.

A body tells this executor when it starts (an event on the scheduler, sent before the body
runs and acknowledged), so that:

- a task's timeout counts from then, not from its submission (``future.body_started``);
- a task that was only waiting on a worker when that worker died (``KilledWorker``) was not
  what killed it: it is sent again instead of being blamed;
- on the local cluster a body that overran its timeout is ended by killing its worker
  process (``end_body``); the nanny starts a new one.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import os
import signal
import threading
import uuid
from typing import Any, Optional

import dask
from distributed import Client, KilledWorker, LocalCluster
from distributed.cfexecutor import ClientExecutor

from threaded_order.ext import announce_start, run_task

from ._signals import SignalsHeld

LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    # One task per single-threaded worker: nothing else queued on a worker that may die.
    "distributed.scheduler.worker-saturation": 1.0,
}
RESENDS = 3  # how often a call that never started is sent again after its worker died


class _Call:
    """One run_task call, across the Dask tasks that carry it (a resend is a new key)."""

    def __init__(self, outer: cf.Future[Any], args: tuple[Any, ...]) -> None:
        self.outer = outer
        self.args = args
        self.key = ""
        self.where: Optional[tuple[Any, Any]] = None  # (worker address, pid) once started
        self.resends = 0


class DaskExecutor(ClientExecutor):
    """Submits to a Dask client; ``shutdown`` closes the client, and the cluster if ours."""

    def __init__(self, client: Client, cluster: Optional[LocalCluster] = None,
                 description: str = "dask") -> None:
        super().__init__(client, pure=False)
        self.client = client
        self.cluster = cluster
        self.description = description
        self._topic = f"threaded-order-{uuid.uuid4().hex}"
        self._announce = functools.partial(announce_start, self._topic)
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}
        client.subscribe_topic(self._topic, self._on_start)

    @classmethod
    def local(cls, workers: int, **cluster_options: Any) -> DaskExecutor:
        """Start a LocalCluster of ``workers`` single-threaded processes on loopback."""
        options: dict[str, Any] = {
            "n_workers": workers, "threads_per_worker": 1, "processes": True,
            "host": "127.0.0.1", "dashboard_address": None, "silence_logs": logging.CRITICAL,
            # Without a dashboard the scheduler still serves a few HTTP routes, by default
            # on port 8787: any free port on loopback instead, so clusters never collide.
            "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            "preload": ["threaded_order_dask.worker_setup"],  # passed on to each worker
        }
        security = _temporary_security()
        if security is not None:
            options["security"] = security
        options.update(cluster_options)
        cluster: Optional[LocalCluster] = None
        client: Optional[Client] = None
        try:
            with SignalsHeld():  # a signal that came meanwhile is handled on the way out
                with dask.config.set(LOCAL_CONFIG):
                    cluster = LocalCluster(**options)
                client = _Client(cluster, set_as_default=False)
                executor = cls(client, cluster, f"dask (local cluster "
                                                f"{cluster.scheduler_address}, "
                                                f"{options['n_workers']} worker processes)")
        except BaseException:
            with SignalsHeld():
                _close(client, cluster)
            raise
        return executor

    @classmethod
    def connect(cls, address: str, timeout: str = "10s", security: Any = None) -> DaskExecutor:
        """Use a running cluster's scheduler at ``address`` (``tcp://HOST:PORT``; a
        ``distributed.Security`` for one that wants TLS)."""
        client = _Client(address, timeout=timeout, set_as_default=False, security=security)
        try:
            workers = client.scheduler_info().get("workers", {})
            threads = sum(w.get("nthreads", 0) for w in workers.values())
            return cls(client, None, f"dask ({address}: {len(workers)} workers, "
                                     f"{threads} threads)")
        except BaseException:
            _close(client, None)
            raise

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """As ClientExecutor's; a task's call gets a Dask key named after the task, and its
        future a ``body_started`` event."""
        if fn is not run_task or kwargs:
            return super().submit(fn, *args, **kwargs)
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        outer: cf.Future[Any] = cf.Future()
        outer.set_running_or_notify_cancel()  # a call that started cannot be taken back
        outer.body_started = threading.Event()  # type: ignore[attr-defined]
        call = _Call(outer, args)
        outer.dask_call = call  # type: ignore[attr-defined]
        self._send(call)
        return outer

    def end_body(self, future: cf.Future[Any]) -> bool:
        """End a body that overran its timeout, where this executor can: on its own local
        cluster, by killing the worker process running it (the nanny starts a new one)."""
        call = getattr(future, "dask_call", None)
        if self.cluster is None or call is None or call.where is None:
            return False
        pid = call.where[1]
        if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
            return False
        try:
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        except OSError:
            return False
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait and not cancel_futures)
        with self._lock:
            calls = list(self._calls.values())
            self._calls.clear()
        for call in calls:
            _settle(call.outer, error=cf.CancelledError("the Dask executor was shut down"))
        _close(self.client, self.cluster)

    def _send(self, call: _Call) -> None:
        call.key = f"{call.args[0]}-{uuid.uuid4().hex[:12]}"
        call.where = None
        with self._lock:
            self._calls[call.key] = call
        try:
            future = self.client.submit(run_task, *call.args, key=call.key, pure=False,
                                        watch=False, started=self._announce)
            # a client that started has a loop
            self.client.loop.add_callback(self._relay, call, future)  # type: ignore[union-attr]
        except BaseException:
            with self._lock:
                self._calls.pop(call.key, None)
            raise

    def _on_start(self, event: Any) -> None:
        """A body started (on the client's event loop, in the order the scheduler sent)."""
        message = event[1] if isinstance(event, (tuple, list)) and len(event) > 1 else None
        if not isinstance(message, dict):
            return
        with self._lock:
            call = self._calls.get(message.get("key"))  # type: ignore[arg-type]
        if call is not None:
            call.where = (message.get("worker"), message.get("pid"))
            call.outer.body_started.set()  # type: ignore[attr-defined]

    async def _relay(self, call: _Call, future: Any) -> None:
        """Hand the Dask task's outcome to the call's future, or send it again when its
        worker died before its body started (another task on that worker killed it)."""
        try:
            result = await future._result(raiseit=False)
            status = future.status
        except BaseException as exc:  # the client is closing: the call must still end
            result, status = (type(exc), exc, None), "error"
        with self._lock:
            if self._calls.pop(call.key, None) is None:
                return  # shut down meanwhile
        if status == "finished":
            _settle(call.outer, value=result)
            return
        if status == "cancelled":
            _settle(call.outer, error=cf.CancelledError(f"Dask cancelled {call.key}"))
            return
        error = result[1] if isinstance(result, tuple) and len(result) == 3 else result
        if not isinstance(error, BaseException):
            error = RuntimeError(f"Dask task {call.key} ended as {status!r}")
        if isinstance(error, KilledWorker) and call.where is None and \
                call.resends < RESENDS and not self._shutdown:
            call.resends += 1
            try:
                self._send(call)
                return
            except BaseException as exc:
                error = exc
        _settle(call.outer, error=error)


def _settle(outer: cf.Future[Any], value: Any = None,
            error: Optional[BaseException] = None) -> None:
    try:
        if error is not None:
            outer.set_exception(error)
        else:
            outer.set_result(value)
    except cf.InvalidStateError:
        pass  # settled already (shut down meanwhile)
    outer.body_started.set()  # type: ignore[attr-defined]


class _Client(Client):
    """A client that, when it cannot start (a bad address, Ctrl-C), stops at once:
    distributed's own would try to close itself again when collected, and stall 20 s with
    a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self._threaded_order_failed = True
            runner = getattr(self, "_loop_runner", None)
            if runner is not None:
                try:
                    runner.stop()
                except Exception:
                    pass
            raise

    def __del__(self) -> None:
        if not getattr(self, "_threaded_order_failed", False):
            super().__del__()


def _close(client: Optional[Client], cluster: Optional[LocalCluster]) -> None:
    for closable in (client, cluster):
        if closable is not None:
            try:
                closable.close()
            except Exception:  # closing what failed to start may fail too; it is gone
                pass


def _temporary_security() -> Any:
    """TLS with a throwaway certificate, where distributed can make one (it needs the
    ``cryptography`` package); None otherwise."""
    try:
        from distributed.security import Security

        return Security.temporary()
    except Exception:
        return None
