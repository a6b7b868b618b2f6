"""Scenario `jira-burst`: bursts of `--burst-size` signed Jira deliveries at once, each polled.

locust -f scenarios/jira_burst.py --host http://127.0.0.1:8080 --mock-admin --burst-size 20
"""

from __future__ import annotations

from locust import task

from scenarios._harness_user import HarnessUser
from scenarios._shapes import HarnessShape

__all__ = ["HarnessShape", "JiraBurstUser"]


class JiraBurstUser(HarnessUser):
    """Every `--pacing` seconds, delivers `--burst-size` webhooks together."""

    scenario = "jira-burst"

    @task
    def burst(self) -> None:
        """Launch a burst of E4 + E3 flows."""
        for _ in range(self.settings.flow.burst_size):
            self.launch(self.jira_flow, "jira")
