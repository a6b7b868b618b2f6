"""`TriggerClient`: the synchronous harness client, a thin IO shell on a `Transport`.

Requests are built, answers classified and redacted by `_protocol`; polling and retry decisions
come from `_polling`; the wire is a `_transport.Transport` (an `httpx.Client` by default).
`_ClientCore` holds what the sync and async clients share without IO.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ._exceptions import (
    ConfigError,
    HarnessError,
    MalformedResponse,
    PollTimeout,
    TransportError,
    UsageError,
)
from ._models import Exchange, Observation, RunHistory, StopReason
from ._polling import (
    CallRetry,
    Done,
    GiveUp,
    Poll,
    PollPlan,
    PollState,
    PollStrategy,
    RetryPolicy,
    backoff,
    fixed,
    next_action,
)
from ._protocol import (
    SYNC_SLACK_S,
    AnswerMemo,
    Interpretation,
    RequestSpec,
    SentRequest,
    build_jira,
    build_raw,
    build_start,
    build_status,
    build_sync,
    interpret,
    make_exchange,
    redact_request,
)
from ._redact import Redactor
from ._targets import Target
from ._transport import Answer, HttpxTransport, Received, Transport, map_transport_errors
from ._types import Clock, EventHooks, HeaderMap, Sleep

__all__ = ["DEFAULT_RETRY", "TriggerClient", "workflow_id_of"]

DEFAULT_RETRY: Final = backoff(1.0, factor=2.0, cap_s=30.0, max_attempts=6)
_HOOK_KINDS: Final = frozenset({"request", "response"})
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class _ClientCore:
    """The IO-free part both clients share: target, redaction, hooks, plans, final decisions."""

    def __init__(
        self,
        target: Target,
        *,
        clock: Clock,
        wall_clock: Clock,
        rng: random.Random | None,
        event_hooks: EventHooks | None,
        retry: RetryPolicy,
    ) -> None:
        if target.api_key is None and target.api_key_env is not None:
            raise ConfigError(
                f"targets.{target.name}.api_key_env: the key was not read yet; "
                "pass the target through select_target() first"
            )
        hooks = dict(event_hooks or {})
        unknown = sorted(set(hooks) - _HOOK_KINDS)
        if unknown:
            raise UsageError(
                f"event_hooks: unknown kind {unknown[0]!r}; use 'request' or 'response'"
            )
        self.target = target
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._retry = retry
        self._redactor = Redactor(target.secret_values())
        self._request_hooks: tuple[Callable[..., object], ...] = tuple(hooks.get("request", ()))
        self._response_hooks: tuple[Callable[..., object], ...] = tuple(hooks.get("response", ()))
        self._sent: tuple[RequestSpec, object, SentRequest] | None = None
        self._memo = AnswerMemo()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(target={self.target.name!r})"

    def _plan(self, strategy: PollStrategy | None, deadline_s: float | None) -> PollPlan:
        """The plan of `wait`; the default deadline is `max_run_s` plus network slack, so a run
        still pending then has certainly run longer than `max_run_s` (invariant 9)."""
        default_deadline = self.target.max_run_s + SYNC_SLACK_S
        return PollPlan(
            strategy=strategy if strategy is not None else fixed(self.target.poll_interval_s),
            retry=self._retry,
            deadline_s=deadline_s if deadline_s is not None else default_deadline,
        )

    def _call_retry(self, deadline_s: float | None, *, rate_limited_only: bool) -> CallRetry:
        return self._retry.begin_call(
            started_at=self._clock(), deadline_s=deadline_s, rate_limited_only=rate_limited_only
        )

    def _transport_context(self, spec: RequestSpec) -> Any:
        return map_transport_errors(
            spec.method,
            spec.url,
            may_have_run=spec.method not in _SAFE_METHODS,
            redact=self._redactor.redact_text,
        )

    def _answered(
        self, spec: RequestSpec, request: httpx.Request, response: httpx.Response, started: float
    ) -> Interpretation:
        answer = Received(
            status_code=response.status_code,
            headers=response.headers.multi_items(),
            body=response.content,
            sent_headers=request.headers.multi_items(),
        )
        return self._answer_outcome(spec, answer, started)

    def _answer_outcome(self, spec: RequestSpec, answer: Answer, started: float) -> Interpretation:
        exchange = make_exchange(
            spec,
            self._redactor,
            sent=self._redacted_request(spec, answer.sent_headers),
            started_at=started,
            elapsed_s=self._clock() - started,
            status_code=answer.status_code,
            response_headers=answer.headers,
            response_body=answer.body,
            memo=self._memo,
        )
        return interpret(exchange, now_epoch=self._wall_clock(), memo=self._memo)

    def _redacted_request(self, spec: RequestSpec, sent_headers: Sequence[Any]) -> SentRequest:
        """The request as an exchange records it, redacted once per spec and headers sent.

        A flow polls with one spec, so its URL, headers and body are redacted at the first
        poll only (the same spec and equal headers give the same redacted values).
        """
        cached = self._sent
        if cached is not None and cached[0] is spec and cached[1] == sent_headers:
            return cached[2]
        sent = redact_request(spec, self._redactor, sent_headers)
        self._sent = (spec, sent_headers, sent)
        return sent

    def _unanswered(
        self, spec: RequestSpec, error: TransportError, started: float
    ) -> Interpretation:
        exchange = make_exchange(
            spec,
            self._redactor,
            started_at=started,
            elapsed_s=self._clock() - started,
            error=str(error),
        )
        error.exchange = exchange
        return interpret(exchange, now_epoch=self._wall_clock(), transport_error=error)

    def _start_outcome(self, start: Observation | None) -> Interpretation | None:
        if start is None:
            return None
        return interpret(start.exchange, now_epoch=self._wall_clock())

    def _followed(
        self,
        workflow_id: str,
        *,
        start: Observation | None,
        polls: Sequence[Observation],
        action: Done | GiveUp,
        last: Interpretation | None,
        state: PollState,
    ) -> _Followed:
        first, rest = (start, tuple(polls)) if start is not None else (polls[0], tuple(polls[1:]))
        history = RunHistory(
            workflow_id=workflow_id,
            start=first,
            polls=rest,
            final=action.envelope if isinstance(action, Done) else None,
            stop_reason=StopReason.FINAL if isinstance(action, Done) else action.reason,
            deadline_s=state.plan.deadline_s,
        )
        return _Followed(
            history=history,
            action=action,
            last=last,
            attempts=len(polls),
            elapsed_s=self._clock() - state.started_at,
        )

    def _raise_unless_final(self, followed: _Followed) -> RunHistory:
        """The history when final; else `PollTimeout` (deadline), `MalformedResponse` (a
        status outside the enum) or the last answer's own error."""
        history, action, last = followed.history, followed.action, followed.last
        if isinstance(action, Done):
            return history
        where = f"run {history.workflow_id!r} of target {self.target.name!r}"
        if action.reason is StopReason.UNKNOWN_STATUS and last is not None:
            raise MalformedResponse(
                f"{where}: {action.detail}; following stopped",
                status_code=last.observation.status_code,
                exchange=last.observation.exchange,
            )
        if action.reason is StopReason.DEADLINE or last is None or last.error is None:
            raise PollTimeout(
                f"{where}: {action.detail}",
                workflow_id=history.workflow_id,
                attempts=followed.attempts,
                elapsed_s=followed.elapsed_s,
                history=history,
            )
        raise last.error


