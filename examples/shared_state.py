"""The original README's shared-state example: tasks share a dict and its lock."""

import json
from time import sleep

from threaded_order import Scheduler

s = Scheduler(workers=3, state={})


@s.dregister(with_state=True)
def load(state):
    with state["_state_lock"]:
        state["counter"] = state.get("counter", 0) + 1
    state["x"] = 10
    return "loaded"


@s.dregister(with_state=True)
def behave(state):
    with state["_state_lock"]:
        state["counter"] = state.get("counter", 0) + 1
    sleep(0.3)
    return "behaved"


@s.dregister(after=["load"], with_state=True)
def compute(state):
    with state["_state_lock"]:
        state["counter"] = state.get("counter", 0) + 1
    state["x"] += 5
    return state["x"]


if __name__ == "__main__":
    s.start()
    print(json.dumps(s.state, indent=2, default=str))
