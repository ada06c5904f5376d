"""``threaded_order.reporting``'s locations: where a task is defined and where it failed,
for reports that point CI annotators at the right line."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path

from threaded_order._params import ParamBody
from threaded_order.outcomes import SkipBody, XfailBody
from threaded_order.reporting import crash_location, failure_line, task_location

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
REL = HERE.relative_to(ROOT).as_posix()


def plain():
    pass


def decorator(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


@decorator
def decorated():
    pass


class Callable:
    def __call__(self):
        pass

    def method(self):
        pass


def _line(func):
    return inspect.unwrap(func).__code__.co_firstlineno


def test_the_def_line_of_each_kind_of_callable():
    assert task_location(plain, ROOT) == (REL, _line(plain))
    assert task_location(decorated, ROOT) == (REL, _line(decorated))
    assert task_location(functools.partial(plain), ROOT) == (REL, _line(plain))
    assert task_location(Callable().method, ROOT) == (REL, _line(Callable.method))
    assert task_location(Callable(), ROOT) == (REL, _line(Callable.__call__))
    assert task_location(len, ROOT) is None


def test_skip_and_xfail_bodies_point_at_the_users_function():
    assert task_location(SkipBody(plain, "why"), ROOT) == (REL, _line(plain))
    assert task_location(XfailBody(plain, "why", False), ROOT) == (REL, _line(plain))
    assert task_location(ParamBody(plain, {}), ROOT) == (REL, _line(plain))
    assert task_location(SkipBody(ParamBody(decorated, {}), "why"), ROOT) == \
        (REL, _line(decorated))


def test_a_path_outside_the_rootdir_stays_absolute():
    path, line = task_location(plain, ROOT / "packages")
    assert path == str(HERE) and line == _line(plain)


TRACEBACK = f'''Traceback (most recent call last):
  File "{ROOT}/packages/x/_engine.py", line 10, in run
    body()
  File "{HERE}", line 42, in test_it
    helper()
  File "{ROOT}/tests/helpers.py", line 7, in helper
    raise ValueError("boom")
ValueError: boom
'''


def test_the_crash_is_the_innermost_frame_in_the_tasks_file():
    assert crash_location(TRACEBACK, str(HERE), ROOT) == (REL, 42)
    assert crash_location(TRACEBACK, REL, ROOT) == (REL, 42)


def test_without_a_frame_in_the_tasks_file_the_innermost_frame():
    assert crash_location(TRACEBACK, "tests/other.py", ROOT) == ("tests/helpers.py", 7)
    assert crash_location(TRACEBACK, None, ROOT) == ("tests/helpers.py", 7)
    assert crash_location("ValueError: no frames", REL, ROOT) is None
    assert crash_location(None, REL, ROOT) is None


def test_a_fallback_stands_in_when_no_frame_is_in_the_tasks_file():
    where = (REL, 3)
    assert crash_location(TRACEBACK, "tests/other.py", ROOT, fallback=where) == where
    assert crash_location(None, REL, ROOT, fallback=where) == where
    assert crash_location(TRACEBACK, REL, ROOT, fallback=where) == (REL, 42)


def test_failure_line_is_pytests_last_line():
    assert failure_line((REL, 42), "ValueError") == f"{REL}:42: ValueError"
    assert failure_line(None, "ValueError") == ""
