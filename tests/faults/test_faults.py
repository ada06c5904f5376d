"""mtrun under fire: random hostile suites, Ctrl-C storms, SIGTERM, and a full disk.

Each run is checked against the four promises in _support.check. Every failure message
starts with the seed; FAULTS_SEED=N replays it.
"""

from __future__ import annotations

import random
import resource
import signal
import sys
import time

import pytest

from ._support import check, run_suite, suites

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and rlimits")


@posix_only
def test_random_hostile_suites_keep_every_promise(tmp_path, seed):
    rng = random.Random(seed)
    for folder, expected in suites(tmp_path, rng, 6, (10, 40)):
        check(run_suite(folder, seed=seed), expected, seed)


@posix_only
def test_random_hostile_suites_under_processes(tmp_path, seed):
    rng = random.Random(seed)
    for folder, expected in suites(tmp_path, rng, 2, (10, 25), forks=False):
        check(run_suite(folder, "--executor", "processes", seed=seed), expected, seed)


def _storm(rng: random.Random, signum: int, count: tuple[int, int]):
    def fire(run):
        time.sleep(rng.uniform(0, 0.2))  # where the storm lands: anywhere in the run
        for _ in range(rng.randint(*count)):
            run.send_signal(signum)
            time.sleep(rng.uniform(0, 0.01))
    return fire


@posix_only
def test_sigint_storms_at_random_points(tmp_path, seed):
    rng = random.Random(seed)
    for folder, expected in suites(tmp_path, rng, 15, (20, 60)):
        outcome = run_suite(folder, fire=_storm(rng, signal.SIGINT, (1, 4)), seed=seed)
        check(outcome, expected, seed, fired=True)


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_termination_at_random_points(tmp_path, seed, signum):
    rng = random.Random(seed)
    for folder, expected in suites(tmp_path, rng, 6, (20, 60)):
        outcome = run_suite(folder, fire=_storm(rng, signum, (1, 2)), seed=seed)
        check(outcome, expected, seed, fired=True)


@posix_only
def test_reports_under_a_file_size_limit_are_complete_or_absent(tmp_path, seed):
    rng = random.Random(seed)
    for folder, expected in suites(tmp_path, rng, 5, (20, 40), forks=False):
        limit = rng.choice([0, 512, 2048, 8192])

        def small_files(limit=limit):
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        outcome = run_suite(folder, preexec=small_files, seed=seed)
        check(outcome, expected, seed, reports_required=False)
        if outcome.report is None or outcome.junit is None:
            assert outcome.returncode != 0, f"seed {seed}: a report is missing, yet exit 0"
