"""The built-in contract cases, by area: `auth`, `body`, `methods`, `runs`, `mock` (in that order).

Importing this package registers every case with `harness.suite._registry`.
"""

from __future__ import annotations

from . import auth, body, methods, mock, runs

__all__ = ["auth", "body", "methods", "mock", "runs"]
