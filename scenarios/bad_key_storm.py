"""Scenario `bad-key-storm`: E1-E4 requests without a valid key or signature.

A correct target refuses each (401 on E1-E3 with the documented body, a 4xx on E4) and leaks
nothing; a refusal counts as a Locust success, anything else as a failure.

    locust -f scenarios/bad_key_storm.py --host http://127.0.0.1:8080 --pacing 0.1
"""

from __future__ import annotations

from locust import task

from scenarios._harness_user import HarnessUser
from scenarios._shapes import HarnessShape

__all__ = ["BadKeyUser", "HarnessShape"]


class BadKeyUser(HarnessUser):
    """Sends one request with a wrong, malformed or missing credential per arrival."""

    scenario = "bad-key-storm"

    @task
    def bad_key(self) -> None:
        """Launch one refused request."""
        self.launch(self.bad_key_request, "bad-key")
