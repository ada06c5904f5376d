"""Settings that plugins declare, as pytest's ``addini``: a reporter's ``junit_family``, say.

A plugin declares each one in ``threaded_order_cli_addini(add_ini)``; its value comes from
``-o NAME=VALUE`` (``--override-ini``), else from the configuration file (``[tool.mtrun]``
or ``mtrun.toml``), else its default. Values are checked once every plugin has declared its
own, before collection, so a wrong one stops mtrun in one line that names where it came from.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from threaded_order.ext import safe_repr, type_name

from .config import UsageError
from .flags import suggestion

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class Setting(NamedTuple):
    name: str
    help: str
    default: Any
    choices: Optional[tuple[str, ...]]


class Settings:
    """The declared settings and their values, from the file and from ``-o``."""

    def __init__(self, from_file: dict[str, Any], file_label: str,
                 overrides: tuple[str, ...], core_keys: tuple[str, ...]) -> None:
        self.overrides = overrides  # -o NAME=VALUE, known once the command line is parsed
        self.declared: dict[str, Setting] = {}
        self.values: dict[str, Any] = {}
        self._from_file = from_file  # keys the core does not know, for plugins to claim
        self._file_label = file_label
        self._core_keys = core_keys

    def add_ini(self, name: str, help: str = "", default: Any = None,
                choices: Optional[tuple[str, ...]] = None) -> None:
        """What ``threaded_order_cli_addini`` hands to plugins: the default's type (str,
        bool, int, or a list of strings) is the setting's type."""
        if not isinstance(name, str) or not name.isidentifier():
            raise UsageError(f"a plugin declared the setting {safe_repr(name)}: "
                             "a setting's name is an identifier")
        if name in self._core_keys:
            raise UsageError(f"a plugin declared the setting {name!r}: it is mtrun's own key")
        if name in self.declared:
            raise UsageError(f"two declarations of the setting {name!r}")
        self.declared[name] = Setting(name, help, default,
                                      tuple(choices) if choices is not None else None)

    def resolve(self) -> None:
        """Every value checked: an unknown key or ``-o`` name, or a wrong value, is one line."""
        known = (*self._core_keys, *self.declared)
        for key, value in self._from_file.items():
            if key not in self.declared:
                meant = suggestion(key, known)
                hint = f"; did you mean {meant!r}?" if meant else f" (known: {', '.join(known)})"
                raise UsageError(f"{self._file_label}: unknown key {key!r}{hint}")
            self.values[key] = self._check(self.declared[key], value,
                                           f"{self._file_label}: {key}")
        for pair in self.overrides:
            name, sep, text = pair.partition("=")
            where = f"-o {pair}"
            if not sep:
                raise UsageError(f"{where}: want NAME=VALUE")
            if name in self._core_keys:
                raise UsageError(f"{where}: {name} is set by mtrun's own option or in the "
                                 "configuration file, not with -o")
            if name not in self.declared:
                meant = suggestion(name, self.declared)
                hint = f"; did you mean {meant!r}?" if meant else (
                    f" (known: {', '.join(self.declared)})" if self.declared
                    else " (no plugin declares a setting)")
                raise UsageError(f"{where}: unknown setting {name!r}{hint}")
            self.values[name] = self._check(self.declared[name], text, where)

    def get(self, name: str) -> Any:
        if name not in self.declared:
            raise ValueError(f"unknown setting {name!r}: no plugin declared it")
        return self.values.get(name, self.declared[name].default)

    def describe(self) -> list[str]:
        """For ``--show-config``: each declared setting and its value."""
        return [f"{name} = {safe_repr(self.get(name))}" for name in sorted(self.declared)]

    @staticmethod
    def _check(setting: Setting, value: Any, where: str) -> Any:
        want = type(setting.default)
        if isinstance(setting.default, bool):
            if isinstance(value, str) and value.lower() in TRUE + FALSE:
                value = value.lower() in TRUE
            if not isinstance(value, bool):
                raise UsageError(f"{where}: want true or false, got {safe_repr(value)}")
        elif isinstance(setting.default, int):
            try:
                value = int(value) if isinstance(value, (int, str)) and \
                    not isinstance(value, bool) else None
            except ValueError:
                value = None
            if value is None:
                raise UsageError(f"{where}: want an integer")
        elif isinstance(setting.default, list):
            if isinstance(value, str):
                value = value.split()
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{where}: want a list of strings")
        elif (setting.default is None or want is str) and not isinstance(value, str):
            raise UsageError(f"{where}: want a string, got a {type_name(value)}")
        if setting.choices is not None and value not in setting.choices:
            raise UsageError(f"{where}: want one of {', '.join(setting.choices)}, "
                             f"got {safe_repr(value)}")
        return value
