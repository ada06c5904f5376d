"""A live progress bar for a Scheduler run, from Python (no mtrun needed).

The original README's "ProgressBar Integration" drew a bar from an ``on_task_done``
callback. The progress reporter does it as a plugin: it counts passed, failed and skipped
tasks, shows the elapsed time, an estimate and the tasks running now, and keeps the log
lines (``setup_logging=True``) above the bar instead of through it.

Run it in a terminal:  uv run python examples/progress_bar.py
(Off a terminal the bar stays silent and only the log lines and the summary are printed.)
"""

import random
import time

from threaded_order import Scheduler, ThreadProxyLogger
from threaded_order_progress import ProgressReporter

s = Scheduler(workers=3, setup_logging=True, plugins=[ProgressReporter()])
logger = ThreadProxyLogger()


def run(name):
    time.sleep(random.uniform(0.05, 0.35))
    logger.info(f"{name} completed")


@s.dregister()
def a(): run("a")


@s.dregister(after=["a"])
def b(): run("b")


@s.dregister(after=["a"])
def c(): run("c")


@s.dregister(after=["c"])
def d(): run("d")


@s.dregister(after=["c"])
def e(): run("e")


@s.dregister(after=["b", "d"])
def f(): run("f")


if __name__ == "__main__":
    summary = s.start()
    print(summary["text"])
