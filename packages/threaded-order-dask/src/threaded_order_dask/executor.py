"""``DaskExecutor``: a ``concurrent.futures.Executor`` on a Dask cluster, for
``Scheduler(executor=...)`` and ``mtrun --executor dask``.

The scheduler stays in the calling process and sends one task body per call, so Dask only
runs bodies. Calls are never deduplicated (``pure=False``: a retry must run again) and carry
the task's name in their Dask key. The local cluster listens on 127.0.0.1 only, has no
dashboard, one thread per worker process, and gives up on a task at the first worker that
dies running it (``allowed-failures`` 0), so a crashing task is reported at once.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Optional

import dask
from distributed import Client, LocalCluster
from distributed.cfexecutor import ClientExecutor

from threaded_order.remote_call import run_task

LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    # One task per single-threaded worker: nothing else queued on a worker that may die.
    "distributed.scheduler.worker-saturation": 1.0,
}


class DaskExecutor(ClientExecutor):
    """Submits to a Dask client; ``shutdown`` closes the client, and the cluster if ours."""

    def __init__(self, client: Client, cluster: Optional[LocalCluster] = None,
                 description: str = "dask") -> None:
        super().__init__(client, pure=False)
        self.client = client
        self.cluster = cluster
        self.description = description

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
        options.update(cluster_options)
        with dask.config.set(LOCAL_CONFIG):
            cluster = LocalCluster(**options)
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        return cls(client, cluster, f"dask (local cluster {cluster.scheduler_address}, "
                                    f"{options['n_workers']} worker processes)")

    @classmethod
    def connect(cls, address: str, timeout: str = "10s") -> DaskExecutor:
        """Use a running cluster's scheduler at ``address`` (``tcp://HOST:PORT``)."""
        client = Client(address, timeout=timeout, set_as_default=False)
        workers = client.scheduler_info().get("workers", {})
        threads = sum(w.get("nthreads", 0) for w in workers.values())
        return cls(client, None, f"dask ({address}: {len(workers)} workers, "
                                 f"{threads} threads)")

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """As ClientExecutor's; a task's call gets a Dask key named after the task."""
        if fn is run_task and "key" not in kwargs:
            kwargs["key"] = f"{args[0]}-{uuid.uuid4().hex[:12]}"
        return super().submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait and not cancel_futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
