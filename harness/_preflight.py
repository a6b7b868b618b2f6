"""Preflight: before a command talks to a target, does `base_url` lead to the trigger API, and
is the key accepted?

Three GET requests, none of which can start a run (E3 only reads):

    keyed       E3 for a workflow id nobody started, with the key
    anonymous   the same E3 without a key
    elsewhere   a path under `base_url` that cannot be an API route (not under /trigger/), with
                the key; asked only when the first two do not settle the question

Each is re-sent while its answer is transient (no answer, 5xx, 429), a bounded number of times
(`RETRY_DELAYS_S`, target seconds; a lost connection only once). Then, in order:

1. keyed got no answer: the target cannot be reached -> the `TransportError` (exit 3).
2. keyed 401: the key is refused (a 401 is what the docs give for a missing or invalid key)
   -> `AuthRejected` (exit 3), naming the key's environment variable, never the key.
3. keyed still 502/503/504 (RFC 9110 §15.6.3-5: the server or a gateway says it cannot serve
   now) -> `TargetUnavailable` (exit 3).
4. keyed a valid envelope, or anonymous 401 (invariant 8: the trigger API refuses a request
   without a key with 401): the trigger API is there.
5. keyed and anonymous both answer exactly like the path that is no route (same code, same
   JSON once ids and times are masked, or both not JSON: the framework's generic
   `{"detail": "Not Found"}`, a 405, an HTML page, a redirect) -> `NotTriggerApi` (exit 3).
6. anything else: the answers differ from "no route", so a route is there; the suite judges
   whatever is wrong with them (a 500 to an unknown workflow is a finding, not a preflight
   failure). Persistent 500s and 429s are "could not tell" and never stop a command.

What an unknown workflow gets (A3) is open, so its text is never compared with anything
fixed: a correct API choosing any 4xx text passes, because it answers 401 without a key.

`reachable` is the mid-run question: after a case or question lost its connection, does the
target still answer at all? The suite and the probe stop with "became unreachable" when not.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Final

from ._client import TriggerClient
from ._embedded import DEFAULT_TIME_SCALE, open_session
from ._exceptions import AuthRejected, NotTriggerApi, TargetUnavailable, TransportError
from ._models import Exchange
from ._protocol import EnvelopeError, decode_envelope, join_url
from ._targets import Target, shown_url
from ._types import Sleep

__all__ = [
    "RETRY_DELAYS_S",
    "Preflight",
    "answer_text",
    "became_unreachable",
    "preflight",
    "preflight_target",
    "reachable",
]

RETRY_DELAYS_S: Final = (0.5, 1.0, 2.0)
"""Waits (target seconds) before re-sending a preflight request whose answer was transient."""
_UNAVAILABLE: Final = frozenset({502, 503, 504})
_DATE_LIKE: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_SHOWN_CHARS: Final = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class Preflight:
    """The answers preflight judged by (redacted); `elsewhere` is None when it was not asked."""

    keyed: Exchange
    anonymous: Exchange
    elsewhere: Exchange | None = None


def _transient(exchange: Exchange) -> bool:
    code = exchange.status_code
    return code is None or code == 429 or code >= 500


def _ask(client: TriggerClient, path: str, *, auth: bool, sleep: Sleep) -> Exchange:
    """GET `path`, re-sent while the answer is transient; a lost connection is re-sent once.

    Raises:
        TransportError: no answer came to the last try, or to two tries.
    """
    lost_once = False
    for delay in RETRY_DELAYS_S:
        try:
            exchange = client.request("GET", path, auth=auth)
        except TransportError:
            if lost_once:
                raise
            lost_once = True
        else:
            if not _transient(exchange):
                return exchange
        sleep(delay)
    return client.request("GET", path, auth=auth)


def _where(target: Target) -> str:
    return f"target {target.name!r} at base_url {shown_url(target.base_url)}"


def _refused(target: Target, keyed: Exchange) -> AuthRejected:
    said = f"{keyed.method} {keyed.url} answered 401"
    if target.api_key is None:
        message = f"{_where(target)} requires a key and the target names no api_key_env: {said}"
    else:
        variable = target.api_key_env
        source = f" (environment variable {variable})" if variable is not None else ""
        message = (
            f"{_where(target)} refused the configured key{source} for workspace "
            f"{target.workspace_id!r}: {said}"
        )
    return AuthRejected(message, exchange=keyed)


def answer_text(exchange: Exchange) -> str:
    """`HTTP 404 {"detail": "Not Found"}`, `HTTP 200 (an HTML page)` or `no answer`: what a
    target said, display-safe (JSON re-encoded as ASCII, at most 120 characters)."""
    if exchange.status_code is None:
        return "no answer"
    body = exchange.json()
    if body is None:
        kind = _media_type(exchange) or "no content type"
        shown = "an HTML page" if kind == "text/html" else f"a body that is not JSON ({kind})"
        return f"HTTP {exchange.status_code} ({shown})"
    text = _ascii_json(body)
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return f"HTTP {exchange.status_code} {text}"


def _ascii_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def _media_type(exchange: Exchange) -> str | None:
    for key, value in exchange.response_headers.items():
        if key.lower() == "content-type":
            media = value.split(";", 1)[0].strip().lower()
            return media if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", media) else "odd"
    return None


def _masked(value: Any, markers: tuple[str, ...]) -> Any:
    """`value` with strings naming a request's own ids (echoed paths) or times replaced."""
    if isinstance(value, dict):
        return {key: _masked(item, markers) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, markers) for item in value]
    if isinstance(value, str) and (
        any(marker in value for marker in markers) or _DATE_LIKE.match(value)
    ):
        return "<masked>"
    return value


