"""Scenario `soak`: mixed traffic for a long time against a `flaky` mock; nothing may be lost.

Without `--host`, the locustfile starts its own mock in a separate process
(`python -m scenarios._mock_process --scenario flaky`, at `--soak-time-scale` and with
`--soak-retention-s`), so the RSS it samples every second is the mock's alone. With `--host`
(a trigger-mock with its admin API) it soaks that one; pass `--mock-pid` to sample its RSS.

At the end it checks, through `/__admin/runs`, `/__admin/metrics` and the poll results:
- lost runs: a started run missing from the mock while still inside its retention, still not
  final once every run had time to end, or whose final answer differs from the mock's status;
- unexpected 5xx: 5xx answers beyond the faults the preset injected;
- RSS flat: once retention applies, the end RSS is within 10% (+5 MiB) of the RSS then.
It prints `soak: lost runs: 0, unexpected 5xx: 0, RSS start/end: a/b MiB ...` and exits 0 only
when all three hold (the injected 5xx are Locust failures, and do not fail the soak). With
`--soak-report PATH` it also writes those figures and the verdict there as JSON
(`trigger-harness load --scenario soak` reads them from `soak.json` in its report folder).

    locust -f scenarios/soak.py --headless -u 20 -r 5 -t 10m --only-summary
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import gevent
import httpx
from locust import events
from locust.runners import WorkerRunner

from harness import MockAdmin, Observation, RunHistory, TriggerClient, workflow_id_of
from harness.load import SOAK_OPTIONS, VIOLATION_PREFIX, SoakSettings, parse_iso
from scenarios._harness_user import FlowChecks, settings_for
from scenarios._mock_process import read_rss_mib
from scenarios.mixed import HarnessShape, MixedUser

__all__ = ["HarnessShape", "SoakLedger", "SoakUser"]

_log = logging.getLogger(__name__)
_FINAL: Final = frozenset({"completed", "failed"})
_LONGEST_RUN_S: Final = 2700.0
_DRAIN_BOUND_S: Final = 30.0
_MOCK_STOP_S: Final = 10.0
_LOST_SHOWN: Final = 10
_CLOCK_SLACK_REAL_S: Final = 1.0
"""Real seconds the client's extrapolated virtual clock may be off from the mock's."""
_RSS_TOLERANCE: Final = (0.10, 5.0)
_SERVER_ERROR: Final = f"{VIOLATION_PREFIX}Server error"  # the 5xx check: compared to injected
_REQUESTS = re.compile(r'mock_requests_total\{endpoint="[^"]*",code="(\d+)"\} (\d+)')
_INJECTED = re.compile(r'mock_faults_injected_total\{rule="[^"]*",kind="error"\} (\d+)')


@dataclass
class SoakLedger:
    """Every run the soak started, the final status its poller saw, and the mock's RSS."""

    started: dict[str, float] = field(default_factory=dict)
    finals: dict[str, str] = field(default_factory=dict)
    rss: list[tuple[float, float]] = field(default_factory=list)
    mock: subprocess.Popen[str] | None = None
    mock_pid: int = 0
    began: float = 0.0


LEDGER = SoakLedger()


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("soak", "The soak's own mock and checks")
    for option in SOAK_OPTIONS:
        option.add_to(group)


