"""`Authorization` header values that are not the right credential.

`Bearer <key>` is the one right form. RFC 7235 makes the scheme case-insensitive and lets
one or more spaces follow it, and HTTP strips whitespace around a header value, so
`bearer <key>`, `BEARER <key>`, `Bearer  <key>` and ` Bearer <key> ` are the right credential
too and are never drawn. Every value drawn can be sent by httpx over HTTP/1.1: no control
characters other than a tab inside, no leading or trailing whitespace; values with non-ASCII
characters must be sent as `variant.raw` (UTF-8 bytes).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._text import check_strings

__all__ = ["AuthVariant", "authorization_headers", "is_valid_credential"]

_TOKEN_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",;\\')
_KEY = re.compile(r"[\x21-\x7e]+")
_LOOK_ALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "i": "\u0456", "c": "\u0441"}
_SENDABLE = re.compile(r"(?:[\x21-\x7e\x80-\U0010ffff](?:[ \t]*[\x21-\x7e\x80-\U0010ffff])*)?")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AuthVariant:
    """One wrong `Authorization` header: `value` None means the header is absent.

    The repr shows only the description and the length, since values derive from a key.
    """

    value: str | None
    description: str

    @property
    def raw(self) -> bytes | None:
        """The header value as UTF-8 bytes (httpx sends `str` values as ASCII only)."""
        return None if self.value is None else self.value.encode("utf-8")

    def __repr__(self) -> str:
        size = "absent" if self.value is None else f"{len(self.value)} chars"
        return f"AuthVariant(description={self.description!r}, value=<redacted, {size}>)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Make hypothesis print this repr rather than every field."""
        printer.text(repr(self))


def is_valid_credential(value: str | None, valid_key: str) -> bool:
    """True when `value` is `Bearer <valid_key>` up to scheme case and the spaces HTTP allows.

    Args:
        value: an `Authorization` header value, None when absent.
        valid_key: the right workspace API key.
    """
    if value is None:
        return False
    scheme, _, rest = value.strip(" \t").partition(" ")
    return scheme.lower() == "bearer" and rest.lstrip(" ") == valid_key


def _look_alike(key: str) -> str:
    for ascii_char, twin in _LOOK_ALIKES.items():
        if ascii_char in key:
            return key.replace(ascii_char, twin, 1)
    return key[:1] + "\u200b" + key[1:]


def _fixed_variants(key: str, others: tuple[str, ...]) -> list[AuthVariant]:
    half = max(1, len(key) // 2)
    basic_user = base64.b64encode(f"user:{key}".encode()).decode("ascii")
    basic_key = base64.b64encode(f"{key}:".encode()).decode("ascii")
    pairs = [
        (None, "header absent"),
        ("", "empty value"),
        ("Bearer", "scheme only"),
        (key, "the right key without a scheme"),
        (f"Token {key}", "the right key under the Token scheme"),
        (f"Basic {basic_user}", "the right key as a Basic password"),
        (f"Basic {basic_key}", "the right key as a Basic user name"),
        (f"Bearer\t{key}", "a tab instead of a space after the scheme"),
        (f"Bearer:{key}", "a colon instead of a space after the scheme"),
        (f'Bearer "{key}"', "the right key in double quotes"),
        (f"Bearer '{key}'", "the right key in single quotes"),
        (f"Bearer {key},", "the right key with a trailing comma"),
        (f"Bearer {key};", "the right key with a trailing semicolon"),
        (f"Bearer {key}x", "the right key with a trailing character"),
        (f"Bearer {key} {key}", "the right key twice"),
        (f"Bearer {key}{key}", "the right key doubled"),
        (f"Bearer {key[:-1]}", "the right key without its last character"),
        (f"Bearer {key[1:]}", "the right key without its first character"),
        (f"Bearer {key[:half]}", "the first half of the right key"),
        (f"Bearer {key.swapcase()}", "the right key with its case swapped"),
        (f"Bearer {_look_alike(key)}", "the right key with a unicode look-alike character"),
        (f"\uff22earer {key}", "a full-width letter in the scheme"),
        (f"Bearer {key}\u200b", "the right key with a trailing zero-width space"),
        (f"Bearer {'A' * 8192}", "a very long token"),
        (f"Bearer {key * 64}", "the right key repeated 64 times"),
    ]
    pairs += [(f"Bearer {other}", "another workspace's key") for other in others]
    return [AuthVariant(value=value, description=description) for value, description in pairs]


def authorization_headers(
    valid_key: str, *, other_keys: Iterable[str] = ()
) -> st.SearchStrategy[AuthVariant]:
    """Wrong `Authorization` values for a workspace whose right key is `valid_key`.

    Missing, empty, bare scheme, wrong keys under any scheme case, Basic and Token schemes,
    the right key quoted, truncated, extended, look-alike or under the wrong separator,
    other workspaces' keys, very long tokens. Never the right credential
    (see `is_valid_credential`). Messages never show a key.

    Args:
        valid_key: the right API key (non-empty printable ASCII without spaces).
        other_keys: keys of other workspaces, sent as `Bearer <other>`.
    """
    if not isinstance(valid_key, str) or _KEY.fullmatch(valid_key) is None:
        raise InvalidArgument("valid_key must be a non-empty string of printable ASCII, no spaces")
    others = check_strings("other_keys", other_keys)
    wrong_keys = st.text(_TOKEN_CHARS, min_size=1, max_size=64)
    schemes = st.sampled_from(("Bearer", "bearer", "BEARER", "bEaReR"))
    drawn = st.builds(
        lambda scheme, wrong: AuthVariant(
            value=f"{scheme} {wrong}", description=f"a wrong key under {scheme!r}"
        ),
        schemes,
        wrong_keys,
    )
    fixed = st.sampled_from(_fixed_variants(valid_key, others))
    return st.one_of(fixed, drawn).filter(
        lambda variant: (
            not is_valid_credential(variant.value, valid_key)
            and (variant.value is None or _SENDABLE.fullmatch(variant.value) is not None)
        )
    )
