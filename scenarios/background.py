"""Scenario `background`: E2 starts at a fixed rate per user, each run polled in its own loop.

The polling strategy and interval are custom arguments (`--poll-strategy`, `--poll-interval`,
`--poll-jitter`, `--poll-cap`), in target seconds.

    locust -f scenarios/background.py --host http://127.0.0.1:8080 --mock-admin
"""

from __future__ import annotations

from locust import task

from scenarios._harness_user import HarnessUser
from scenarios._shapes import HarnessShape

__all__ = ["BackgroundUser", "HarnessShape"]


class BackgroundUser(HarnessUser):
    """Starts one background flow every `--pacing` seconds and polls it until final."""

    scenario = "background"

    @task
    def start_and_poll(self) -> None:
        """Launch an E2 + E3 flow."""
        self.launch(self.background_flow, "background")
