"""Extra --key=value pairs and --state-file build the state given to setup_state(state);
options are matched exactly, never by abbreviation."""

from __future__ import annotations

import json

from ._support import assert_error, counts, mtrun, write

SHOW_STATE = """
    import json
    from threaded_order import dmark

    def setup_state(state):
        shown = {k: v for k, v in state.items() if not k.startswith("_") and k != "results"}
        print("STATE " + json.dumps(shown, sort_keys=True))

    @dmark(with_state=True)
    def test_state(state):
        pass
"""


def state_line(stdout: str) -> dict:
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("STATE "))[6:])


def test_extra_pairs_are_strings_and_never_abbreviate_options(tmp_path):
    """--state tag=v1 is state['tag'], not --tags; --state work=3 is state['work'], not
    --workers (--tag=v1 alone is refused as a likely typo)."""
    write(tmp_path, "test_state.py", SHOW_STATE)
    result = mtrun("test_state.py", "--state", "tag=v1", "--state", "work=3", "--count=7",
                   "--url=a=b", "--empty=", "--workers", "1", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert state_line(result.stdout) == {"tag": "v1", "work": "3", "count": "7", "url": "a=b",
                                         "empty": ""}
    assert "workers: 1" in result.stdout  # --work=3 did not set the workers
    assert "deselected" not in result.stdout  # --tag=v1 did not select by tag
    assert counts(result) == (1, 0, 0)


def test_state_file_is_the_initial_state_and_pairs_override_it(tmp_path):
    write(tmp_path, "test_state.py", SHOW_STATE)
    (tmp_path / "state.json").write_text(json.dumps({"env": "file", "n": 3, "nested": [1, 2]}))
    result = mtrun("test_state.py", "--state-file", "state.json", "--env=cli", cwd=tmp_path)
    assert result.ret == 0, result.stderr
    assert state_line(result.stdout) == {"env": "cli", "n": 3, "nested": [1, 2]}


def test_unknown_option_without_value_is_a_usage_error_naming_it(tmp_path):
    write(tmp_path, "test_state.py", SHOW_STATE)
    assert_error(mtrun("test_state.py", "--tag", "x", cwd=tmp_path), 4, "--tag")
