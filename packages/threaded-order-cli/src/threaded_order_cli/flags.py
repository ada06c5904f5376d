"""The unknown-flag policy: ``--key=value`` is a state value, except when it is an mtrun
option misspelled or a pytest option mtrun does not have. Those would be a silent no-op (a
JUnit file never written, a typo'd ``--worker=1``), so they are refused in one line, with the
option meant; ``--state KEY=VALUE`` passes any key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Optional

# pytest's common options that mtrun does not have: the mtrun way, or why there is none.
_NO_EQUIVALENT = "mtrun has no equivalent"
PYTEST_OPTIONS: dict[str, str] = {
    "sw": "use --lf (the failures of the last run, with their dependencies) or -x",
    "stepwise": "use --lf (the failures of the last run, with their dependencies) or -x",
    "cache-show": "the cache is JSON in .mtrun_cache/ at the rootdir",
    "m": "use --tags EXPR (the same grammar)",
    "n": "use --workers N",
    "numprocesses": "use --workers N",
    "dist": "use --executor NAME (threads, processes, dask)",
    "reruns": "use --retries N",
    "pdb": "tasks run on worker threads, where a debugger prompt cannot work; "
           + _NO_EQUIVALENT,
    "trace": "tasks run on worker threads; " + _NO_EQUIVALENT,
    "l": "use --tb=long; " + _NO_EQUIVALENT + " for locals",
    "showlocals": "use --tb=long; " + _NO_EQUIVALENT + " for locals",
    "full-trace": "use --tb=long",
    "fixtures": "mtrun has no fixtures; tasks share state through setup_state(state)",
    "funcs": "mtrun has no fixtures; tasks share state through setup_state(state)",
    "setup-show": "use --graph",
    "setup-plan": "use --graph",
    "setup-only": "use --collect-only",
    "markers": "use --collect-only (it lists each task's tags)",
    "deselect": "use -k 'not NAME'",
    "ignore": "use norecursedirs in [tool.mtrun]",
    "ignore-glob": "use norecursedirs in [tool.mtrun]",
    "confcutdir": "mtrun has no conftest.py",
    "noconftest": "mtrun has no conftest.py",
    "import-mode": "mtrun imports each test file by path",
    "basetemp": _NO_EQUIVALENT,
    "strict-markers": _NO_EQUIVALENT,
    "strict-config": "mtrun always refuses an unknown configuration key",
    "strict": _NO_EQUIVALENT,
    "runxfail": _NO_EQUIVALENT,
    "doctest-modules": "mtrun runs only functions marked with @dmark",
    "doctest-glob": "mtrun runs only functions marked with @dmark",
    "log-level": "use --log (thread names) or --verbose (debug)",
    "log-cli-level": "use --log (thread names) or --verbose (debug)",
    "log-cli": "use --log",
    "log-file": "use --reporter structlog=PATH",
    "log-format": "use setup_logging(workers, verbose) in a test module",
    "junit-prefix": _NO_EQUIVALENT,
    "junit-suite-name": _NO_EQUIVALENT,
    "W": _NO_EQUIVALENT + "; set PYTHONWARNINGS",
    "pythonwarnings": _NO_EQUIVALENT + "; set PYTHONWARNINGS",
    "disable-warnings": _NO_EQUIVALENT,
    "disable-pytest-warnings": _NO_EQUIVALENT,
    "debug": "use --debug-plugins",
    "trace-config": "use --debug-plugins",
    "verbosity": "use -v or -q (repeatable)",
    "code-highlight": "use --color",
    "cov": "run mtrun under coverage: coverage run -m threaded_order_cli",
    "timeout-method": _NO_EQUIVALENT,
}


def pytest_refusal(option: str) -> Optional[str]:
    """The one-line error for a pytest option mtrun does not support (``--lf``, ``-m``),
    or None. ``option`` is as typed, dashes and ``=value`` included."""
    key = option.split("=", 1)[0].lstrip("-")
    if option.startswith("--") and len(key) == 1:
        return None  # --m=1 is a state key, not pytest's -m
    if not option.startswith("--") and len(key) != 1:
        return None
    why = PYTEST_OPTIONS.get(key)
    if why is None:
        return None
    return f"{option.split('=', 1)[0]} is a pytest option that mtrun does not support: {why}"


def suggestion(key: str, options: Iterable[str]) -> Optional[str]:
    """The mtrun option ``key`` (without dashes) is a close misspelling of, or None: a close
    match by edit distance, or the start of an option's name."""
    names = sorted({name for name in options if len(name) > 1})
    if key in names:
        return key
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.8)
    if close:
        return close[0]
    prefixed = [name for name in names if len(key) >= 3 and name.startswith(key)]
    if len(prefixed) == 1:
        return prefixed[0]
    # --retry for --retries: all but the last letter typed, and at least four
    stems = [name for name in names if len(key) >= 5 and name.startswith(key[:-1])]
    return stems[0] if len(stems) == 1 else None


def refuse_state_key(item: str, options: Iterable[str]) -> Optional[str]:
    """The one-line error for ``--key=value`` when ``key`` is not meant as state, or None."""
    refused = pytest_refusal(item)
    if refused:
        return f"{refused} (a state value named so: --state {item[2:]})"
    key = item[2:].split("=", 1)[0]
    meant = suggestion(key, options)
    if meant is not None:
        return (f"--{key}: no such option; did you mean --{meant}? (a state value named so: "
                f"--state {item[2:]})")
    return None
