"""`probe`: ask a target the open questions, each where its answer means something, and
compare with the mock's defaults.

Each question is a `ProbeQuestion`: a small function sending a few requests and returning a
`ProbeAnswer` (what the target did, the mock's default, and whether they are the same), and
whether it may start a run. Before the first question `harness._preflight.preflight` stops a
target that cannot be reached, refuses the key or is not the trigger API (exit 3).

Where each question is asked:
- Body and environment questions (A5, A7) and the start code (A6), idempotency (A14) go to the
  target's own trigger: the background trigger (E2), else the sync trigger (E1). A target that
  looks the trigger up first would answer "trigger not found" to an id that does not exist, so
  a made-up trigger would hide the answer. These may start runs.
- A4 asks an unknown trigger (that is its question) and a workspace that is not the key's; A15
  asks an unknown trigger in each environment (nothing runs); A3 and A8 ask E3. None starts
  a run.
- A1 asks a trigger known to outlast the sync limit, when one is named; A11 reads the log
  window of finished runs (up to `A11_SYNC_RUNS` E1 runs on the sync trigger; when they are
  too short to tell, one background run followed for at most `FINISH_WAIT_S`, whose older
  entries dropping out show the window's size); A12 sends a delivery signed with
  another secret to the Jira trigger, when one is named. These may start runs.

The wire traits (`WIRE_QUESTIONS`, asked by `calibrate` and `compare`): W1 reads an E3 error
answer's content type and compression (nothing runs); W2 starts one background run and reads
its envelope (workflow id format, fields beyond the six, content type, compression). A6 also
asks E4 with a correctly signed delivery when the Jira secret is known, and A14 also sends two
identical starts carrying one `Idempotency-Key`.

Each answer carries `facts`: what its answers settled, keyed by the mock config key that would
make the mock answer so (`e2_status`, `extra_fields`, ...), so `calibrate` can write a mock
that answers alike and `compare` can set two targets side by side.

On a target where `Target.may_start_runs` says no (production without `--allow-production`),
questions that may start a run are not asked, and say so. A request that gets no answer is
"could not tell", unless the target no longer answers at all: then the probe stops with
"became unreachable" (exit 3).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote

from .._client import TriggerClient, workflow_id_of
from .._embedded import MOCK_LOG_WINDOW
from .._exceptions import HarnessError, TransportError
from .._jira import JiraIssue, issue_created, signed_delivery
from .._models import Envelope, Exchange, LogEntry
from .._preflight import became_unreachable, preflight, reachable
from .._protocol import EnvelopeError, decode_envelope
from .._targets import ENVIRONMENTS, PRODUCTION_SKIP_REASON
from .._types import Sleep
from ..checks import OPEN_QUESTIONS, OpenQuestion, note_jira_refusal

__all__ = [
    "A11_SYNC_RUNS",
    "CALIBRATION_QUESTIONS",
    "FINISH_WAIT_S",
    "PROBE_QUESTIONS",
    "WIRE_QUESTIONS",
    "WIRE_TRAITS",
    "ProbeAnswer",
    "ProbeQuestion",
    "probe_target",
]

FINISH_WAIT_S: Final = 600.0
"""How long (target seconds) A11 follows a background run to its end before giving up."""
A11_SYNC_RUNS: Final = 6
"""At most this many E1 runs for A11: a run with few steps shows fewer entries than the
window (on the mock, half the runs show the whole window: six leave 1 in 64 undecided)."""
_MISSING_TRIGGER: Final = "harness-probe-no-such-trigger"
_JSON: Final = {"Content-Type": "application/json"}
_RATE_PROBE_REQUESTS: Final = 25
_OVERSIZE_BYTES: Final = 1024 * 1024 + 1024
_SYNC: Final[tuple[str, ...]] = ()
_START: Final = ("start",)
_JIRA: Final = ("jira", "start")
WIRE_TRAITS: Mapping[str, OpenQuestion] = MappingProxyType(
    {
        "W1": OpenQuestion(
            id="W1",
            question="an error answer's content type and compression",
            mock_default="Content-Type application/json, not compressed",
        ),
        "W2": OpenQuestion(
            id="W2",
            question="a started run's envelope: id format, extra fields, content type",
            mock_default="a UUID4 workflow id, the six fields only, application/json, "
            "not compressed",
        ),
    }
)
"""The wire traits the probe can ask besides the open questions (ids W1, W2)."""
_QUESTIONS: Final[Mapping[str, OpenQuestion]] = MappingProxyType({**OPEN_QUESTIONS, **WIRE_TRAITS})
_Route = tuple[tuple[str, ...], str]
"""A trigger's path literals after `/trigger/` (E1: none, E2: start, E4: jira/start) and id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeAnswer:
    """One row of the probe table.

    `asked` is False when the question was not asked (`observed` says why). When asked,
    `same` says whether the target did what the mock does by default; None when the answers
    could not tell (no answer, 5xx, 429, or too little to judge by). `starts_runs` says the
    question may start a run on the target.

    `facts` is what the answers showed, as values two targets can be compared on, keyed by the
    mock config key that would make the mock answer so where one exists (`e2_status`,
    `lowercase_environments`, `extra_fields`, `jira_auth_status`, `log_window`, ...), else
    named for what it measures (`lowercase_status`, `workflow_not_found_status`); only what
    the answers settled is there. `extras` holds values a mock config needs but a comparison
    should not (the values of extra envelope fields; A1's sync limit, measured on each side's
    own clock).
    """

    question_id: str
    question: str
    observed: str
    mock_default: str
    same: bool | None
    evidence: tuple[Exchange, ...] = ()
    asked: bool = True
    starts_runs: bool = False
    facts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class _Probe:
    """The requests a probe sends, built from one client and its target."""

    def __init__(self, client: TriggerClient, *, slow_trigger: str | None, sleep: Sleep) -> None:
        self.client = client
        self.target = client.target
        self.slow_trigger = slow_trigger
        self.sleep = sleep
        self.done = 0

    def send(self, method: str, path: str, **kwargs: Any) -> Exchange:
        """A raw request; a lost answer is an exchange without a status, unless the target no
        longer answers at all (then `TargetUnavailable`)."""
        try:
            return self.client.request(method, path, **kwargs)
        except TransportError as lost:
            if lost.exchange is None or not reachable(self.client, sleep=self.sleep):
                raise became_unreachable(self.target, self.done, "question", str(lost)) from lost
            return lost.exchange

    def post(self, route: _Route, environment: str, body: bytes, **kwargs: Any) -> Exchange:
        """POST `body` to `route` (path literals and trigger id) in `environment`."""
        literals, trigger = route
        path = _path("trigger", *literals, self.target.workspace_id, trigger, environment)
        headers = kwargs.pop("headers", _JSON)
        return self.send("POST", path, headers=headers, content=body, **kwargs)

    def status(self, workspace_id: str, workflow_id: str) -> Exchange:
        return self.send("GET", _path("trigger", "status", workspace_id, workflow_id))

    def own_trigger(self) -> _Route | None:
        """The route of the target's own trigger: background (E2), else sync (E1)."""
        if self.target.background_trigger is not None:
            return _START, self.target.background_trigger
        if self.target.sync_trigger is not None:
            return _SYNC, self.target.sync_trigger
        return None

    def answer(
        self,
        question_id: str,
        observed: str,
        same: bool | None,
        *evidence: Exchange,
        facts: Mapping[str, Any] | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> ProbeAnswer:
        question = _QUESTIONS[question_id]
        return ProbeAnswer(
            question_id=question_id,
            question=question.question,
            observed=observed,
            mock_default=question.mock_default,
            same=same,
            evidence=evidence,
            facts=dict(facts or {}),
            extras=dict(extras or {}),
        )

    def not_asked(self, question_id: str, why: str) -> ProbeAnswer:
        question = _QUESTIONS[question_id]
        return ProbeAnswer(
            question_id=question_id,
            question=question.question,
            observed=f"not asked: {why}",
            mock_default=question.mock_default,
            same=None,
            asked=False,
        )


_NO_OWN_TRIGGER: Final = "the target names no background_trigger or sync_trigger"


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def _body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def _said(exchange: Exchange) -> str:
    """`HTTP 404 "Workflow not found"`, or what happened instead of an answer."""
    if exchange.status_code is None:
        return f"no answer ({exchange.error})"
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    suffix = f" {json.dumps(detail)[:80]}" if isinstance(detail, str) else ""
    return f"HTTP {exchange.status_code}{suffix}"


def _ok(exchange: Exchange) -> bool:
    return exchange.status_code is not None and 200 <= exchange.status_code < 300


def _unclear(*exchanges: Exchange) -> bool:
    """True when any answer cannot tell anything: none came, or a 5xx or 429."""
    return any(
        e.status_code is None or e.status_code == 429 or e.status_code >= 500 for e in exchanges
    )


def ask_sync_limit(probe: _Probe) -> ProbeAnswer:
    """A1: what E1 answers when the flow outlives the synchronous limit."""
    if probe.slow_trigger is None:
        return probe.not_asked("A1", "no trigger known to outlast the sync limit (--slow-trigger)")
    route = (_SYNC, probe.slow_trigger)
    exchange = probe.post(route, probe.target.environment, _body(message="probe A1"))
    body = exchange.json() if _ok(exchange) else None
    if exchange.status_code == 504:
        facts = {"sync_timeout_policy": "504"}
        extras = {"sync_limit_s": _sync_limit_s(exchange)}
        return probe.answer("A1", _said(exchange), True, exchange, facts=facts, extras=extras)
    if isinstance(body, dict) and body.get("status") == "failed":
        observed = f"HTTP {exchange.status_code} failed: {body.get('error')}"
        facts = {"sync_timeout_policy": "failed"}
        extras = {"sync_limit_s": _sync_limit_s(exchange)}
        return probe.answer("A1", observed, False, exchange, facts=facts, extras=extras)
    return probe.answer("A1", _said(exchange), None if _unclear(exchange) else False, exchange)


_LIMIT_IN_TEXT: Final = re.compile(r"limit of (\d+(?:\.\d+)?) ?s\b")


def _sync_limit_s(exchange: Exchange) -> float:
    """The sync limit an A1 timeout shows: the number of seconds its `detail` or `error`
    names ("... limit of 150 s", the mock's text: exact, on the target's own clock), else the
    time the answer took (client clock, the session's target seconds; an upper bound)."""
    body = exchange.json()
    texts = [body.get(key) for key in ("detail", "error")] if isinstance(body, dict) else []
    for text in texts:
        found = _LIMIT_IN_TEXT.search(text) if isinstance(text, str) else None
        if found:
            return float(found.group(1))
    return round(exchange.elapsed_s, 1)


def ask_unknown_workflow(probe: _Probe) -> ProbeAnswer:
    """A3: what E3 answers for a workflow id nobody started."""
    exchange = probe.status(probe.target.workspace_id, str(uuid.uuid4()))
    same = exchange.status_code == 404 and exchange.json() == {"detail": "Workflow not found"}
    if _unclear(exchange):
        return probe.answer("A3", _said(exchange), None, exchange)
    facts = {"workflow_not_found_status": exchange.status_code} | _detail_fact(
        exchange, "workflow_not_found_detail"
    )
    return probe.answer("A3", _said(exchange), same, exchange, facts=facts)


def ask_unknown_workspace_and_trigger(probe: _Probe) -> ProbeAnswer:
    """A4: the key on a workspace that is not its own, and an unknown trigger id."""
    foreign = probe.status(f"harness-probe-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()))
    route = (_START, _MISSING_TRIGGER)
    missing = probe.post(route, probe.target.environment, _body(message=""))
    observed = f"other workspace: {_said(foreign)}; unknown trigger: {_said(missing)}"
    if _unclear(foreign, missing):
        return probe.answer("A4", observed, None, foreign, missing)
    same = foreign.status_code == 401 and missing.status_code == 404
    facts = {
        "unknown_workspace_status": foreign.status_code,
        "trigger_not_found_status": missing.status_code,
    } | _detail_fact(missing, "trigger_not_found_detail")
    return probe.answer("A4", observed, same, foreign, missing, facts=facts)


def ask_environment_case(probe: _Probe) -> ProbeAnswer:
    """A5: is a lower-case environment accepted? Asked on the target's own trigger."""
    own = probe.own_trigger()
    if own is None:
        return probe.not_asked("A5", _NO_OWN_TRIGGER)
    lower = probe.target.environment.lower()
    exchange = probe.post(own, lower, _body(message="probe A5", user_variables={}))
    if _unclear(exchange):
        return probe.answer("A5", f"{lower!r}: {_said(exchange)}", None, exchange)
    accepted = _ok(exchange)
    facts = {
        "lowercase_environments": "accept" if accepted else "refuse",
        "lowercase_status": exchange.status_code,
    }
    if exchange.status_code == 422:
        observed = f"{lower!r} refused as invalid ({_said(exchange)})"
        return probe.answer("A5", observed, True, exchange, facts=facts)
    verdict = "accepted" if accepted else "refused"
    return probe.answer(
        "A5", f"{lower!r} {verdict} ({_said(exchange)})", False, exchange, facts=facts
    )


def ask_start_code(probe: _Probe) -> ProbeAnswer:
    """A6: the HTTP code of a successful E2 (and of E4, with a correctly signed delivery, when
    the Jira trigger and its secret are known), asked with a body of the documented shape. A
    start that is refused tells nothing of that code: "could not tell"."""
    if probe.target.background_trigger is None:
        return probe.not_asked("A6", "the target names no background_trigger")
    route = (_START, probe.target.background_trigger)
    body = _body(message="probe A6", user_variables={})
    exchanges = [probe.post(route, probe.target.environment, body)]
    jira = _signed_start(probe)
    if jira is not None:
        exchanges.append(jira)
    facts = {
        key: exchange.status_code
        for key, exchange in zip(("e2_status", "e4_status"), exchanges, strict=False)
        if _ok(exchange)
    }
    same = None if "e2_status" not in facts else all(code == 200 for code in facts.values())
    observed = "; ".join(
        f"{endpoint}: {_said(exchange)}"
        for endpoint, exchange in zip(("E2", "E4"), exchanges, strict=False)
    )
    return probe.answer("A6", observed, same, *exchanges, facts=facts)


def _signed_start(probe: _Probe) -> Exchange | None:
    """E4 with a delivery signed with the target's Jira secret, when it is known."""
    target = probe.target
    if target.jira_trigger is None or target.jira_secret is None:
        return None
    payload = issue_created(issue=JiraIssue(key="QA-2", summary="probe A6"), timestamp_ms=0)
    delivery = signed_delivery(payload, target.jira_secret.reveal())
    return probe.post(
        (_JIRA, target.jira_trigger),
        target.environment,
        delivery.body,
        headers=dict(delivery.headers),
        auth=False,
    )


def ask_body_rules(probe: _Probe) -> ProbeAnswer:
    """A7: missing fields (each alone and both), an empty body, extra fields, a body over
    1 MiB, a body that is not a JSON object; all on the target's own trigger. The body over
    1 MiB is sent with `Connection: close`: a server refusing it unread may take the rest of
    it for the next request on that connection (a 431 to the next question, not an answer)."""
    own = probe.own_trigger()
    if own is None:
        return probe.not_asked("A7", _NO_OWN_TRIGGER)
    environment = probe.target.environment
    closing = _JSON | {"Connection": "close"}
    sent = {
        name: probe.post(own, environment, body, headers=closing if name == "over 1 MiB" else _JSON)
        for name, body in (
            ("no fields", b"{}"),
            ("no message", _body(user_variables={})),
            ("no user_variables", _body(message="probe A7")),
            ("empty body", b""),
            ("extra field", _body(message="probe A7", user_variables={}, harness_extra=1)),
            ("over 1 MiB", b'{"message": "' + b"x" * _OVERSIZE_BYTES + b'"}'),
            ("JSON array", b"[1, 2]"),
        )
    }
    observed = "; ".join(f"{name}: {_said(exchange)}" for name, exchange in sent.items())
    evidence = tuple(sent.values())
    if _unclear(*evidence):
        return probe.answer("A7", observed, None, *evidence)
    accepted = {name for name, exchange in sent.items() if _ok(exchange)}
    same = (
        {"no fields", "no message", "no user_variables", "empty body", "extra field"} <= accepted
        and sent["over 1 MiB"].status_code == 413
        and sent["JSON array"].status_code == 422
    )
    return probe.answer("A7", observed, same, *evidence, facts=_body_facts(sent, accepted))


def _body_facts(sent: Mapping[str, Exchange], accepted: set[str]) -> dict[str, Any]:
    """What A7's answers settle, as the mock config keys that would answer so."""
    facts: dict[str, Any] = {
        "extra_fields": "ignore" if "extra field" in accepted else "refuse",
        "missing_message": "default" if "no message" in accepted else "refuse",
        "missing_user_variables": "default" if "no user_variables" in accepted else "refuse",
        "oversize_status": sent["over 1 MiB"].status_code,
        "non_object_status": sent["JSON array"].status_code,
    }
    locations = _error_locations(sent["empty body"])
    if "empty body" in accepted:
        facts["empty_body"] = "accept"
    elif ["body"] in locations:
        facts["empty_body"] = "refuse"
    elif locations:
        facts["empty_body"] = "accept"  # read as `{}`, then refused for a missing field
    return facts


def _error_locations(exchange: Exchange) -> list[list[Any]]:
    """The `loc` of every issue of a pydantic-style 422 `detail` list."""
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return []
    return [
        item["loc"]
        for item in detail
        if isinstance(item, dict) and isinstance(item.get("loc"), list)
    ]


def ask_rate_limit(probe: _Probe) -> ProbeAnswer:
    """A8: does a short burst of status requests meet a 429? (bounded: a few dozen requests)."""
    workflow_id = str(uuid.uuid4())
    limited = None
    for _ in range(_RATE_PROBE_REQUESTS):
        exchange = probe.status(probe.target.workspace_id, workflow_id)
        if exchange.status_code == 429:
            limited = exchange
            break
    if limited is None:
        observed = f"no 429 in {_RATE_PROBE_REQUESTS} back-to-back status requests"
        return probe.answer("A8", observed, True, facts={"rate_limited": False})
    retry_after = _header(limited, "retry-after")
    observed = f"429 with Retry-After {retry_after!r}"
    return probe.answer("A8", observed, False, limited, facts={"rate_limited": True})


@dataclass(slots=True)
class _Windows:
    """What finished runs showed of their logs: the most entries one showed, the window size
    when older entries were seen to drop out of a followed run, and the evidence."""

    most: int = 0
    exact: int | None = None
    evidence: list[Exchange] = dataclasses.field(default_factory=list)
    runs: int = 0

    def decided(self) -> bool:
        """True once the window's size, or that it holds at least the mock's 5, is known."""
        return self.exact is not None or self.most >= MOCK_LOG_WINDOW


def _envelope(exchange: Exchange) -> Envelope | None:
    if not _ok(exchange):
        return None
    try:
        return decode_envelope(exchange.response_body)
    except EnvelopeError:
        return None


def _sync_windows(probe: _Probe, trigger: str, windows: _Windows) -> str | None:
    """Up to `A11_SYNC_RUNS` E1 runs, until one shows the mock's whole window; why none
    finished, or None."""
    for _ in range(A11_SYNC_RUNS):
        exchange = probe.post(
            (_SYNC, trigger), probe.target.environment, _body(message="probe A11")
        )
        envelope = _envelope(exchange)
        if envelope is None or not envelope.is_final:
            return f"E1 answered {_said(exchange)}, not a finished run"
        windows.runs += 1
        windows.most = max(windows.most, len(envelope.logs))
        windows.evidence[:] = [exchange]
        if windows.decided():
            break
    return None


def _entry_key(entry: LogEntry) -> tuple[str, str, str, str]:
    """An entry's identity across polls (its status may be updated in place)."""
    return (entry.time, entry.level, entry.node_id, entry.message)


def _background_window(probe: _Probe, windows: _Windows) -> str | None:
    """Follow one background run to its end (at most `FINISH_WAIT_S`): an entry seen in an
    earlier poll, older than every entry of the final window and gone from it, shows the
    window's size exactly. Why no run finished, or None."""
    target = probe.target
    try:
        started = probe.client.start(message="probe A11")
    except HarnessError as exc:
        return f"E2 did not start a run ({type(exc).__name__})"
    deadline = min(target.max_run_s, FINISH_WAIT_S)
    history = probe.client.wait(workflow_id_of(started), start=started, deadline_s=deadline)
    final = history.final
    if final is None:
        return f"the background run did not finish within {deadline:g} s"
    windows.runs += 1
    windows.most = max(windows.most, len(final.logs))
    windows.evidence[:] = [history.observations[-1].exchange]
    shown = {_entry_key(entry) for entry in final.logs}
    oldest = min((entry.time for entry in final.logs), default="")
    earlier = (
        entry
        for observation in history.observations
        if observation.envelope is not None and observation.envelope is not final
        for entry in observation.envelope.logs
    )
    if any(_entry_key(e) not in shown and e.time <= oldest for e in earlier):
        windows.exact = len(final.logs)
    return None


def ask_log_window(probe: _Probe) -> ProbeAnswer:
    """A11: the log window, read from finished runs: E1 runs first; when they are too short to
    tell, one background run followed to its end (older entries dropping out give the size)."""
    target = probe.target
    windows = _Windows()
    missing = None
    if target.sync_trigger is not None:
        missing = _sync_windows(probe, target.sync_trigger, windows)
    if not windows.decided() and target.background_trigger is not None:
        missing = _background_window(probe, windows) or missing
    if target.sync_trigger is None and target.background_trigger is None:
        missing = _NO_OWN_TRIGGER
    evidence = windows.evidence
    if windows.exact is not None:
        observed = (
            f"older entries dropped out of a finished run's window of {windows.exact} log "
            f"entries: a window of {windows.exact}"
        )
        facts = {"log_window": windows.exact}
        same = windows.exact == MOCK_LOG_WINDOW
        return probe.answer("A11", observed, same, *evidence, facts=facts)
    if windows.runs == 0:
        return probe.answer("A11", f"could not tell: {missing}", None, *evidence)
    if windows.most > MOCK_LOG_WINDOW:
        observed = f"a finished run showed {windows.most} log entries (more than 5)"
        facts = {"log_window_at_least": windows.most}
        return probe.answer("A11", observed, False, *evidence, facts=facts)
    if windows.most == MOCK_LOG_WINDOW:
        observed = f"a finished run showed {windows.most} log entries, as a window of 5 does"
        facts = {"log_window_at_least": windows.most}
        return probe.answer("A11", observed, True, *evidence, facts=facts)
    observed = (
        f"could not tell: {windows.runs} finished run(s) showed at most {windows.most} log "
        "entries and none dropped out (the window is at least that)"
    )
    return probe.answer("A11", observed, None, *evidence)


def ask_jira_refusal(probe: _Probe) -> ProbeAnswer:
    """A12: how E4 refuses a delivery signed with another secret (Jira trigger named)."""
    trigger = probe.target.jira_trigger
    if trigger is None:
        return probe.not_asked("A12", "the target names no jira_trigger")
    payload = issue_created(issue=JiraIssue(key="QA-1", summary="probe A12"), timestamp_ms=0)
    delivery = signed_delivery(payload, f"not-the-secret-{uuid.uuid4()}")
    exchange = probe.post(
        (_JIRA, trigger),
        probe.target.environment,
        delivery.body,
        headers=dict(delivery.headers),
        auth=False,
    )
    if _unclear(exchange):
        return probe.answer("A12", _said(exchange), None, exchange)
    facts = {"jira_auth_status": exchange.status_code}
    note = note_jira_refusal(exchange)
    if note is not None:
        observed = f"refused: {_said(exchange)}"
        return probe.answer("A12", observed, note.same, exchange, facts=facts)
    verdict = "accepted (a run may have started)" if _ok(exchange) else "answered"
    return probe.answer("A12", f"{verdict}: {_said(exchange)}", False, exchange, facts=facts)


def ask_idempotency(probe: _Probe) -> ProbeAnswer:
    """A14: do two identical starts start two runs, and do two identical starts carrying the
    same `Idempotency-Key` header?"""
    if probe.target.background_trigger is None:
        return probe.not_asked("A14", "the target names no background_trigger")
    body = _body(message="probe A14", user_variables={"probe": "idempotency"})
    route = (_START, probe.target.background_trigger)
    keyed = _JSON | {"Idempotency-Key": f"harness-probe-{uuid.uuid4()}"}
    exchanges = [probe.post(route, probe.target.environment, body) for _ in range(2)]
    exchanges += [
        probe.post(route, probe.target.environment, body, headers=keyed) for _ in range(2)
    ]
    ids = [
        item.json().get("workflow_id") if _ok(item) and isinstance(item.json(), dict) else None
        for item in exchanges
    ]
    if None in ids:
        said = ", ".join(_said(exchange) for exchange in exchanges)
        return probe.answer("A14", f"could not tell: {said}", None, *exchanges)
    plain = "two runs started (two workflow ids)" if ids[0] != ids[1] else "one workflow id"
    with_key = "one run (the same workflow id)" if ids[2] == ids[3] else "two runs"
    observed = f"identical starts: {plain}; with the same Idempotency-Key: {with_key}"
    if ids[0] == ids[1]:
        return probe.answer("A14", observed, False, *exchanges, facts={"idempotency": "body"})
    facts = {"idempotency": "key" if ids[2] == ids[3] else "none"}
    return probe.answer("A14", observed, ids[2] != ids[3], *exchanges, facts=facts)


def ask_key_environments(probe: _Probe) -> ProbeAnswer:
    """A15: is the key accepted in every environment? (unknown trigger: nothing starts)."""
    answers = {
        environment: probe.post((_START, _MISSING_TRIGGER), environment, _body(message=""))
        for environment in ENVIRONMENTS
    }
    refused = [env for env, exchange in answers.items() if exchange.status_code == 401]
    accepted = [env for env in ENVIRONMENTS if env not in refused]
    observed = (
        "key accepted in " + ", ".join(accepted)
        if not refused
        else "key refused (401) in " + ", ".join(refused)
    )
    if _unclear(*answers.values()):
        return probe.answer("A15", observed, None, *answers.values())
    facts = {"key_environments": accepted}
    return probe.answer("A15", observed, not refused, *answers.values(), facts=facts)


def _header(exchange: Exchange, name: str) -> str | None:
    return next((v for k, v in exchange.response_headers.items() if k.lower() == name), None)


def _detail_fact(exchange: Exchange, key: str) -> dict[str, str]:
    """`{key: detail}` when the answer's `detail` is a string, else nothing."""
    body = exchange.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    return {key: detail} if isinstance(detail, str) else {}


def _wire_facts(exchange: Exchange) -> dict[str, Any]:
    """The content type an answer carries and whether it came compressed."""
    encoding = (_header(exchange, "content-encoding") or "").strip().lower()
    return {
        "content_type": _header(exchange, "content-type"),
        "compression": encoding if encoding not in ("", "identity") else "never",
    }


_UUID4: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_HEX: Final = re.compile(r"[0-9a-f]{32}")
_PREFIXED: Final = re.compile(r"([A-Za-z0-9._~-]{1,32}?)([0-9a-f]{32})")


def _id_facts(workflow_id: str) -> dict[str, str]:
    """A workflow id's format: `uuid4`, `uuid`, `hex` (32 lower-case hex digits), `prefixed`
    (a short prefix, then 32 hex digits; with `workflow_id_prefix`) or `other`."""
    if _UUID4.fullmatch(workflow_id):
        return {"workflow_id_format": "uuid4"}
    if _UUID.fullmatch(workflow_id):
        return {"workflow_id_format": "uuid"}
    if _HEX.fullmatch(workflow_id):
        return {"workflow_id_format": "hex"}
    prefixed = _PREFIXED.fullmatch(workflow_id)
    if prefixed:
        return {"workflow_id_format": "prefixed", "workflow_id_prefix": prefixed.group(1)}
    return {"workflow_id_format": "other"}


_ACCEPT_GZIP: Final = {"Accept-Encoding": "gzip"}


def ask_error_wire(probe: _Probe) -> ProbeAnswer:
    """W1: an error answer's content type and compression (E3, unknown workflow; the request
    accepts gzip)."""
    path = _path("trigger", "status", probe.target.workspace_id, str(uuid.uuid4()))
    exchange = probe.send("GET", path, headers=_ACCEPT_GZIP)
    if _unclear(exchange):
        return probe.answer("W1", _said(exchange), None, exchange)
    facts = _wire_facts(exchange)
    observed = f"Content-Type {facts['content_type']!r}; compression: {facts['compression']}"
    same = facts == {"content_type": "application/json", "compression": "never"}
    extras = {"body_bytes": len(exchange.response_body)}
    return probe.answer("W1", observed, same, exchange, facts=facts, extras=extras)


def ask_envelope_wire(probe: _Probe) -> ProbeAnswer:
    """W2: a started run's envelope (E2 on the background trigger): the workflow id's format,
    fields beyond the documented six, content type and compression."""
    if probe.target.background_trigger is None:
        return probe.not_asked("W2", "the target names no background_trigger")
    route = (_START, probe.target.background_trigger)
    headers = _JSON | _ACCEPT_GZIP
    body = _body(message="probe W2", user_variables={})
    exchange = probe.post(route, probe.target.environment, body, headers=headers)
    answer = exchange.json() if _ok(exchange) else None
    if not isinstance(answer, dict) or not isinstance(answer.get("workflow_id"), str):
        return probe.answer("W2", f"could not tell: {_said(exchange)}", None, exchange)
    extra = {key: value for key, value in answer.items() if key not in _ENVELOPE_FIELDS}
    facts = (
        _id_facts(answer["workflow_id"])
        | {"extra_envelope_fields": sorted(extra)}
        | _wire_facts(exchange)
    )
    observed = (
        f"workflow id: {facts['workflow_id_format']}; extra fields: "
        f"{', '.join(sorted(extra)) or 'none'}; Content-Type {facts['content_type']!r}; "
        f"compression: {facts['compression']}"
    )
    same = facts == {
        "workflow_id_format": "uuid4",
        "extra_envelope_fields": [],
        "content_type": "application/json",
        "compression": "never",
    }
    extras = {"extra_envelope_values": extra, "body_bytes": len(exchange.response_body)}
    return probe.answer("W2", observed, same, exchange, facts=facts, extras=extras)


_ENVELOPE_FIELDS: Final = frozenset(
    {"workflow_id", "response", "status", "logs", "requires_input", "error"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeQuestion:
    """One probe question: its id, how it is asked, and whether asking may start a run."""

    question_id: str
    ask: Callable[[_Probe], ProbeAnswer]
    starts_runs: bool


def _q(
    question_id: str, ask: Callable[[_Probe], ProbeAnswer], *, starts_runs: bool
) -> ProbeQuestion:
    return ProbeQuestion(question_id=question_id, ask=ask, starts_runs=starts_runs)


PROBE_QUESTIONS: tuple[ProbeQuestion, ...] = (
    _q("A1", ask_sync_limit, starts_runs=True),
    _q("A3", ask_unknown_workflow, starts_runs=False),
    _q("A4", ask_unknown_workspace_and_trigger, starts_runs=False),
    _q("A5", ask_environment_case, starts_runs=True),
    _q("A6", ask_start_code, starts_runs=True),
    _q("A7", ask_body_rules, starts_runs=True),
    _q("A11", ask_log_window, starts_runs=True),
    _q("A12", ask_jira_refusal, starts_runs=True),
    _q("A14", ask_idempotency, starts_runs=True),
    _q("A15", ask_key_environments, starts_runs=False),
    _q("A8", ask_rate_limit, starts_runs=False),
)
"""The questions in the order they are asked: A8's burst of status requests comes last, so a
rate limit it trips cannot turn a later question's answers into 429s."""

WIRE_QUESTIONS: tuple[ProbeQuestion, ...] = (
    _q("W1", ask_error_wire, starts_runs=False),
    _q("W2", ask_envelope_wire, starts_runs=True),
)
"""Wire traits no open question names (content type, compression, id format, extra envelope
fields): asked by `calibrate` and `compare`, whose mock configs can reproduce them."""
CALIBRATION_QUESTIONS: tuple[ProbeQuestion, ...] = (
    *PROBE_QUESTIONS[:-1],
    *WIRE_QUESTIONS,
    PROBE_QUESTIONS[-1],
)
"""Every question `calibrate` and `compare` ask, A8's burst still last."""


def probe_target(
    client: TriggerClient,
    *,
    slow_trigger: str | None = None,
    questions: Sequence[ProbeQuestion] = PROBE_QUESTIONS,
    allow_production: bool = False,
    sleep: Sleep = time.sleep,
) -> list[ProbeAnswer]:
    """Preflight the target, then ask every question in order; the table's rows.

    Args:
        client: a client for the target (its key is sent; nothing else of it is shown).
        slow_trigger: a trigger known to outlast the sync limit, to ask A1; None skips A1.
        questions: which questions to ask.
        allow_production: ask questions that may start runs on a production target too
            (`Target.may_start_runs`); otherwise they are reported as not asked.
        sleep: how to wait between retries (target seconds: the session's sleep).

    Raises:
        TargetUnavailable: the target cannot be reached, refuses the key or is not the trigger
            API (preflight), or stopped answering part-way (exit 3).
    """
    preflight(client, sleep=sleep)
    probe = _Probe(client, slow_trigger=slow_trigger, sleep=sleep)
    may_start_runs = client.target.may_start_runs(allow_production=allow_production)
    answers = []
    for question in questions:
        if question.starts_runs and not may_start_runs:
            answer = probe.not_asked(question.question_id, PRODUCTION_SKIP_REASON)
        else:
            answer = question.ask(probe)
        answers.append(dataclasses.replace(answer, starts_runs=question.starts_runs))
        probe.done += 1
    return answers
