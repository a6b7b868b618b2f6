"""Validation helpers of config values: a `Where` key path and checks raising `ConfigError`.

Shared by the config loader (`_config.py`) and the fault rules (`_fault_rules.py`, which the
admin API also uses): every message names the dotted key path and the bad value (secrets never).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "MAX_DURATION_S",
    "MAX_RATE_PER_S",
    "MAX_REAL_DELAY_S",
    "MAX_SIGMA",
    "SECRET_KEYS",
    "ConfigError",
    "Where",
    "ascii_integer",
    "bearer_key",
    "choice",
    "header_secret",
    "integer",
    "number",
    "required",
    "show_value",
    "string",
    "table",
]

MAX_DURATION_S = 1e9
"""The longest duration or limit a config or rule may give, in virtual seconds (~31.7 years)."""
MAX_SIGMA = 10.0
"""The widest lognormal `sigma` (a draw beyond it could overflow a float)."""
MAX_REAL_DELAY_S = 3600.0
"""The longest real delay a fault rule may add (latency, hang, dribble interval)."""
MAX_RATE_PER_S = 1e6
"""The highest rate limit, in requests per real second."""
SECRET_KEYS = frozenset({"api_keys", "key", "jira_secret", "admin_token"})
HEADER_SAFE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
"""A secret an HTTP header can carry: visible ASCII, inner single spaces (RFC 9110 §5.5).

The harness reads a target's keys and Jira secret by the same rule (`harness/_targets.py`
`_HEADER_SAFE`; the mock cannot import the harness, so a test checks that the two agree).
"""
BEARER_TOKEN = re.compile(r"[\x21-\x7e]+")
"""A bearer token as the mock reads one (`Authorization: Bearer <token>`, RFC 6750): the
header-safe rule without spaces, since a space ends the token."""


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the key and the value."""


def show_value(value: object) -> str:
    """Render a bad value for an error message (strings quoted, containers summarised)."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return (
            str(value) if value.bit_length() <= 96 else f"an integer of {value.bit_length()} bits"
        )
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


class Where:
    """A dotted key path inside one config source, for error messages (`where / "key"`).

    Args:
        source: the config source (a file name, `<config>`, `rule`).
        path: the dotted path inside it (`workspaces[0].api_keys`); `""` for the whole source.
    """

    __slots__ = ("path", "source")

    def __init__(self, source: str, path: str = "") -> None:
        self.source = source
        self.path = path

    def __truediv__(self, key: str | int) -> Where:
        if isinstance(key, int):
            return Where(self.source, f"{self.path}[{key}]")
        return Where(self.source, f"{self.path}.{key}" if self.path else key)

    @property
    def secret(self) -> bool:
        """True when the path passes through a secret key, whose values are never shown."""
        return any(part in SECRET_KEYS for part in re.split(r"[.\[]", self.path))

    def fail(self, problem: str, value: object = None, *, show: bool = True) -> ConfigError:
        """The `ConfigError` (returned, not raised) naming this path, the problem and the value.

        Args:
            problem: what is wrong (`must be a table`).
            value: the bad value, shown unless `show` is False or the path is secret.
            show: whether the value may be shown at all.
        """
        where = f"{self.source}: {self.path}" if self.path else self.source
        if show and not self.secret:
            return ConfigError(f"{where}: {problem}, got {show_value(value)}")
        return ConfigError(f"{where}: {problem}")


def table(value: object, where: Where, allowed: tuple[str, ...]) -> dict[str, Any]:
    """`value` as a table whose keys are all in `allowed`.

    Raises:
        ConfigError: not a table, or an unknown key (named, its value not shown).
    """
    if not isinstance(value, dict):
        raise where.fail("must be a table", value)
    for key in value:
        if key not in allowed:
            raise (where / key).fail(f"unknown key (allowed: {', '.join(allowed)})", show=False)
    return value


def required(table: dict[str, Any], key: str, where: Where) -> Any:
    """The value of `key` in `table`.

    Raises:
        ConfigError: the key is missing.
    """
    if key not in table:
        raise (where / key).fail("is required", show=False)
    return table[key]


def number(
    value: object,
    where: Where,
    *,
    minimum: float,
    inclusive: bool = False,
    maximum: float | None = None,
) -> float:
    """`value` as a finite float above `minimum` (or equal to it when `inclusive`).

    Args:
        value: the value to check.
        where: its key path.
        minimum: the lowest value allowed (excluded unless `inclusive`).
        inclusive: whether `minimum` itself is allowed.
        maximum: the highest value allowed (included), if any.

    Raises:
        ConfigError: not a finite number (booleans are not numbers), too small or too large
            (the message names the bound).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.fail("must be a finite number", value)
    try:
        as_float = float(value)
    except OverflowError:  # an integer beyond the float range
        as_float = math.inf
    if not math.isfinite(as_float):
        raise where.fail("must be a finite number", value)
    if as_float < minimum or (as_float == minimum and not inclusive):
        raise where.fail(f"must be {'>=' if inclusive else '>'} {minimum:g}", value)
    if maximum is not None and as_float > maximum:
        raise where.fail(f"must be <= {maximum:g}", value)
    return as_float


