"""The fault-injection suite: seeded randomness, the seed printed on every failure.

Set FAULTS_SEED to replay a failure; FAULTS_TRIALS scales how many runs each test makes.
"""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def seed(request) -> int:
    value = int(os.environ.get("FAULTS_SEED", random.randrange(1 << 30)))
    request.node.user_properties.append(("seed", value))
    print(f"FAULTS_SEED={value}")
    return value
