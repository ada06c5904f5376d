"""The junit reporter's settings, named as pytest names them, so a ``[tool.pytest.ini_options]``
user finds them again under ``[tool.mtrun]`` or ``-o NAME=VALUE``.

A constructor keyword wins, then mtrun's ``config.getini`` (``-o``, then the config file),
then the default. Stdlib only: the entry point imports this to declare the settings.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

from threaded_order.reporting import ReporterError

DEFAULT_SUITE_NAME = "threaded-order"
FAMILIES = ("xunit1", "xunit2")
LOGGING = ("no", "log", "system-out", "system-err", "out-err", "all")
DURATIONS = ("total", "call")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class Settings(NamedTuple):
    junit_family: str = "xunit2"
    junit_logging: str = "no"
    junit_log_passing_tests: bool = True
    junit_suite_name: str = DEFAULT_SUITE_NAME
    junit_duration_report: str = "total"


_DEFAULTS = Settings()
NAMES = Settings._fields

# name: (help, choices); the default (and so the type) comes from Settings.
HELP: dict[str, tuple[str, Optional[tuple[str, ...]]]] = {
    "junit_family": ("xunit2 (valid against junit-10.xsd) or xunit1 (adds file and line to "
                     "each testcase)", FAMILIES),
    "junit_logging": ("captured output written to the report: " + "|".join(LOGGING), LOGGING),
    "junit_log_passing_tests": ("write captured output of passed tests too", None),
    "junit_suite_name": ("name of the report's testsuites element (and of the suite of tasks "
                         "without a module)", None),
    "junit_duration_report": ("total (all tries, retry delays included) or call (the tries "
                              "only)", DURATIONS),
}


def declare(add_ini: Callable[..., Any]) -> None:
    """Declare every setting to mtrun (the ``threaded_order_cli_addini`` hook)."""
    for name in NAMES:
        text, choices = HELP[name]
        if choices is None:
            add_ini(name, text, default=getattr(_DEFAULTS, name))
        else:
            add_ini(name, text, default=getattr(_DEFAULTS, name), choices=choices)


def resolve(config: Any, given: dict[str, Any]) -> Settings:
    """The settings: ``given`` (keywords not None), else mtrun's ``config.getini``, else the
    defaults; any bad value is one ``ReporterError`` line."""
    unknown = sorted(set(given) - set(NAMES))
    if unknown:
        raise ReporterError(f"junit reporter: unknown setting {unknown[0]!r}; "
                            f"known: {', '.join(NAMES)}")
    getini = getattr(config, "getini", None)
    values: dict[str, Any] = {}
    for name in NAMES:
        value = given.get(name)
        if value is None and callable(getini):
            try:
                value = getini(name)
            except ValueError:  # a config whose mtrun did not load our entry point
                value = None
        values[name] = getattr(_DEFAULTS, name) if value is None else _check(name, value)
    return Settings(**values)


def _check(name: str, value: Any) -> Any:
    choices = HELP[name][1]
    if isinstance(getattr(_DEFAULTS, name), bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ReporterError(f"junit reporter: {name} must be true or false, got {value!r}")
    if not isinstance(value, str):
        raise ReporterError(f"junit reporter: {name} must be a string, got {value!r}")
    if choices is not None and value not in choices:
        raise ReporterError(f"junit reporter: {name} must be one of {'|'.join(choices)}, "
                            f"got {value!r}")
    if not value.strip():
        raise ReporterError(f"junit reporter: {name} must not be empty")
    return value
