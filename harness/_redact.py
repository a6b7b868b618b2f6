"""Redaction: the one place that removes secrets from anything the harness writes.

A `Redactor` knows the secret values of a run (API keys, Jira secrets, admin tokens) and replaces
every occurrence of each, in the spellings a secret takes on its way into a report: plain,
JSON-escaped, percent-encoded and HTML-escaped. Independently of the values it knows, it blanks
the values of credential headers (`Authorization`, `X-Hub-Signature`, `X-Admin-Token`) wherever a
mapping holds them, and in `Name: value` text such as a curl command line.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "SENSITIVE_HEADERS", "Redactor", "redact_headers"]

REDACTED: Final = "[REDACTED]"
MIN_SECRET_LENGTH: Final = 4
SENSITIVE_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-hub-signature",
        "x-admin-token",
        "cookie",
        "set-cookie",
    }
)

_SIGNATURE: Final = re.compile(r"(?i)\b(sha256=)([0-9a-f][^\s'\"\\]*)")
"""A signature in text: `sha256=` followed by hex digits (A12), the whole token blanked.

`sha256=<hex>`, documentation's spelling, is not a signature and is kept as written.
"""
_HEADER_LINE = re.compile(
    r"(?i)\b(proxy-authorization|authorization|x-hub-signature|x-admin-token)(\s*:\s*)"
    r"((?:bearer|basic|token)\s+)?(?!\$\{|(?:bearer|basic|token)\s|sha256=)([^\s'\"\\]+)"
)


def _spellings(secret: str) -> set[str]:
    """The forms a secret takes once written into JSON, a URL or HTML."""
    json_escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    json_ascii = json.dumps(secret, ensure_ascii=True)[1:-1]
    percent = quote(secret, safe="")
    forms = {
        secret,
        json_escaped,
        json_ascii,
        json.dumps(json_escaped)[1:-1],
        json.dumps(json_ascii)[1:-1],
        percent,
        percent.lower(),
        quote_plus(secret, safe=""),
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    return {form for form in forms if form}


def _keep_scheme(value: str, marker: str) -> str:
    """A credential header value with its scheme kept and its secret part blanked."""
    scheme, sep, _ = value.partition(" ")
    if sep and scheme.isalpha():
        return f"{scheme} {marker}"
    if value.lower().startswith("sha256="):
        return f"sha256={marker}"
    return marker


class Redactor:
    """Replaces known secret values and credential header values with `[REDACTED]`.

    Args:
        secrets: the secret values to remove; empty strings and values shorter than
            `MIN_SECRET_LENGTH` characters are ignored (replacing "a" everywhere helps nobody).
    """

    __slots__ = ("_bytes_pattern", "_marker", "_text_pattern")

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._marker = REDACTED
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms |= _spellings(secret)
        # Longest first, so a longer spelling is replaced whole before a shorter one inside it.
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._text_pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes_pattern = (
            re.compile(
                b"|".join(re.escape(form.encode("utf-8", "surrogatepass")) for form in ordered)
            )
            if ordered
            else None
        )

    def redact_text(self, text: str) -> str:
        """The text with every secret spelling and credential header value replaced."""
        if self._text_pattern is not None:
            text = self._text_pattern.sub(self._marker, text)
        text = _SIGNATURE.sub(rf"\g<1>{self._marker}", text)
        return _HEADER_LINE.sub(self._blank_header_match, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """The bytes with every secret spelling (UTF-8 encoded) replaced."""
        if self._bytes_pattern is not None:
            data = self._bytes_pattern.sub(self._marker.encode(), data)
        return data

    def redact_headers(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> dict[str, str]:
        """A copy of the headers with credential values blanked and secrets removed elsewhere.

        A credential header keeps its scheme (`Bearer [REDACTED]`, `sha256=[REDACTED]`); a
        repeated header (several `Set-Cookie`s) becomes one comma-joined entry.
        """
        items = headers.items() if isinstance(headers, Mapping) else headers
        redacted: dict[str, str] = {}
        for name, value in items:
            shown = (
                _keep_scheme(value, self._marker)
                if name.lower() in SENSITIVE_HEADERS
                else self.redact_text(value)
            )
            redacted[name] = f"{redacted[name]}, {shown}" if name in redacted else shown
        return redacted

    def redact(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value, bytes, or frozen dataclass (such as an event).

        Strings and bytes are redacted; mappings, lists and tuples are walked (a mapping's
        credential-header keys get their value blanked); dataclass instances are rebuilt with
        `dataclasses.replace`; anything else (numbers, datetimes, enums) is returned as is.
        """
        if isinstance(value, Enum):
            return value
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, bytes):
            return self.redact_bytes(value)
        if isinstance(value, Mapping):
            return {self.redact(key): self._redact_item(key, item) for key, item in value.items()}
        if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
            return type(value)(self.redact(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                field.name: self.redact(getattr(value, field.name))
                for field in dataclasses.fields(value)
                if field.init
            }
            return dataclasses.replace(value, **changes)
        return value

    def _redact_item(self, key: Any, item: Any) -> Any:
        """One mapping value, blanked whole when its key names a credential header."""
        if isinstance(key, str) and key.lower() in SENSITIVE_HEADERS and isinstance(item, str):
            return _keep_scheme(item, self._marker)
        return self.redact(item)

    def _blank_header_match(self, match: re.Match[str]) -> str:
        """Replacement for one `Name: value` credential header found in text."""
        name, separator, scheme, _ = match.groups()
        return f"{name}{separator}{scheme or ''}{self._marker}"


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], secrets: Iterable[str] = ()
) -> dict[str, str]:
    """Headers with credential values (Authorization, X-Hub-Signature, Cookie, X-Admin-Token)
    blanked and every known secret removed: `Redactor(secrets).redact_headers(headers)`."""
    return Redactor(secrets).redact_headers(headers)
