"""`AsyncTriggerClient`: the asyncio mirror of `TriggerClient` over an `httpx.AsyncClient`.

Only the IO differs: requests, answers, polling and retry decisions are the same shared
functions (`_protocol`, `_polling`) and the same `_ClientCore` as the sync client.
Hooks may be plain functions or coroutine functions.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Mapping
from typing import Any

import httpx

from ._client import DEFAULT_RETRY, _ClientCore, _Followed, _result, workflow_id_of
from ._exceptions import TransportError
from ._models import Exchange, Observation, RunHistory
from ._polling import Poll, PollStrategy, RetryPolicy, next_action
from ._protocol import (
    Interpretation,
    RequestSpec,
    build_jira,
    build_raw,
    build_start,
    build_status,
    build_sync,
)
from ._targets import Target
from ._types import AsyncSleep, Clock, EventHooks, HeaderMap

__all__ = ["AsyncTriggerClient"]


class AsyncTriggerClient(_ClientCore):
    """Asynchronous client for one target over a ready `httpx.AsyncClient`.

    Arguments as for `TriggerClient`, except `http` (an `httpx.AsyncClient`, e.g. with
    `httpx.ASGITransport(app)`) and `sleep` (an async function, default `asyncio.sleep`).
    """

    def __init__(
        self,
        target: Target,
        *,
        http: httpx.AsyncClient,
        clock: Clock = time.monotonic,
        sleep: AsyncSleep = asyncio.sleep,
        rng: random.Random | None = None,
        event_hooks: EventHooks | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        wall_clock: Clock = time.time,
    ) -> None:
        super().__init__(
            target,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
            event_hooks=event_hooks,
            retry=retry,
        )
        self._http = http
        self._sleep = sleep

    async def _send(self, spec: RequestSpec) -> Interpretation:
        redacted = spec.redacted(self._redactor)
        for hook in self._request_hooks:
            await _call(hook, redacted)
        started = self._clock()
        try:
            with self._transport_context(spec):
                request = self._http.build_request(
                    spec.method,
                    spec.url,
                    headers=spec.wire_header_bytes(),
                    content=spec.body,
                    timeout=spec.timeout_s,
                )
                response = await self._http.send(request, follow_redirects=False)
        except TransportError as error:
            outcome = self._unanswered(spec, error, started)
        else:
            outcome = self._answered(spec, request, response, started)
        for hook in self._response_hooks:
            await _call(hook, outcome.observation.exchange)
        return outcome

    async def run_sync(
        self,
        trigger_id: str | None = None,
        *,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
        environment: str | None = None,
    ) -> Observation:
        """E1: run a flow synchronously; raises for a non-2xx or malformed answer."""
        spec = build_sync(
            self.target,
            trigger_id,
            message=message,
            user_variables=user_variables,
            environment=environment,
        )
        return _result(await self._send(spec))

    async def start(
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

        With `retry_rate_limited`, a 429 is re-sent after its Retry-After until `deadline_s`
        (see `TriggerClient.start`).
        """
        spec = build_start(
            self.target,
            trigger_id,
            message=message,
            user_variables=user_variables,
            environment=environment,
        )
        retry = self._call_retry(deadline_s, rate_limited_only=True)
        outcome = await self._send(spec)
        while (
            retry_rate_limited and (delay := retry.next_delay(outcome, self._clock())) is not None
        ):
            await self._sleep(delay)
            outcome = await self._send(spec)
        return _result(outcome)

    async def status(self, workflow_id: str, *, deadline_s: float | None = None) -> Observation:
        """E3: a run's status, retrying transient failures (see `TriggerClient.status`)."""
        spec = build_status(self.target, workflow_id)
        retry = self._call_retry(deadline_s, rate_limited_only=False)
        outcome = await self._send(spec)
        while (delay := retry.next_delay(outcome, self._clock())) is not None:
            await self._sleep(delay)
            outcome = await self._send(spec)
        return _result(outcome)

    async def send_jira(
        self,
        body: bytes,
        *,
        signature: str | None,
        trigger_id: str | None = None,
        environment: str | None = None,
    ) -> Observation:
        """E4: deliver a Jira webhook body with the given `X-Hub-Signature` value (or none)."""
        spec = build_jira(
            self.target, body, signature=signature, trigger_id=trigger_id, environment=environment
        )
        return _result(await self._send(spec))

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: HeaderMap | None = None,
        content: bytes = b"",
        auth: bool | str = True,
    ) -> Exchange:
        """Any request, for negative tests: never raises on HTTP status and never retries."""
        spec = build_raw(self.target, method, path, headers=headers, content=content, auth=auth)
        outcome = await self._send(spec)
        if isinstance(outcome.error, TransportError):
            raise outcome.error
        return outcome.observation.exchange

    async def _follow(
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
                await self._sleep(action.after_s)
            last = await self._send(spec)
            polls.append(last.observation)
            action = next_action(state, last, self._clock())
        return self._followed(
            workflow_id, start=start, polls=polls, action=action, last=last, state=state
        )

    async def wait(
        self,
        workflow_id: str,
        *,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
        start: Observation | None = None,
    ) -> RunHistory:
        """Poll E3 until final, the deadline or an answer that cannot be retried (see sync)."""
        return (await self._follow(workflow_id, strategy, deadline_s, start)).history

    async def wait_or_raise(
        self,
        workflow_id: str,
        *,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
        start: Observation | None = None,
    ) -> RunHistory:
        """Like `wait`, but raises `PollTimeout` at the deadline, else the last answer's error."""
        return self._raise_unless_final(
            await self._follow(workflow_id, strategy, deadline_s, start)
        )

    async def start_and_wait(
        self,
        trigger_id: str | None = None,
        *,
        message: str = "",
        user_variables: Mapping[str, Any] | None = None,
        environment: str | None = None,
        strategy: PollStrategy | None = None,
        deadline_s: float | None = None,
    ) -> RunHistory:
        """E2 then E3 until final: `start` followed by `wait`."""
        started = await self.start(
            trigger_id, message=message, user_variables=user_variables, environment=environment
        )
        return await self.wait(
            workflow_id_of(started), strategy=strategy, deadline_s=deadline_s, start=started
        )


async def _call(hook: Any, argument: object) -> None:
    result = hook(argument)
    if inspect.isawaitable(result):
        await result
