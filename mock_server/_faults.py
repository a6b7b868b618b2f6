"""Fault injection: the live rule set (`FaultSet`) and the plain-ASGI middleware (`FaultInjector`).

Decisions are seeded: each rule draws from its own `random.Random` seeded with the config seed
and the rule id, and only when a request matches it, so one seed and one request sequence give
the same faults. Every matching latency rule adds its delay (real seconds, `asyncio.sleep`);
then the first other rule that fires decides the fault.

Connection faults over a real socket (uvicorn) act on the connection's transport: `reset`
closes it with SO_LINGER 0 (the client reads a reset), `empty_reply` closes it cleanly with no
answer, `hang` answers nothing until the client disconnects (at most `max_s`), then closes it.
In process (TestClient, `httpx.ASGITransport`) there is no connection: the same faults raise
the httpx error a client would have met (`ReadError`, `RemoteProtocolError`, `ReadTimeout`),
which the in-process transports pass to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._errors import send_json
from ._fault_rules import FaultMatch, FaultRule, Latency

__all__ = ["FaultInjector", "FaultSet", "RequestInfo"]

_GATEWAY_DETAILS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a fault rule can match on, read from the path before routing."""

    method: str
    endpoint: str
    workspace_id: str
    trigger_id: str | None = None  # E3 paths carry the workflow id instead
    workflow_id: str | None = None


class _Armed:
    """A rule with its own seeded randomness and count of matching requests."""

    __slots__ = ("matched", "rng", "rule")

    def __init__(self, rule: FaultRule, seed: int) -> None:
        self.rule = rule
        self.rng = random.Random(f"{seed}:{rule.id}")
        self.matched = 0


class FaultSet:
    """The rules in force: the scenario's and the config's at start, plus admin API changes.

    Args:
        rules: the starting rules (ids assigned where missing).
        seed: the config seed every rule's randomness derives from.
        clock_start: virtual seconds a window offset counts from.
        trigger_of: the trigger of a workflow id (E3 rules scoped by trigger), None if unknown.
    """

    def __init__(
        self,
        rules: tuple[FaultRule, ...],
        *,
        seed: int,
        clock_start: float,
        trigger_of: Callable[[str], str | None],
    ) -> None:
        self._seed = seed
        self._clock_start = clock_start
        self._trigger_of = trigger_of
        self._initial = rules
        self._armed: list[_Armed] = []
        self._next_id = 0
        self.injected: Counter[tuple[str, str]] = Counter()
        self.reset()

    @property
    def active(self) -> bool:
        """True when any rule is in force."""
        return bool(self._armed)

    def reset(self) -> None:
        """Back to the starting rules, their randomness reseeded and their counts cleared."""
        self._armed = []
        self._next_id = 0
        self.injected.clear()
        for rule in self._initial:
            self.add(rule)

    def add(self, rule: FaultRule) -> FaultRule:
        """Put a rule in force (last); an id is assigned when it has none.

        Raises:
            ValueError: a rule with that id is already in force.
        """
        if rule.id is None:
            taken = {armed.rule.id for armed in self._armed}
            while rule.id is None or rule.id in taken:
                self._next_id += 1
                rule = replace(rule, id=f"rule-{self._next_id}")
        elif any(armed.rule.id == rule.id for armed in self._armed):
            raise ValueError(f"id: a rule with id {rule.id!r} is already in force")
        self._armed.append(_Armed(rule, self._seed))
        return rule

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        count = len(self._armed)
        self._armed = []
        return count

    def rules(self) -> list[FaultRule]:
        """The rules in force, in the order they are tried."""
        return [armed.rule for armed in self._armed]

    def decide(self, info: RequestInfo, now: float) -> tuple[float, FaultRule | None]:
        """The added latency (real seconds) and the fault, if any, for one request at `now`."""
        latency = 0.0
        fault: FaultRule | None = None
        for armed in self._armed:
            rule = armed.rule
            if fault is not None and rule.kind != "latency":
                continue
            if not (self._in_window(rule, now) and self._matches(rule.match, info)):
                continue
            if rule.first_n is not None and armed.matched >= rule.first_n:
                continue
            armed.matched += 1
            if rule.probability < 1.0 and armed.rng.random() >= rule.probability:
                continue
            self.injected[(str(rule.id), rule.kind)] += 1
            if rule.latency is not None:
                latency += _draw(rule.latency, armed.rng)
            else:
                fault = rule
        return latency, fault

    def _in_window(self, rule: FaultRule, now: float) -> bool:
        low, high = rule.window_from, rule.window_to
        if low is not None and now < low[0] + (self._clock_start if low[1] else 0.0):
            return False
        return high is None or now < high[0] + (self._clock_start if high[1] else 0.0)

    def _matches(self, match: FaultMatch, info: RequestInfo) -> bool:
        if (
            (match.method is not None and match.method != info.method)
            or (match.endpoint is not None and match.endpoint != info.endpoint)
            or (match.workspace_id is not None and match.workspace_id != info.workspace_id)
        ):
            return False
        if match.trigger_id is None:
            return True
        trigger = info.trigger_id
        if trigger is None and info.workflow_id is not None:
            trigger = self._trigger_of(info.workflow_id)
        return trigger == match.trigger_id