@dataclass(frozen=True, slots=True, kw_only=True)
class _Followed:
    """What following a run produced: the history, why it stopped, the E3 attempts made."""

    history: RunHistory
    action: Done | GiveUp
    last: Interpretation | None
    attempts: int
    elapsed_s: float


def _result(outcome: Interpretation) -> Observation:
    if outcome.error is not None:
        raise outcome.error
    return outcome.observation


class TriggerClient(_ClientCore):
    """Synchronous client for one target over a ready `httpx.Client` (or `TestClient`).

    Args:
        target: where to send requests (a selected target, its secrets read).
        http: `httpx.Client(base_url=...)`, `starlette.testclient.TestClient(app)`,
            `httpx.Client(transport=httpx.MockTransport(handler))`, or any `Transport`
            (`harness._transport`: it raises httpx's exceptions for failures).
        clock: monotonic seconds, for timing and deadlines.
        sleep: how to wait between polls and retries.
        rng: randomness for jittered strategies.
        event_hooks: `{"request": [f(RequestSpec)], "response": [f(Exchange)]}`, both redacted,
            called for every attempt.
        retry: how transient failures of E3 are retried.
        wall_clock: epoch seconds, to read a `Retry-After` HTTP-date.
        retry_rate_limited: re-send every call answered 429 (A8: nothing was processed, so
            even a POST is safe to re-send) after its `Retry-After`, within `retry`'s bounds
            (`max_wait_s` a wait, `call_deadline_s` a call); E3 always does.
    """

    def __init__(
        self,
        target: Target,
        *,
        http: httpx.Client | Transport,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        event_hooks: EventHooks | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        wall_clock: Clock = time.time,
        retry_rate_limited: bool = False,
    ) -> None:
        super().__init__(
            target,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
            event_hooks=event_hooks,
            retry=retry,
        )
        self._transport = HttpxTransport(http) if isinstance(http, httpx.Client) else http
        self._sleep = sleep
        self._retry_rate_limited = retry_rate_limited

    def _send(self, spec: RequestSpec) -> Interpretation:
        if self._request_hooks:
            redacted = spec.redacted(self._redactor)
            for hook in self._request_hooks:
                hook(redacted)
        started = self._clock()
        try:
            with self._transport_context(spec):
                answer = self._transport.send(
                    spec.method,
                    spec.url,
                    headers=spec.wire_header_bytes(),
                    body=spec.body,
                    timeout_s=spec.timeout_s,
                )
        except TransportError as error:
            outcome = self._unanswered(spec, error, started)
        else:
            outcome = self._answer_outcome(spec, answer, started)
        for hook in self._response_hooks:
            hook(outcome.observation.exchange)
        return outcome

    def _send_limited(
        self, spec: RequestSpec, *, retry: bool, deadline_s: float | None = None
    ) -> Interpretation:
        """`_send`; with `retry` (or the client's `retry_rate_limited`), a 429 is re-sent
        after its Retry-After (at most the policy's `max_wait_s`) until `deadline_s` (default:
        the policy's `call_deadline_s`). The last answer is returned, a 429 included."""
        calls = self._call_retry(deadline_s, rate_limited_only=True)
        outcome = self._send(spec)
        while (retry or self._retry_rate_limited) and (
            delay := calls.next_delay(outcome, self._clock())
        ) is not None:
            self._sleep(delay)
            outcome = self._send(spec)
        return outcome

    def run_sync(
        self,
        trigger_id: str | None = None,
        *,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
        environment: str | None = None,
    ) -> Observation:
        """E1: run a flow synchronously; raises for a non-2xx or malformed answer (a 429 is
        re-sent first when the client retries rate-limited calls)."""
        spec = build_sync(
            self.target,
            trigger_id,
            message=message,
            user_variables=user_variables,
            environment=environment,
        )
        return _result(self._send_limited(spec, retry=False))

    def start(
        self,
        trigger_id: str | None = None,
        *,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
        environment: str | None = None,
        retry_rate_limited: bool = False,
        deadline_s: float | None = None,
    ) -> Observation:
        """E2: start a background run; a lost answer raises `OutcomeUnknown` (never re-sent).

        Whether the run started is then unknown; a 5xx (`ServerError`) is not re-sent either.
        With `retry_rate_limited`, a 429 (nothing started) is re-sent after its Retry-After
        (at most the policy's `max_wait_s`) until `deadline_s` (default: the policy's
        `call_deadline_s`); without it (and without the client's `retry_rate_limited`), or
        past the deadline, it raises `RateLimited`. Variables JSON
        cannot hold (NaN, infinities, non-string keys) raise `UsageError` before sending.
        """
        spec = build_start(
            self.target,
            trigger_id,
            message=message,
            user_variables=user_variables,
            environment=environment,
        )
        return _result(self._send_limited(spec, retry=retry_rate_limited, deadline_s=deadline_s))

    def status(self, workflow_id: str, *, deadline_s: float | None = None) -> Observation:
        """E3: a run's status, retrying transient failures per the retry policy.

        429s are retried until `deadline_s` seconds (default: the policy's `call_deadline_s`),
        no answer and 5xx up to `max_attempts` times; each wait honours `Retry-After` up to
        `max_wait_s`. Raises the last answer's error when retries end without an envelope.
        """
        spec = build_status(self.target, workflow_id)
        retry = self._call_retry(deadline_s, rate_limited_only=False)
        outcome = self._send(spec)
        while (delay := retry.next_delay(outcome, self._clock())) is not None:
            self._sleep(delay)
            outcome = self._send(spec)
        return _result(outcome)

    def send_jira(
        self,
        body: bytes,
        *,
        signature: str | None,
        trigger_id: str | None = None,
        environment: str | None = None,
    ) -> Observation:
        """E4: deliver a Jira webhook body with the given `X-Hub-Signature` value (or none);
        a 429 is re-sent first when the client retries rate-limited calls."""
        spec = build_jira(
            self.target, body, signature=signature, trigger_id=trigger_id, environment=environment
        )
        return _result(self._send_limited(spec, retry=False))

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: HeaderMap | None = None,
        content: bytes = b"",
        auth: bool | str = True,
    ) -> Exchange:
        """Any request, for negative tests: never raises on HTTP status and never retries, but
        a 429 when the client retries rate-limited calls (the last answer is returned).

        `auth=True` sends the target's key, `False` none, a string that exact Authorization
        value. A transport failure raises the mapped `TransportError` (its `exchange` set).
        """
        spec = build_raw(self.target, method, path, headers=headers, content=content, auth=auth)
        outcome = self._send_limited(spec, retry=False)
        if isinstance(outcome.error, TransportError):
            raise outcome.error
        return outcome.observation.exchange

    def _follow(
        self,
        workflow_id: str,
        strategy: PollStrategy | None,
        deadline_s: float | None,
        start: Observation | None,
    ) -> _Followed:
        plan = self._plan(strategy, deadline_s)
        started_at = start.at if start is not None else self._clock()
        state = plan.begin(started_at=started_at, rng=self._rng)
        last = self._start_outcome(start)
        action = next_action(state, last, self._clock())
        polls: list[Observation] = []
        spec = build_status(self.target, workflow_id)
        while isinstance(action, Poll):
            if action.after_s > 0:
                self._sleep(action.after_s)
            last = self._send(spec)
            polls.append(last.observation)
            action = next_action(state, last, self._clock())
        return self._followed(
            workflow_id, start=start, polls=polls, action=action, last=last, state=state
        )

    def wait(
        self,
        workflow_id: str,
        *,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
        start: Observation | None = None,
    ) -> RunHistory:
        """Poll E3 until the run is final, the deadline passes or an answer cannot be retried.

        Every poll is recorded, transient failures included. Without `start`, the history's
        `start` is the first poll. Never raises for an answer: inspect `final` and
        `stop_reason` (`StopReason`: final, deadline, rate-limited, unknown status, connection
        lost, server error, not retryable). 429s are retried until the deadline.

        Args:
            workflow_id: the run to follow.
            strategy: delays between healthy polls; default `fixed(target.poll_interval_s)`.
            deadline_s: give up after this long from the start; default `target.max_run_s`
                plus network slack (`SYNC_SLACK_S`).
            start: the E2/E4 observation that started the run (its time starts the deadline).
        """
        return self._follow(workflow_id, strategy, deadline_s, start).history

    def wait_or_raise(
        self,
        workflow_id: str,
        *,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
        start: Observation | None = None,
    ) -> RunHistory:
        """Like `wait`, but raises unless final: `PollTimeout` at the deadline,
        `MalformedResponse` for a status outside the enum, else the last answer's error."""
        return self._raise_unless_final(self._follow(workflow_id, strategy, deadline_s, start))

    def start_and_wait(
        self,
        trigger_id: str | None = None,
        *,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
        environment: str | None = None,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
    ) -> RunHistory:
        """E2 then E3 until final: `start` followed by `wait` (see both)."""
        started = self.start(
            trigger_id, message=message, user_variables=user_variables, environment=environment
        )
        workflow_id = workflow_id_of(started)
        return self.wait(workflow_id, strategy=strategy, deadline_s=deadline_s, start=started)


def workflow_id_of(observation: Observation) -> str:
    """The workflow id of a start answer (E2/E4) to follow with E3."""
    if observation.envelope is None:
        raise HarnessError("a start answer without an envelope cannot be followed")
    return observation.envelope.workflow_id