@events.init.add_listener
def _start_mock(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    options = environment.parsed_options
    soak = SoakSettings.from_options(options)
    LEDGER.mock_pid = soak.mock_pid
    if not environment.host:
        command = [
            sys.executable, "-m", "scenarios._mock_process", "--scenario", "flaky",
            "--time-scale", f"{soak.soak_time_scale:g}",
            "--retention-s", f"{soak.soak_retention_s:g}",
        ]  # fmt: skip
        LEDGER.mock = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert LEDGER.mock.stdout is not None
        line = LEDGER.mock.stdout.readline().strip()
        if not line.startswith("serving "):
            raise RuntimeError(f"the soak's mock did not start: {line!r}")
        environment.host = line.removeprefix("serving ")
        LEDGER.mock_pid = LEDGER.mock.pid
    options.mock_admin = True


@events.test_start.add_listener
def _sample_rss(environment: Any, **_: Any) -> None:
    LEDGER.began = time.monotonic()
    if LEDGER.mock_pid:
        gevent.spawn(_rss_sampler)


def _rss_sampler() -> None:
    while LEDGER.mock_pid:
        try:
            LEDGER.rss.append((time.monotonic() - LEDGER.began, read_rss_mib(LEDGER.mock_pid)))
        except (OSError, RuntimeError):
            return
        gevent.sleep(1.0)


class SoakUser(MixedUser):
    """The `mixed` flows, each run recorded in the soak's ledger."""

    scenario = "soak"

    def _follow(
        self, flow: str, client: TriggerClient, checks: FlowChecks, started: Observation
    ) -> None:
        LEDGER.started[workflow_id_of(started)] = started.at
        super()._follow(flow, client, checks, started)

    def _finish(self, flow: str, history: RunHistory, checks: FlowChecks) -> None:
        if history.workflow_id:
            if flow == "sync" and history.final is not None:
                LEDGER.started.setdefault(history.workflow_id, history.start.at)
            if history.final is not None:
                LEDGER.finals[history.workflow_id] = history.final.status
        super()._finish(flow, history, checks)


def _mock_runs(admin: MockAdmin, workspace_id: str, scale: float) -> dict[str, str]:
    """The mock's run statuses, once no recorded run is pending (bounded wait)."""
    deadline = time.monotonic() + min(_DRAIN_BOUND_S, _LONGEST_RUN_S / scale + 2)
    while True:
        statuses = {
            run["workflow_id"]: run["status"] for run in admin.runs(workspace_id=workspace_id)
        }
        open_runs = [w for w in LEDGER.started if statuses.get(w, "failed") not in _FINAL]
        if not open_runs or time.monotonic() > deadline:
            return statuses
        gevent.sleep(0.5)


def _lost_runs(
    statuses: dict[str, str], now: float, retention_s: float, slack_s: float
) -> dict[str, str]:
    """Each lost run's workflow id and why it counts as lost.

    A run missing from the mock is lost only when it cannot have expired yet: its start
    request was sent (client clock, virtual seconds) less than `retention_s - slack_s` before
    `now`, since it ended no earlier than that; `slack_s` covers the client clock's error.
    """
    lost: dict[str, str] = {}
    for workflow_id, sent_at in LEDGER.started.items():
        status = statuses.get(workflow_id)
        seen = LEDGER.finals.get(workflow_id)
        if status is None:
            if now + slack_s < sent_at + retention_s:
                lost[workflow_id] = "missing inside its retention"
        elif status not in _FINAL:
            lost[workflow_id] = f"still {status} after the drain"
        elif seen is not None and seen != status:
            lost[workflow_id] = f"seen {seen}, the mock says {status}"
    return lost


def _unexpected_5xx(metrics: str) -> tuple[int, int]:
    answered = sum(int(count) for code, count in _REQUESTS.findall(metrics) if code[0] == "5")
    injected = sum(int(count) for count in _INJECTED.findall(metrics))
    return answered - injected, injected


@dataclass(frozen=True)
class _RssVerdict:
    """The RSS check: its text, whether it held, and the start/end figures (MiB) it compared."""

    text: str
    flat: bool
    start_mib: float | None = None
    end_mib: float | None = None
    retention_reached: bool = False


def _rss_verdict(retention_real_s: float) -> _RssVerdict:
    applied = [mib for at, mib in LEDGER.rss if at >= retention_real_s]
    if not LEDGER.rss:
        return _RssVerdict("RSS start/end: not sampled (pass --mock-pid)", flat=True)
    if len(applied) < 2:
        first, last = LEDGER.rss[0][1], LEDGER.rss[-1][1]
        text = f"RSS start/end: {first:.1f}/{last:.1f} MiB (retention not reached)"
        return _RssVerdict(text, flat=True, start_mib=first, end_mib=last)
    share, slack = _RSS_TOLERANCE
    flat = applied[-1] <= applied[0] * (1 + share) + slack
    text = f"RSS start/end: {applied[0]:.1f}/{applied[-1]:.1f} MiB once retention applies"
    return _RssVerdict(
        f"{text} ({'flat' if flat else 'GROWING'})",
        flat=flat,
        start_mib=applied[0],
        end_mib=applied[-1],
        retention_reached=True,
    )


@events.test_stop.add_listener
def _report(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    LEDGER.mock_pid, pid = 0, LEDGER.mock_pid  # stops the sampler
    settings = settings_for(environment)
    soak = SoakSettings.from_options(environment.parsed_options)
    with httpx.Client(timeout=30.0) as http:
        admin = MockAdmin(http, base_url=settings.target.base_url)
        retention_s = soak.soak_retention_s
        statuses = _mock_runs(admin, settings.target.workspace_id, settings.scale)
        slack_s = _CLOCK_SLACK_REAL_S * settings.scale
        lost_runs = _lost_runs(statuses, parse_iso(admin.clock()["now"]), retention_s, slack_s)
        unexpected, injected = _unexpected_5xx(admin.metrics())
    LEDGER.mock_pid = pid
    rss = _rss_verdict((retention_s + _LONGEST_RUN_S / 3) / settings.scale)
    violations = sum(
        error.occurrences
        for error in environment.stats.errors.values()
        if str(error.error).startswith(VIOLATION_PREFIX) and str(error.error) != _SERVER_ERROR
    )
    lost = len(lost_runs)
    line = (
        f"soak: lost runs: {lost}, unexpected 5xx: {unexpected}, {rss.text}; "
        f"runs started: {len(LEDGER.started)}, finals seen: {len(LEDGER.finals)}, "
        f"injected 5xx: {injected}, contract violations: {violations}"
    )
    print(line, flush=True)
    _log.info(line)
    for workflow_id, reason in sorted(lost_runs.items())[:_LOST_SHOWN]:
        print(f"soak: lost run {workflow_id}: {reason}", flush=True)
    ok = bool(lost == 0 and unexpected == 0 and rss.flat and violations == 0 and LEDGER.started)
    environment.process_exit_code = 0 if ok else 1
    report = soak.soak_report
    if report:
        figures = {
            "passed": ok, "line": line, "lost_runs": lost, "lost": lost_runs,
            "unexpected_5xx": unexpected,
            "injected_5xx": injected, "runs_started": len(LEDGER.started),
            "finals_seen": len(LEDGER.finals), "contract_violations": violations,
            "rss_start_mib": rss.start_mib, "rss_end_mib": rss.end_mib, "rss_flat": rss.flat,
            "rss_retention_reached": rss.retention_reached, "retention_s": retention_s,
        }  # fmt: skip
        Path(report).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


@events.quitting.add_listener
def _stop_mock(environment: Any, **_: Any) -> None:
    """Stop the soak's own mock: SIGTERM, then SIGKILL if it is still up after 10 s."""
    mock = LEDGER.mock
    if mock is None or mock.poll() is not None:
        return
    mock.terminate()
    try:
        mock.wait(_MOCK_STOP_S)
    except subprocess.TimeoutExpired:
        mock.kill()
        mock.wait()
