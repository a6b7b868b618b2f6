"""Stateful mock of Phinite's workspace trigger API."""

from __future__ import annotations

from ._serve import serve_in_thread
from .app import create_app

__all__ = ["create_app", "serve_in_thread"]
