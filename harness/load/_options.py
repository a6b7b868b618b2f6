"""Command-line options declared once, on the fields of a settings dataclass.

A settings class marks each field that crosses to the Locust subprocess with `option(...)`
metadata; `options_of` turns those fields into a table of `Option`s. Both sides use that one
table: the harness renders a settings value into argv (`render`), the locustfile declares
each option on Locust's parser (`Option.add_to`) and reads the parsed values back (`read`).

Locust is never imported here: a parser is anything with `add_argument`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn, Protocol

from .._exceptions import UsageError

__all__ = [
    "Option",
    "Parser",
    "check_count",
    "check_number",
    "fail",
    "flag_of",
    "option",
    "options_of",
    "read",
    "render",
]

_KEY: Final = "trigger_harness_option"


class Parser(Protocol):
    """Anything that declares options like `argparse` (Locust's parser, an argument group)."""

    def add_argument(self, *names: str, **settings: Any) -> Any:
        """Declare one option."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """One option: its name (the field and argparse `dest`), type, default and help.

    `--name-with-dashes` is the flag. A `bool` option is a switch (`store_true`). With
    `blank_is_none`, an empty value means None (a field that may be left unset, such as a
    trigger); None is then written as `--flag ""`. A `multiple` option is given once per value
    (`--max-p95-ms 500 --max-p95-ms E3=200`); its field holds a tuple (empty: none given).
    """

    name: str
    kind: type[str] | type[int] | type[float] | type[bool]
    default: object
    help: str
    env_var: str | None = None
    choices: tuple[str, ...] | None = None
    blank_is_none: bool = False
    multiple: bool = False

    @property
    def flag(self) -> str:
        """`--poll-interval` for `poll_interval`."""
        return flag_of(self.name)

    def parser_settings(self) -> dict[str, Any]:
        """The keyword arguments of `add_argument` for this option."""
        settings: dict[str, Any] = {"dest": self.name, "default": self.default, "help": self.help}
        if self.kind is bool:
            settings["action"] = "store_true"
        elif self.multiple:
            settings |= {"action": "append", "type": self.kind, "default": None}
        else:
            settings["type"] = self.kind
        if self.env_var is not None:
            settings["env_var"] = self.env_var
        if self.choices is not None:
            settings["choices"] = list(self.choices)
        return settings

    def add_to(self, parser: Parser) -> None:
        """Declare this option on `parser` (Locust's, which accepts `env_var`)."""
        parser.add_argument(self.flag, **self.parser_settings())

    def arguments(self, value: object) -> list[str]:
        """The argv words that give this option `value` (none when the default stands)."""
        if self.kind is bool:
            return [self.flag] if value else []
        if self.multiple and isinstance(value, tuple):
            return [word for item in value for word in (self.flag, _text(item))]
        if value is None:
            return [self.flag, ""] if self.blank_is_none and self.default is not None else []
        return [self.flag, _text(value)]


def _text(value: object) -> str:
    """`5` for 5.0 (as the harness always wrote it), the exact repr when `:g` would round."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def option(
    kind: type[str] | type[int] | type[float] | type[bool],
    help: str,
    *,
    env_var: str | None = None,
    choices: tuple[str, ...] | None = None,
    blank_is_none: bool = False,
    multiple: bool = False,
) -> dict[str, Any]:
    """Field metadata that makes a settings field an option: `field(default=..., metadata=...)`.

    Args:
        kind: the value's type (`bool`: a switch).
        help: the option's help text.
        env_var: a variable Locust also reads the option from.
        choices: the allowed values.
        blank_is_none: an empty value means None.
        multiple: the option is given once per value; the field holds a tuple.
    """
    spec = {"kind": kind, "help": help, "env_var": env_var, "choices": choices}
    return {_KEY: {**spec, "blank_is_none": blank_is_none, "multiple": multiple}}


def options_of(settings_class: type[Any]) -> tuple[Option, ...]:
    """The option table of a settings dataclass: one `Option` per field marked with `option`."""
    table = []
    for field in dataclasses.fields(settings_class):
        spec: Mapping[str, Any] | None = field.metadata.get(_KEY)
        if spec is not None:
            table.append(Option(name=field.name, default=field.default, **spec))
    return tuple(table)


def render(settings: object, table: tuple[Option, ...]) -> tuple[str, ...]:
    """The argv that gives every option of `table` its value in `settings`."""
    words: list[str] = []
    for item in table:
        words += item.arguments(getattr(settings, item.name))
    return tuple(words)


def read(parsed: object, table: tuple[Option, ...]) -> dict[str, Any]:
    """The values of `table`'s options in a parsed namespace, by field name."""
    values = {}
    for item in table:
        value = getattr(parsed, item.name, item.default)
        if item.multiple:
            value = tuple(value) if isinstance(value, list | tuple) else ()
        values[item.name] = None if item.blank_is_none and value == "" else value
    return values


def flag_of(name: str) -> str:
    """The flag of an option named `name` (`poll_interval` -> `--poll-interval`)."""
    return "--" + name.replace("_", "-")


def fail(name: str, problem: str) -> NoReturn:
    """Raise the usage error `--flag: problem` for option `name`."""
    raise UsageError(f"{flag_of(name)}: {problem}")


def check_number(name: str, value: object, *, above_zero: bool) -> None:
    """Refuse a value of option `name` that is not a finite number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(name, f"must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (above_zero and value == 0):
        fail(name, f"must be a finite number {'> 0' if above_zero else '>= 0'}, got {value!r}")


def check_count(name: str, value: object, *, low: int) -> None:
    """Refuse a value of option `name` that is not a whole number >= `low`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        fail(name, f"must be a whole number >= {low}, got {value!r}")
