"""Scenario `sync`: E1 calls arriving at a fixed rate per user, each checked.

locust -f scenarios/sync.py --host http://127.0.0.1:8080 --mock-admin
"""

from __future__ import annotations

from locust import task

from scenarios._harness_user import HarnessUser
from scenarios._shapes import HarnessShape

__all__ = ["HarnessShape", "SyncUser"]


class SyncUser(HarnessUser):
    """Starts one synchronous flow every `--pacing` seconds."""

    scenario = "sync"

    @task
    def run_sync(self) -> None:
        """Launch an E1 flow."""
        self.launch(self.sync_flow, "sync")