_MAX_DIGITS = 18


def ascii_integer(text: str) -> int | None:
    """`text` as a non-negative integer when it is 1 to 18 ASCII digits (RFC 9110 `1*DIGIT`,
    as query parameters and `Content-Length` are written); None for anything else, such as
    `²`, `٣` or a sign, which `str.isdigit` or `int` would accept."""
    if not (0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()):
        return None
    return int(text)


def integer(
    value: object, where: Where, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """`value` as an int within `[minimum, maximum]` (each bound only when given).

    Raises:
        ConfigError: not an integer (booleans are not), or out of bounds (the message names
            the bound).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.fail("must be an integer", value)
    if minimum is not None and value < minimum:
        raise where.fail(f"must be >= {minimum}", value)
    if maximum is not None and value > maximum:
        raise where.fail(f"must be <= {maximum}", value)
    return value


def string(value: object, where: Where, *, nonempty: bool = True) -> str:
    """`value` as a string, non-empty unless `nonempty` is False.

    Raises:
        ConfigError: not a string, or empty when it must not be.
    """
    if not isinstance(value, str):
        raise where.fail("must be a string", value)
    if nonempty and not value:
        raise where.fail("must not be empty", value)
    return value


def header_secret(value: object, where: Where) -> str:
    """`value` as a secret an HTTP header can carry (`HEADER_SAFE`): a Jira secret.

    Raises:
        ConfigError: not a string, empty, or holding a control or non-ASCII character or
            spaces at the ends; the message names the key's position, never the value.
    """
    secret = string(value, where)
    if not HEADER_SAFE.fullmatch(secret):
        raise where.fail(
            "must be visible ASCII text (single inner spaces allowed), the rule a client "
            "reads a secret by (as a header could carry it); a client could never sign with "
            "control characters, non-ASCII text or spaces at the ends",
            show=False,
        )
    return secret


def bearer_key(value: object, where: Where) -> str:
    """`value` as an API key a client can present (`BEARER_TOKEN`): `HEADER_SAFE`, no space.

    Raises:
        ConfigError: not a string, empty, or not visible ASCII without spaces; the message
            names the key's position, never the value.
    """
    key = string(value, where)
    if not BEARER_TOKEN.fullmatch(key):
        raise where.fail(
            "must be visible ASCII characters without spaces, as `Authorization: Bearer "
            "<key>` carries it; a key with other characters could never authenticate",
            show=False,
        )
    return key


def choice(value: object, where: Where, choices: tuple[str, ...]) -> str:
    """`value` as one of `choices`.

    Raises:
        ConfigError: any other value (the choices are listed).
    """
    if not isinstance(value, str) or value not in choices:
        raise where.fail(f"must be one of {', '.join(choices)}", value)
    return value
