"""Sans-IO protocol of the trigger API: build requests, parse and classify answers, redact.

Both clients (sync and async) call these functions; nothing here does IO or reads a clock.
Everything that leaves this module for a hook, a history or an exception is redacted: the
values of credential headers and every occurrence of a known secret become `[REDACTED]`
(`harness._redact`, the one redactor).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote, urlsplit

from ._exceptions import (
    ApiError,
    AuthRejected,
    HarnessError,
    MalformedResponse,
    RateLimited,
    ServerError,
    TransportError,
    UsageError,
)
from ._headers import parse_retry_after
from ._json import JsonValueError, decode, encode
from ._models import Endpoint, Envelope, Exchange, LogEntry, Observation
from ._redact import SENSITIVE_HEADERS, Redactor
from ._targets import Secret, Target
from ._types import HeaderMap

__all__ = [
    "SYNC_SLACK_S",
    "AnswerMemo",
    "EnvelopeError",
    "Interpretation",
    "RequestSpec",
    "SentRequest",
    "Verdict",
    "build_jira",
    "build_raw",
    "build_start",
    "build_status",
    "build_sync",
    "decode_envelope",
    "endpoint_of_path",
    "interpret",
    "join_url",
    "make_exchange",
    "parse_envelope",
    "redact_request",
]

SYNC_SLACK_S: Final = 15.0
"""Network slack (seconds) on top of a documented limit (invariant 9): added to `sync_limit_s`
for E1's request timeout, and to `max_run_s` for the default deadline of following a run."""
_EXCERPT_CHARS: Final = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSpec:
    """One request to send: credential header values are `Secret`s, so repr never leaks them."""

    endpoint: Endpoint | None
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    secret_headers: Mapping[str, Secret] = field(default_factory=dict)
    timeout_s: float = 30.0

    def wire_headers(self) -> dict[str, str]:
        """All headers as sent, secrets revealed; hand these only to the transport."""
        return {**self.headers, **{k: v.reveal() for k, v in self.secret_headers.items()}}

    def wire_header_bytes(self) -> list[tuple[bytes, bytes]]:
        """`wire_headers()` as UTF-8 bytes, so any text can be sent (httpx sends `str` as ASCII).

        httpx reads header bytes back as ASCII, else UTF-8, so what is recorded is what was
        meant; characters a header may not hold (CR, LF, NUL) are refused by the transport.
        """
        return [
            (name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
            for name, value in self.wire_headers().items()
        ]

    def redacted(self, redactor: Redactor) -> RequestSpec:
        """This request as hooks may see it: no secret in headers, URL or body."""
        secret = {name: value.reveal() for name, value in self.secret_headers.items()}
        headers = redactor.redact_headers({**self.headers, **secret})
        return RequestSpec(
            endpoint=self.endpoint,
            method=self.method,
            url=redactor.redact_text(self.url),
            headers=headers,
            body=redactor.redact_bytes(self.body),
            timeout_s=self.timeout_s,
        )


def _segment(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{name}: must be a non-empty string, got {value!r}")
    encoded = quote(value, safe="")
    # "." and ".." would be removed by URL normalisation and change the path.
    return encoded.replace(".", "%2E") if set(value) == {"."} else encoded


def join_url(base_url: str, *segments: str | tuple[str, str]) -> str:
    """`base_url` + `/trigger/` + the segments: literals as given, `(name, id)` pairs encoded.

    Works for both prefixes (`https://host` and `https://host/api/v1/ai`) and a trailing `/`;
    an id holding `/`, `?`, `#` or dots stays one segment.
    """
    path = "/".join(s if isinstance(s, str) else _segment(*s) for s in segments)
    return f"{base_url.rstrip('/')}/trigger/{path}"


def _auth(target: Target) -> dict[str, Secret]:
    if target.api_key is None:
        return {}
    return {"Authorization": Secret(f"Bearer {target.api_key.reveal()}")}


def _run_body(message: str, user_variables: Mapping[str, Any] | None) -> bytes:
    """The E1/E2 body in the one number model (`_json.encode`): exact integers, no NaN."""
    if not isinstance(message, str):
        raise UsageError(f"message: must be a string, got {message!r}")
    if user_variables is not None and not isinstance(user_variables, Mapping):
        raise UsageError(f"user_variables: must be a mapping, got {user_variables!r}")
    body = {"message": message, "user_variables": dict(user_variables or {})}
    try:
        return encode(body, root="body")
    except JsonValueError as exc:
        raise UsageError(f"{exc}; a target cannot receive it") from None


def _trigger_url(
    target: Target,
    literals: tuple[str, ...],
    trigger_id: str | None,
    default_field: str,
    environment: str | None,
) -> str:
    trigger = trigger_id if trigger_id is not None else getattr(target, default_field)
    if trigger is None:
        raise UsageError(
            f"trigger_id: none given and target {target.name!r} sets no {default_field}"
        )
    return join_url(
        target.base_url,
        *literals,
        ("workspace_id", target.workspace_id),
        ("trigger_id", trigger),
        ("environment", environment or target.environment),
    )


_JSON_HEADERS: Final = {"Content-Type": "application/json", "Accept": "application/json"}


def build_sync(
    target: Target,
    trigger_id: str | None = None,
    *,
    message: str = "",
    user_variables: Mapping[str, Any] | None = None,
    environment: str | None = None,
) -> RequestSpec:
    """E1: run a flow synchronously (timeout: the sync limit plus network slack)."""
    return RequestSpec(
        endpoint=Endpoint.SYNC,
        method="POST",
        url=_trigger_url(target, (), trigger_id, "sync_trigger", environment),
        headers=_JSON_HEADERS,
        body=_run_body(message, user_variables),
        secret_headers=_auth(target),
        timeout_s=target.sync_limit_s + SYNC_SLACK_S,
    )


def build_start(
    target: Target,
    trigger_id: str | None = None,
    *,
    message: str = "",
    user_variables: Mapping[str, Any] | None = None,
    environment: str | None = None,
) -> RequestSpec:
    """E2: start a flow in the background."""
    return RequestSpec(
        endpoint=Endpoint.START,
        method="POST",
        url=_trigger_url(target, ("start",), trigger_id, "background_trigger", environment),
        headers=_JSON_HEADERS,
        body=_run_body(message, user_variables),
        secret_headers=_auth(target),
        timeout_s=target.timeout_s,
    )


def build_status(target: Target, workflow_id: str) -> RequestSpec:
    """E3: the status of a background run (no environment segment)."""
    url = join_url(
        target.base_url,
        "status",
        ("workspace_id", target.workspace_id),
        ("workflow_id", workflow_id),
    )
    return RequestSpec(
        endpoint=Endpoint.STATUS,
        method="GET",
        url=url,
        headers={"Accept": "application/json"},
        secret_headers=_auth(target),
        timeout_s=target.timeout_s,
    )


def build_jira(
    target: Target,
    body: bytes,
    *,
    signature: str | None,
    trigger_id: str | None = None,
    environment: str | None = None,
) -> RequestSpec:
    """E4: deliver a Jira webhook; `signature` is the whole `X-Hub-Signature` value (or none)."""
    secret = {} if signature is None else {"X-Hub-Signature": Secret(signature)}
    return RequestSpec(
        endpoint=Endpoint.JIRA,
        method="POST",
        url=_trigger_url(target, ("jira", "start"), trigger_id, "jira_trigger", environment),
        headers=_JSON_HEADERS,
        body=bytes(body),
        secret_headers=secret,
        timeout_s=target.timeout_s,
    )


def endpoint_of_path(path: str) -> Endpoint | None:
    """Which documented endpoint a request path addresses, by its shape after `/trigger/`.

    `/trigger/status/ws/id` is E3, `/trigger/start/ws/t/env` E2, `/trigger/jira/start/ws/t/env`
    E4 and `/trigger/ws/t/env` E1; anything else (or any other number of segments) is None.
    """
    segments = urlsplit(path).path.strip("/").split("/")
    if "trigger" not in segments:
        return None
    rest = segments[segments.index("trigger") + 1 :]
    shapes = {
        ("status", 3): Endpoint.STATUS,
        ("start", 4): Endpoint.START,
        ("jira", 5): Endpoint.JIRA,
    }
    if rest and (endpoint := shapes.get((rest[0], len(rest)))) is not None:
        return endpoint
    return Endpoint.SYNC if len(rest) == 3 else None


def build_raw(
    target: Target,
    method: str,
    path: str,
    *,
    headers: HeaderMap | None = None,
    content: bytes = b"",
    auth: bool | str = True,
) -> RequestSpec:
    """Any request, for negative tests: `path` is joined to `base_url` unless it is a full URL.

    `auth=True` adds the target's key, `False` sends no Authorization header, and a string is
    sent as the exact Authorization value (an explicit `Authorization` in `headers` wins).
    """
    url = path if urlsplit(path).scheme else f"{target.base_url.rstrip('/')}/{path.lstrip('/')}"
    plain = {k: v for k, v in (headers or {}).items() if k.lower() not in SENSITIVE_HEADERS}
    secret = {k: Secret(v) for k, v in (headers or {}).items() if k.lower() in SENSITIVE_HEADERS}
    if not any(k.lower() == "authorization" for k in secret):
        if isinstance(auth, str):
            secret["Authorization"] = Secret(auth)
        elif auth:
            secret.update(_auth(target))
    return RequestSpec(
        endpoint=endpoint_of_path(url),
        method=method.upper(),
        url=url,
        headers=plain,
        body=bytes(content),
        secret_headers=secret,
        timeout_s=target.timeout_s,
    )


@dataclass(frozen=True, slots=True)
class SentRequest:
    """The request half of an `Exchange`, redacted: URL, headers as sent, body."""

    url: str
    headers: Mapping[str, str]
    body: bytes


def redact_request(
    spec: RequestSpec, redactor: Redactor, sent_headers: Iterable[tuple[str, str]] | None = None
) -> SentRequest:
    """What an exchange records of `spec`: its URL, headers (`sent_headers`, default the
    spec's own `wire_headers()`) and body, redacted."""
    sent = spec.wire_headers().items() if sent_headers is None else sent_headers
    return SentRequest(
        url=redactor.redact_text(spec.url),
        headers=redactor.redact_headers(sent),
        body=redactor.redact_bytes(spec.body),
    )


class AnswerMemo:
    """What one client reuses from its previous answer: redacted headers, the parsed envelope.

    A flow polls one run, and consecutive answers often repeat the headers (same second, same
    length) and the body (still pending, same logs). Equal input gives the value computed for
    it last time, so nothing differs from computing it again.
    """

    __slots__ = ("_body", "_envelope", "_headers", "_redacted")

    def __init__(self) -> None:
        self._headers: tuple[tuple[str, str], ...] | None = None
        self._redacted: dict[str, str] = {}
        self._body: bytes | None = None
        self._envelope: Envelope | None = None

    def redact_headers(
        self, redactor: Redactor, headers: Iterable[tuple[str, str]]
    ) -> Mapping[str, str]:
        """`redactor.redact_headers(headers)`, reused while the headers repeat."""
        key = tuple(headers)
        if key != self._headers:
            self._redacted = redactor.redact_headers(key)
            self._headers = key
        return self._redacted

    def envelope(self, exchange: Exchange) -> Envelope:
        """The envelope of a 2xx answer (`EnvelopeError` if none), reused while the body repeats."""
        body = exchange.response_body
        if body != self._body or self._envelope is None:
            self._envelope = _envelope_of(exchange)
            self._body = body
        return self._envelope


def make_exchange(
    spec: RequestSpec,
    redactor: Redactor,
    *,
    sent_headers: Iterable[tuple[str, str]] | None = None,
    sent: SentRequest | None = None,
    memo: AnswerMemo | None = None,
    started_at: float,
    elapsed_s: float,
    status_code: int | None = None,
    response_headers: Iterable[tuple[str, str]] = (),
    response_body: bytes = b"",
    error: str | None = None,
) -> Exchange:
    """A redacted `Exchange` from what was sent and what (if anything) came back.

    `sent` is the request half already redacted (`redact_request`), which a client reuses
    for every poll of one spec; without it, `spec` and `sent_headers` are redacted here.
    `memo` reuses the redacted response headers of the previous answer when they repeat.
    """
    request = sent if sent is not None else redact_request(spec, redactor, sent_headers)
    return Exchange(
        endpoint=spec.endpoint,
        method=spec.method,
        url=request.url,
        request_headers=request.headers,
        request_body=request.body,
        started_at=started_at,
        elapsed_s=elapsed_s,
        status_code=status_code,
        response_headers=(
            memo.redact_headers(redactor, response_headers)
            if memo is not None
            else redactor.redact_headers(response_headers)
        ),
        response_body=redactor.redact_bytes(response_body),
        error=None if error is None else redactor.redact_text(error),
    )


class EnvelopeError(ValueError):
    """An answer is not a valid envelope; `field` names the offending field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise EnvelopeError(f"{where}{key}", "missing field")
    value = obj[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        expected = (
            kind.__name__
            if isinstance(kind, type)
            else " or ".join("null" if k is type(None) else k.__name__ for k in kind)
        )
        raise EnvelopeError(f"{where}{key}", f"expected {expected}, got {_type_name(value)}")
    return value


_LOG_FIELDS: Final = ("time", "level", "node_id", "message", "status", "user_logs_type")


def parse_envelope(obj: object) -> Envelope:
    """The six-field envelope in `obj` (decoded JSON); raises `EnvelopeError` naming the field."""
    if not isinstance(obj, dict):
        raise EnvelopeError("body", f"expected a JSON object, got {_type_name(obj)}")
    logs: list[LogEntry] = []
    for index, entry in enumerate(_require(obj, "logs", list, "")):
        where = f"logs[{index}]"
        if not isinstance(entry, dict):
            raise EnvelopeError(where, f"expected object, got {_type_name(entry)}")
        fields = {key: _require(entry, key, str, f"{where}.") for key in _LOG_FIELDS}
        logs.append(LogEntry(**fields))
    return Envelope(
        workflow_id=_require(obj, "workflow_id", str, ""),
        response=_require(obj, "response", dict, ""),
        status=_require(obj, "status", str, ""),
        logs=tuple(logs),
        requires_input=_require(obj, "requires_input", bool, ""),
        error=_require(obj, "error", (str, type(None)), ""),
    )


def decode_envelope(body: bytes) -> Envelope:
    """The envelope in a JSON body (`_json.decode`: exact integers); raises `EnvelopeError`."""
    try:
        obj = decode(body)
    except ValueError as exc:
        raise EnvelopeError("body", f"not JSON ({exc})") from None
    return parse_envelope(obj)


def _envelope_of(exchange: Exchange) -> Envelope:
    """`decode_envelope` of the body, through the exchange's one decode (`Exchange.json`) that
    the checks share; a body that is not JSON (or is `null`) is read again for the error."""
    decoded = exchange.json()
    return (
        parse_envelope(decoded) if decoded is not None else decode_envelope(exchange.response_body)
    )


class Verdict(StrEnum):
    """What an answer means for the caller."""

    SUCCESS = "success"
    RETRYABLE = "retryable"
    AUTH_REJECTED = "auth_rejected"
    CLIENT_ERROR = "client_error"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interpretation:
    """An exchange interpreted: its observation, verdict, Retry-After and the error it means."""

    observation: Observation
    verdict: Verdict
    retry_after_s: float | None = None
    error: HarnessError | None = None


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def interpret(
    exchange: Exchange,
    *,
    now_epoch: float,
    transport_error: TransportError | None = None,
    memo: AnswerMemo | None = None,
) -> Interpretation:
    """Classify an exchange: success, retryable (no answer, 5xx, 429), 401, malformed, other.

    Args:
        exchange: the redacted exchange.
        now_epoch: wall-clock seconds, to read a `Retry-After` HTTP-date (`_headers`).
        transport_error: the mapped error when no answer came.
        memo: reuses the envelope of the previous 2xx answer when the body repeats.
    """
    code = exchange.status_code
    if transport_error is not None or code is None:
        lost = transport_error or TransportError(exchange.error or "no answer", exchange=exchange)
        return Interpretation(
            observation=Observation(exchange=exchange, envelope=None),
            verdict=Verdict.RETRYABLE,
            error=lost,
        )
    where = f"{exchange.method} {exchange.url}"
    if 200 <= code < 300:
        try:
            envelope = memo.envelope(exchange) if memo is not None else _envelope_of(exchange)
        except EnvelopeError as exc:
            malformed = MalformedResponse(
                f"{where} answered {code} with an invalid envelope: {exc}",
                status_code=code,
                exchange=exchange,
            )
            observation = Observation(exchange=exchange, envelope=None)
            return Interpretation(
                observation=observation, verdict=Verdict.MALFORMED, error=malformed
            )
        return Interpretation(
            observation=Observation(exchange=exchange, envelope=envelope), verdict=Verdict.SUCCESS
        )
    return _error_outcome(exchange, code, where, now_epoch)


def _error_outcome(exchange: Exchange, code: int, where: str, now_epoch: float) -> Interpretation:
    observation = Observation(exchange=exchange, envelope=None)
    message = f"{where} answered {code}: {_excerpt(exchange.response_body)}"
    headers = {k.lower(): v for k, v in exchange.response_headers.items()}
    retry_after = parse_retry_after(headers.get("retry-after"), now_epoch=now_epoch)
    if code == 401:
        return Interpretation(
            observation=observation,
            verdict=Verdict.AUTH_REJECTED,
            error=AuthRejected(f"{where} refused the key (401)", exchange=exchange),
        )
    if code == 429:
        error: ApiError = RateLimited(
            message, status_code=code, exchange=exchange, retry_after_s=retry_after
        )
        return Interpretation(
            observation=observation,
            verdict=Verdict.RETRYABLE,
            retry_after_s=retry_after,
            error=error,
        )
    if code >= 500:
        error = ServerError(message, status_code=code, exchange=exchange)
        return Interpretation(
            observation=observation,
            verdict=Verdict.RETRYABLE,
            retry_after_s=retry_after,
            error=error,
        )
    error = ApiError(message, status_code=code, exchange=exchange)
    return Interpretation(observation=observation, verdict=Verdict.CLIENT_ERROR, error=error)
