"""`compare` and `calibrate` against live targets (served on 127.0.0.1), not only embedded mocks.

- A served mock with a time scale, compared with its own config: its durations are read on its
  own clock (`/__admin/clock`, exact ends from its run listing), so no row says "different".
- A small app that is not the mock (it hides `/__admin`, runs in real time) and answers a key
  on a workspace not its own with 404: `calibrate` writes `unknown_workspace_status = 404`,
  and `compare` of the app with the written config says "same" on A4.
- The report of a compare run carries its rows in `results.json` and `summary.md`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomli_w
from starlette.types import ASGIApp, Receive, Scope, Send

from harness._embedded import embedded_mock
from harness.cli._calibrate import calibrate_command
from harness.cli._compare import compare_command
from harness.cli._edge import Edge
from mock_server import serve_in_thread

_KEY = "live-key-1"
_ENV = {"LIVE_KEY": _KEY}


def _config(**mock: Any) -> dict[str, Any]:
    triggers = [
        {"id": "sync-flow", "duration": {"dist": "uniform", "min_s": 20, "max_s": 40}},
        {"id": "batch", "duration": {"dist": "lognormal", "median_s": 30, "sigma": 0.4}},
    ]
    workspace = {"id": "ws", "api_keys": [_KEY], "triggers": triggers}
    return {"mock": {"seed": 5, **mock}, "workspaces": [workspace]}


def _targets(url: str, **extra: float) -> str:
    table = {
        "base_url": url,
        "workspace_id": "ws",
        "environment": "DEV",
        "api_key_env": "LIVE_KEY",
        "sync_trigger": "sync-flow",
        "background_trigger": "batch",
        **extra,
    }
    return tomli_w.dumps({"targets": {"live": table}})


def _compare(tmp_path: Path, config: Path, lines: list[str]) -> int:
    edge = Edge(environ=_ENV, cwd=tmp_path, echo=lines.append)
    return compare_command(
        edge,
        target_names=["live"],
        mock_configs=[config],
        targets_file=tmp_path / "harness.toml",
        report_dir=Path("reports"),
        runs=8,
        contract=False,
    )


def test_a_time_scaled_served_mock_compared_with_its_own_config_differs_nowhere(
    tmp_path: Path,
) -> None:
    """The issue's false alarm: `serve --config c.toml` (time scale 200, no admin token) and
    `compare --target live --mock-config c.toml --runs 8 --no-contract` exit 0, no row
    "different", the durations read on the mock's clock."""
    config = _config(time_scale=200.0)
    path = tmp_path / "mock.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    lines: list[str] = []
    with serve_in_thread(embedded_mock(config, time_scale=200.0).app) as url:
        (tmp_path / "harness.toml").write_text(_targets(url), encoding="utf-8")
        code = _compare(tmp_path, path, lines)
    text = "\n".join(lines)
    assert "different:" not in text, text
    assert code == 0, text
    results = json.loads(next((tmp_path / "reports").glob("*compare*/results.json")).read_text())
    (table,) = results["comparisons"]
    durations = [row for row in table["rows"] if row["topic"] == "run durations"]
    assert [row["verdict"] for row in durations] == ["same", "same"], durations
    assert all(row["p_value"] is not None for row in durations)
    assert any("time scale 200" in note for note in table["notes"]), table["notes"]


class _NotTheMock:
    """The mock's API behind a front that is not the mock: no `/__admin`, and a valid key
    naming any workspace but `ws` answered 404 "Workspace not found" (E1-E3)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path.startswith("/__admin") or self._foreign(scope)):
            body = b'{"detail": "Workspace not found"}' if "/trigger/" in path else b"{}"
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.inner(scope, receive, send)

    @staticmethod
    def _foreign(scope: Scope) -> bool:
        parts = scope["path"].strip("/").split("/")
        keyed = (b"authorization", f"Bearer {_KEY}".encode()) in scope["headers"]
        literal = {"start", "status", "jira"}
        workspace = next((p for p in parts[1:] if p not in literal), None)
        return keyed and parts[:1] == ["trigger"] and workspace not in (None, "ws")


@contextmanager
def _not_the_mock() -> Iterator[str]:
    config = _config(time_scale=1.0)
    config["workspaces"][0]["triggers"] = [
        {"id": "sync-flow", "duration": {"dist": "uniform", "min_s": 0.2, "max_s": 0.4}},
        {"id": "batch", "duration": {"dist": "uniform", "min_s": 0.3, "max_s": 0.6}},
    ]
    with serve_in_thread(_NotTheMock(embedded_mock(config, time_scale=1.0).app)) as url:
        yield url


def test_calibrate_then_compare_agrees_on_a_404_for_a_foreign_workspace(tmp_path: Path) -> None:
    """The round trip on a target that is not the mock: A4's 404 is written as
    `unknown_workspace_status = 404`, and compare says "same" on A4."""
    lines: list[str] = []
    edge = Edge(environ=_ENV, cwd=tmp_path, echo=lines.append)
    with _not_the_mock() as url:
        targets = _targets(url, poll_interval_s=0.05, max_run_s=5.0)
        (tmp_path / "harness.toml").write_text(targets, encoding="utf-8")
        code = calibrate_command(
            edge,
            target_name="live",
            targets_file=tmp_path / "harness.toml",
            report_dir=Path("reports"),
            allow_production=False,
            out=Path("live-mock.toml"),
            runs=8,
        )
        assert code == 0, "\n".join(lines)
        written = tomllib.loads((tmp_path / "live-mock.toml").read_text())
        assert written["mock"]["dialect"]["unknown_workspace_status"] == 404
        lines.clear()
        _compare(tmp_path, tmp_path / "live-mock.toml", lines)
    results = json.loads(
        sorted((tmp_path / "reports").glob("*compare*/results.json"))[-1].read_text()
    )
    (table,) = results["comparisons"]
    (a4,) = [row for row in table["rows"] if row["topic"].startswith("A4 ")]
    assert a4["verdict"] == "same", a4
    summary = sorted((tmp_path / "reports").glob("*compare*/summary.md"))[-1].read_text()
    assert "A4 " in summary
    assert "No suite ran." not in summary
