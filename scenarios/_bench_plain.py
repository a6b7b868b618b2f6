"""The yardstick of `scenarios.bench_locust`: a plain Locust `FastHttpUser`, no harness.

Each task is one background flow, as `scenarios/background.py` runs it against the demo world:
E2 (`POST /trigger/start/demo/nightly-report/DEV`, the demo key) then E3 every `--poll-real-s`
real seconds until the status is final (or `--deadline-real-s` passed). Nothing is checked but
what the flow needs (the workflow id, the status); one JSON decode per answer.

    locust -f scenarios/_bench_plain.py --headless -u 50 --host http://127.0.0.1:8080 \
        --poll-real-s 0.0083
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

import gevent
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser

__all__ = ["PlainUser"]

_HEADERS: Final = {
    "Authorization": "Bearer demo-key",
    "Content-Type": "application/json",
    "Accept": "application/json",
}
_START: Final = "/trigger/start/demo/nightly-report/DEV"
_STATUS: Final = "/trigger/status/demo/"
_FINAL: Final = frozenset({"completed", "failed"})


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: Any) -> None:
    parser.add_argument("--poll-real-s", type=float, default=5.0, help="E3 interval (real s)")
    parser.add_argument("--deadline-real-s", type=float, default=60.0, help="flow limit (real s)")


class PlainUser(FastHttpUser):
    """One E2-then-E3 flow per task, polling at a fixed real interval."""

    @task
    def start_and_poll(self) -> None:
        """Start a run, then poll it until final or the deadline."""
        options = self.environment.parsed_options
        body = json.dumps({"message": "", "user_variables": {"load_flow": "plain"}})
        started = self.client.post(_START, data=body, headers=_HEADERS, name="E2 start")
        if not 200 <= started.status_code < 300:
            return
        path = _STATUS + started.json()["workflow_id"]
        deadline = time.monotonic() + options.deadline_real_s
        while time.monotonic() < deadline:
            gevent.sleep(options.poll_real_s)
            answer = self.client.get(path, headers=_HEADERS, name="E3 status")
            if 200 <= answer.status_code < 300 and answer.json()["status"] in _FINAL:
                return
