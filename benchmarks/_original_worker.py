"""Times the original threaded-order (PyPI) on one graph; run by its own venv's Python.

Kept free of imports from this repository: its import name ``threaded_order`` is the same
as ours, so it runs in a separate interpreter. Reads a JSON job on stdin, prints JSON.
"""

import json
import sys
import time
import warnings


def main() -> None:
    job = json.load(sys.stdin)
    warnings.simplefilter("ignore")
    import threaded_order
    from threaded_order import Scheduler

    deps = job["deps"]
    seconds = job.get("sleep") or 0.0
    events = []

    def body_for(index):
        def body():
            events.append((index, 0))
            if seconds:
                time.sleep(seconds)
            events.append((index, 1))

        return body

    names = [f"t{i}" for i in range(len(deps))]
    t0 = time.perf_counter()
    scheduler = Scheduler(workers=job["workers"])
    for i, ds in enumerate(deps):
        scheduler.register(body_for(i), names[i], after=[names[d] for d in ds] or None)
    t1 = time.perf_counter()
    summary = scheduler.start()
    t2 = time.perf_counter()
    json.dump({
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "passed": len(summary["passed"]),
        "events": events,
        "version": getattr(threaded_order, "__version__", "?"),
    }, sys.stdout)


if __name__ == "__main__":
    main()
