"""Scenario `mixed`: a realistic mix of background (60%), sync (30%) and Jira (10%) flows.

locust -f scenarios/mixed.py --host http://127.0.0.1:8080 --mock-admin
"""

from __future__ import annotations

from locust import task

from scenarios._harness_user import HarnessUser
from scenarios._shapes import HarnessShape

__all__ = ["HarnessShape", "MixedUser"]


class MixedUser(HarnessUser):
    """Each arrival is a background, sync or Jira flow, weighted 6:3:1."""

    scenario = "mixed"

    @task(6)
    def background(self) -> None:
        """Launch an E2 + E3 flow."""
        self.launch(self.background_flow, "background")

    @task(3)
    def sync(self) -> None:
        """Launch an E1 flow."""
        self.launch(self.sync_flow, "sync")

    @task(1)
    def jira(self) -> None:
        """Launch an E4 + E3 flow."""
        self.launch(self.jira_flow, "jira")
