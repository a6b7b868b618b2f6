"""A small client for the mock's admin API (`/__admin`), used by mock-only checks and load runs.

It talks through any `httpx.Client` (the in-process `TestClient` or a real socket), so the same
code drives the embedded mock and a `trigger-mock serve` process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import httpx

from ._exceptions import ApiError
from ._models import Exchange

__all__ = ["MockAdmin"]


REQUEST_SOURCES: Final = frozenset({"api", "jira"})
"""Run sources a request starts (the mock's admin API labels runs api, cron, jira, manual)."""


class MockAdmin:
    """Calls the mock's admin API; every call raises `ApiError` unless it answers 200.

    Args:
        http: the client to send through.
        base_url: the server root (admin paths are not under the API prefix).
        token: the admin token, when the mock was started with one.
    """

    def __init__(self, http: httpx.Client, *, base_url: str, token: str | None = None) -> None:
        self._http = http
        self._root = base_url.rstrip("/") + "/__admin"
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def health(self) -> dict[str, Any]:
        """`GET /__admin/health`."""
        return self._call("GET", "/health")

    def reset(self) -> dict[str, Any]:
        """`POST /__admin/reset`: runs, journal, faults and clock back to the start."""
        return self._call("POST", "/reset")

    def clock(self) -> dict[str, Any]:
        """`GET /__admin/clock`: `{"now", "time_scale", "frozen"}`."""
        return self._call("GET", "/clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the virtual clock forward; everything it makes due has happened on return."""
        return self._call("POST", "/clock", json={"advance_s": seconds})

    def set_now(self, iso_time: str) -> dict[str, Any]:
        """Set the virtual clock to an ISO 8601 time."""
        return self._call("POST", "/clock", json={"now": iso_time})

    def set_time_scale(self, scale: float) -> dict[str, Any]:
        """Set how many virtual seconds pass per real second."""
        return self._call("POST", "/clock", json={"time_scale": scale})

    def freeze(self, frozen: bool = True) -> dict[str, Any]:
        """Freeze (or thaw) the virtual clock."""
        return self._call("POST", "/clock", json={"frozen": frozen})

    def runs(self, **filters: str) -> list[dict[str, Any]]:
        """`GET /__admin/runs` filtered by workspace_id, trigger_id, status or source."""
        runs: list[dict[str, Any]] = self._call("GET", "/runs", params=filters)["runs"]
        return runs

    def requested_runs(self, workspace_id: str) -> int:
        """Runs that requests started in `workspace_id` (sources in `REQUEST_SOURCES`; never
        cron or manual runs, which the mock's clock fires at any time)."""
        runs = self.runs(workspace_id=workspace_id)
        return sum(run["source"] in REQUEST_SOURCES for run in runs)

    def provide_input(self, workflow_id: str, message: str = "approved") -> dict[str, Any]:
        """Resume a run waiting for input."""
        return self._call("POST", f"/runs/{workflow_id}/input", json={"message": message})

    def run_now(self, workspace_id: str, trigger_id: str) -> dict[str, Any]:
        """Fire a trigger's run at once (`source` manual)."""
        return self._call("POST", f"/triggers/{workspace_id}/{trigger_id}/run-now")

    def pause(self, workspace_id: str, trigger_id: str) -> dict[str, Any]:
        """Pause a trigger: its cron ticks are skipped and E1/E2 on it answer 409."""
        return self._call("POST", f"/triggers/{workspace_id}/{trigger_id}/pause")

    def resume(self, workspace_id: str, trigger_id: str) -> dict[str, Any]:
        """Resume a paused trigger (ticks missed while paused are not fired later)."""
        return self._call("POST", f"/triggers/{workspace_id}/{trigger_id}/resume")

    def cron(self, workspace_id: str, trigger_id: str) -> dict[str, Any]:
        """A trigger's schedule: `{"cron": {...} or None, "paused", "next_tick"}`."""
        return self._call("GET", f"/triggers/{workspace_id}/{trigger_id}/cron")

    def set_cron(
        self,
        workspace_id: str,
        trigger_id: str,
        schedule: str,
        *,
        timezone: str = "UTC",
        overlap: str = "allow",
        environment: str | None = None,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Give a trigger a (new) schedule; its first tick is strictly after the mock's now.

        Args:
            workspace_id: the workspace.
            trigger_id: the trigger.
            schedule: a 5-field cron expression, e.g. `"0 * * * *"`.
            timezone: an IANA timezone the schedule is read in.
            overlap: `allow`, or `skip` a tick while the previous cron run is not final.
            environment: the environment its runs use (default: the trigger's first).
            message: the runs' message.
            user_variables: the runs' user variables.
        """
        spec: dict[str, Any] = {
            "schedule": schedule,
            "timezone": timezone,
            "overlap": overlap,
            "message": message,
            "user_variables": dict(user_variables or {}),
        }
        if environment is not None:
            spec["environment"] = environment
        return self._call("PUT", f"/triggers/{workspace_id}/{trigger_id}/cron", json=spec)

    def remove_cron(self, workspace_id: str, trigger_id: str) -> dict[str, Any]:
        """Remove a trigger's schedule (no error when it had none)."""
        return self._call("DELETE", f"/triggers/{workspace_id}/{trigger_id}/cron")

    def request_count(self, **filters: str) -> int:
        """How many journal entries match method, path_prefix or workflow_id."""
        count: int = self._call("GET", "/requests/count", params=filters)["count"]
        return count

    def requests(self, **filters: str) -> list[dict[str, Any]]:
        """The journal entries matching method, path_prefix, workflow_id."""
        entries: list[dict[str, Any]] = self._call("GET", "/requests", params=filters)["requests"]
        return entries

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force (`GET /__admin/faults`)."""
        rules: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return rules

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Put a fault rule in force; answers the rule with its id."""
        return self._call("POST", "/faults", json=dict(rule))

    def clear_faults(self) -> int:
        """Remove every fault rule; returns how many there were."""
        removed: int = self._call("DELETE", "/faults")["removed"]
        return removed

    def timeline(self, workflow_id: str) -> list[dict[str, Any]]:
        """Every journaled request touching a run: time, status code, run status, fault."""
        rows: list[dict[str, Any]] = self._call("GET", f"/runs/{workflow_id}/timeline")["requests"]
        return rows

    def metrics(self) -> str:
        """The Prometheus text of `/__admin/metrics`."""
        response = self._http.get(f"{self._root}/metrics", headers=self._headers)
        self._raise_unless_ok(response)
        return response.text

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self._http.request(
            method, self._root + path, json=json, params=params, headers=self._headers
        )
        self._raise_unless_ok(response)
        body: dict[str, Any] = response.json()
        return body

    def _raise_unless_ok(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            return
        exchange = Exchange(
            endpoint=None,
            method=response.request.method,
            url=str(response.request.url),
            request_headers={},
            request_body=b"",
            started_at=0.0,
            elapsed_s=0.0,
            status_code=response.status_code,
            response_headers=dict(response.headers),
            response_body=response.content,
        )
        raise ApiError(
            f"admin call {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:200]}",
            status_code=response.status_code,
            exchange=exchange,
        )