def _shape(exchange: Exchange, markers: tuple[str, ...]) -> tuple[Any, ...]:
    """What tells one answer from another, ids and times aside: code and body (or its kind)."""
    body = exchange.json()
    if body is None:
        return (exchange.status_code, "not JSON", _media_type(exchange))
    return (exchange.status_code, "JSON", _masked(body, markers))


def _is_envelope(exchange: Exchange) -> bool:
    code = exchange.status_code
    if code is None or not 200 <= code < 300:
        return False
    try:
        decode_envelope(exchange.response_body)
    except EnvelopeError:
        return False
    return True


def preflight(client: TriggerClient, *, sleep: Sleep) -> Preflight:
    """Ask whether `client.target` is the trigger API and accepts the key (module docstring).

    Starts no run. Messages name `base_url` and the key's variable, never the key.

    Args:
        client: a client for the target.
        sleep: how to wait between tries (target seconds: the session's sleep).

    Raises:
        TransportError: the target could not be reached (exit 3).
        AuthRejected: the key was refused (401 to E3 with the key; exit 3).
        TargetUnavailable: E3 kept answering 502, 503 or 504 (exit 3).
        NotTriggerApi: `base_url` answers like a path that is no route (exit 3).
    """
    target = client.target
    marker = f"harness-preflight-{uuid.uuid4()}"
    status_path = join_url(target.base_url, "status", ("w", target.workspace_id), ("id", marker))
    try:
        keyed = _ask(client, status_path, auth=True, sleep=sleep)
    except TransportError as lost:
        message = f"{_where(target)} could not be reached: {lost}"
        raise type(lost)(message, exchange=lost.exchange) from lost
    code = keyed.status_code
    if code == 401:
        raise _refused(target, keyed)
    if code in _UNAVAILABLE:
        raise TargetUnavailable(
            f"{_where(target)} is not available: {keyed.method} {keyed.url} answered "
            f"{answer_text(keyed)} {len(RETRY_DELAYS_S) + 1} times"
        )
    anonymous = _recorded(client, status_path, auth=False, sleep=sleep)
    found = Preflight(keyed=keyed, anonymous=anonymous)
    if _is_envelope(keyed) or anonymous.status_code == 401:
        return found
    if _transient(keyed) or _transient(anonymous):
        return found
    elsewhere_path = f"{target.base_url.rstrip('/')}/{marker}-no-route"
    elsewhere = _recorded(client, elsewhere_path, auth=True, sleep=sleep)
    found = Preflight(keyed=keyed, anonymous=anonymous, elsewhere=elsewhere)
    markers = (marker,)
    if _transient(elsewhere) or not (
        _shape(keyed, markers) == _shape(elsewhere, markers) == _shape(anonymous, markers)
    ):
        return found
    raise NotTriggerApi(
        f"{_where(target)} does not lead to the trigger API: {keyed.method} {keyed.url} "
        f"answers {answer_text(keyed)} with the key and without it, just like a path under "
        "base_url that is no API route; the trigger API answers 401 to a request without "
        "a key (invariant 8). Check base_url: everything before /trigger/..., e.g. "
        "https://app.phinite.ai/api/v1/ai"
    )


def _recorded(client: TriggerClient, path: str, *, auth: bool, sleep: Sleep) -> Exchange:
    """`_ask`, with a lost answer kept as an exchange without a status (could not tell)."""
    try:
        return _ask(client, path, auth=auth, sleep=sleep)
    except TransportError as lost:
        if lost.exchange is None:
            raise
        return lost.exchange


def reachable(client: TriggerClient, *, sleep: Sleep) -> bool:
    """Whether the target still answers anything to an E3 request (any HTTP code counts).

    Tried `len(RETRY_DELAYS_S) + 1` times, `RETRY_DELAYS_S` apart (target seconds): a single
    lost connection is not a dead target.

    Args:
        client: a client for the target.
        sleep: how to wait between tries.
    """
    target = client.target
    alive = ("id", f"harness-alive-{uuid.uuid4()}")
    path = join_url(target.base_url, "status", ("w", target.workspace_id), alive)
    for delay in (*RETRY_DELAYS_S, None):
        try:
            client.request("GET", path)
        except TransportError:
            if delay is None:
                return False
            sleep(delay)
        else:
            return True
    return False


def became_unreachable(target: Target, done: int, what: str, cause: str) -> TargetUnavailable:
    """The error that stops a command whose target stopped answering part-way (exit 3).

    Args:
        target: the target.
        done: how many cases or questions had ended before.
        what: `case` or `question` (made plural as `done` needs).
        cause: the last transport error's (redacted) text.
    """
    counted = f"{done} {what}" + ("" if done == 1 else "s")
    return TargetUnavailable(
        f"{_where(target)} became unreachable after {counted}: {cause}; "
        "nothing after that point was judged"
    )


def preflight_target(target: Target, *, time_scale: float = DEFAULT_TIME_SCALE) -> Preflight:
    """Open a short session on `target` and run `preflight` on it (what commands call first).

    On the embedded mock this asks a fresh in-process mock: cheap, and it must pass.

    Args:
        target: a selected target (secrets read).
        time_scale: embedded only: the mock's virtual seconds per real second.

    Raises:
        TargetUnavailable: as `preflight` (unreachable, refused key, not the trigger API).
    """
    with open_session(target, time_scale=time_scale) as session:
        return preflight(session.client(), sleep=session.sleep)
