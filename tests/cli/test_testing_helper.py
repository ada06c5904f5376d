"""threaded_order_cli.testing, the helper plugin authors test with: run_mtrun in a subprocess
and in-process, and RunResult's outcomes."""

from __future__ import annotations

import os

import pytest

from threaded_order_cli.testing import RunResult, run_mtrun

from ._support import QUIET, write

MODULE = """
    import os
    from threaded_order import dmark

    def setup_state(state):
        print("FLAG=" + os.environ.get("HELPER_TEST_FLAG", "unset"))

    @dmark()
    def test_ok():
        pass

    @dmark()
    def test_bad():
        raise AssertionError("bad")

    @dmark(after="test_bad")
    def test_after():
        pass
"""


def test_subprocess_run_and_outcomes_ignore_colour(tmp_path):
    write(tmp_path, "test_helper_mod.py", MODULE)
    result = run_mtrun("test_helper_mod.py", "--skip-deps", "--color=yes", cwd=tmp_path,
                       env={**QUIET, "HELPER_TEST_FLAG": "sub"})
    assert result.ret == 1
    assert "\x1b[" in result.stdout and "FLAG=sub" in result.stdout
    assert result.outcomes() == {"passed": 1, "failed": 1, "skipped": 1}
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    with pytest.raises(AssertionError, match=r"(?s)'passed': 1.*--- stdout.*FLAG=sub"):
        result.assert_outcomes(passed=2)


def test_in_process_matches_a_subprocess_and_applies_env(tmp_path):
    """env must reach an in-process run too (it used to be ignored), and be restored."""
    write(tmp_path, "test_helper_mod.py", MODULE)
    before_env, before_cwd = dict(os.environ), os.getcwd()
    result = run_mtrun("test_helper_mod.py", "--skip-deps", cwd=tmp_path, in_process=True,
                       env={**QUIET, "HELPER_TEST_FLAG": "in-process"})
    assert dict(os.environ) == before_env and os.getcwd() == before_cwd
    assert result.ret == 1
    assert "FLAG=in-process" in result.stdout
    assert "FAILED test_bad - AssertionError: bad" in result.stdout
    result.assert_outcomes(passed=1, failed=1, skipped=1)


def test_in_process_error_is_one_line_on_its_stderr(tmp_path):
    result = run_mtrun("missing.py", cwd=tmp_path, in_process=True, env=QUIET)
    assert result == RunResult(4, "", "mtrun: error: file or folder not found: missing.py\n")
    assert result.outcomes() == {}