def _draw(latency: Latency, rng: random.Random) -> float:
    if latency.dist == "fixed":
        return latency.s
    if latency.dist == "uniform":
        return rng.uniform(latency.min_s, latency.max_s)
    median = max(latency.median_s, 1e-9)
    return min(latency.max_s, rng.lognormvariate(math.log(median), latency.sigma))


Sleep = Callable[[float], Awaitable[None]]


class FaultInjector:
    """ASGI middleware injecting the faults of `faults` into requests tagged `mock.request`.

    Args:
        app: the app behind it.
        faults: the rule set.
        now: the virtual clock's reading (windows).
        sleep: how latency and dribbling wait (real seconds).
    """

    def __init__(
        self,
        app: ASGIApp,
        faults: FaultSet,
        now: Callable[[], float],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.app = app
        self.faults = faults
        self.now = now
        self.sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        info: RequestInfo | None = scope.get("mock.request")
        if info is None or not self.faults.active:
            await self.app(scope, receive, send)
            return
        latency, rule = self.faults.decide(info, self.now())
        if latency > 0:
            await self.sleep(latency)
        if rule is None:
            await self.app(scope, receive, send)
            return
        scope["mock.fault"] = f"{rule.id}:{rule.kind}"
        if rule.kind == "dribble":
            await self._dribble(rule, scope, receive, send)
            return
        if rule.stage == "after":
            await self.app(scope, receive, _discard)
        if rule.kind == "error":
            await _send_error(send, rule)
        elif rule.kind == "hang":
            await _hang(scope, receive, rule.max_s)
        else:
            await drop_connection(scope, reset=rule.kind == "reset")

    async def _dribble(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        start = next(m for m in messages if m["type"] == "http.response.start")
        await send(start)
        step = rule.chunk_bytes
        for offset in range(0, len(body), step):
            if offset:
                await self.sleep(rule.interval_s)
            more = offset + step < len(body)
            chunk = body[offset : offset + step]
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not body:
            await send({"type": "http.response.body", "body": b""})


async def _discard(message: Message) -> None:
    """Swallow an answer the fault replaces."""


async def _send_error(send: Send, rule: FaultRule) -> None:
    if rule.status == 500:
        detail = f"Process query failed: injected fault {rule.id}"
    else:
        detail = _GATEWAY_DETAILS[rule.status]
    await send_json(send, rule.status, orjson.dumps({"detail": detail}))


def _transport(scope: Scope) -> Any:
    """The server connection's transport, when the server exposes it (uvicorn), else None."""
    cycle = getattr(scope.get("mock.raw_send"), "__self__", None)
    transport = getattr(cycle, "transport", None)
    return transport if hasattr(transport, "abort") else None


async def drop_connection(scope: Scope, *, reset: bool) -> None:
    """End the request with no answer: reset or close the connection (in process: raise).

    Args:
        scope: the request's scope (`mock.raw_send` is the server's own send).
        reset: send a TCP reset rather than a clean close.

    Raises:
        httpx.ReadError, httpx.RemoteProtocolError: in process, where no connection exists.
    """
    scope["mock.dropped"] = True
    transport = _transport(scope)
    if transport is None:
        if reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer (injected fault)")
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response (injected fault)"
        )
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let the server see the connection lost before the app returns (no 500 is sent then).
    await asyncio.sleep(0)


async def _hang(scope: Scope, receive: Receive, max_s: float) -> None:
    """Answer nothing until the client disconnects or `max_s` passes, then drop the connection."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_disconnect(), max_s)
    except TimeoutError:
        if _transport(scope) is None:
            scope["mock.dropped"] = True
            raise httpx.ReadTimeout("no answer (injected hang)") from None
    await drop_connection(scope, reset=False)
