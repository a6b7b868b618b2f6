"""`trigger-harness`, the command line: the click group and one module per command."""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
