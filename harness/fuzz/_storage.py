"""Hypothesis's example database, kept free of secrets.

Hypothesis saves the choices of failing (and interesting) examples so the next run replays
them. A string it drew can be a secret: it harvests string literals from local source (the
demo world's `demo-key` among them) and may draw them. `SecretFreeDatabase` wraps any
database and never stores an entry holding a secret's bytes (issue 14: no file the harness
leaves behind holds a key).
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis.database import ExampleDatabase

__all__ = ["SecretFreeDatabase"]


class SecretFreeDatabase(ExampleDatabase):
    """An example database that drops every entry holding one of `secrets` (UTF-8 bytes).

    Args:
        inner: where the entries are kept.
        secrets: the values no entry may hold (empty ones are ignored).
    """

    def __init__(self, inner: ExampleDatabase, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self._inner = inner
        self._needles = tuple(secret.encode("utf-8") for secret in secrets if secret)

    def holds_secret(self, value: bytes) -> bool:
        """True when `value` holds one of the secrets."""
        return any(needle in value for needle in self._needles)

    def save(self, key: bytes, value: bytes) -> None:
        """Keep `value` under `key`, unless it holds a secret."""
        if not self.holds_secret(value):
            self._inner.save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        """The entries under `key` (none holds a secret, whoever wrote them)."""
        return [value for value in self._inner.fetch(key) if not self.holds_secret(value)]

    def delete(self, key: bytes, value: bytes) -> None:
        """Forget `value` under `key`."""
        self._inner.delete(key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        """Move `value` from `src` to `dest` (only forgotten when it holds a secret)."""
        if self.holds_secret(value):
            self._inner.delete(src, value)
        else:
            self._inner.move(src, dest, value)
