"""Fault rules: what the mock injects, where and when, and the three presets (frozen values).

A rule (JSON for the admin API, `[[faults]]` in the config file)::

    {"id": "e3-500", "kind": "error",
     "match": {"method": "GET", "endpoint": "E3", "workspace_id": "demo", "trigger_id": "t"},
     "probability": 0.1, "first_n": 20, "window": {"from": 0, "to": "2026-06-10T01:00:00Z"},
     "params": {"status": 500}}

Kinds and their `params`:

- `latency`: `{"dist": "fixed", "s": x}`, `{"dist": "uniform", "min_s", "max_s"}` or
  `{"dist": "lognormal", "median_s", "sigma", "max_s"}` (the cap is required). Real seconds:
  the time scale never shrinks it (a degraded endpoint is slow for its real callers).
- `error`: `{"status": 500|502|503|504, "stage": "before"|"after"}`; a 500 carries the vendor's
  `{"detail": "Process query failed: ..."}`. `after` lets the request run (a start does start a
  run) and replaces its answer.
- `reset`, `empty_reply`: `{"stage": "before"|"after"}`: the connection is reset, or closed with
  no answer.
- `hang`: `{"max_s": 60}`: no answer until the client gives up (at most `max_s` real seconds).
- `dribble`: `{"chunk_bytes": 16, "interval_s": 0.2}`: the answer's body in small, slow chunks.

A rule fires on a matching request inside its window (virtual time: ISO times, or numbers of
seconds after the clock's start), among the first `first_n` matching requests when set, with
`probability` (default 1). Every key is checked before anything is stored, against documented
maxima: ids and match strings at most `MAX_ID_CHARS` characters, window instants within the
clock's range (1970 to 9000) and offsets up to `MAX_DURATION_S`, delays (latency, `hang`,
dribble interval) up to `MAX_REAL_DELAY_S` real seconds, `sigma` up to `MAX_SIGMA`,
`chunk_bytes` up to `MAX_CHUNK_BYTES`; errors name the key path and the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ._clock import MAX_TIMESTAMP, MIN_TIMESTAMP
from ._validate import (
    MAX_DURATION_S,
    MAX_REAL_DELAY_S,
    MAX_SIGMA,
    ConfigError,
    Where,
    choice,
    integer,
    number,
    required,
    string,
    table,
)

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "MAX_CHUNK_BYTES",
    "MAX_FIRST_N",
    "MAX_ID_CHARS",
    "PRESETS",
    "FaultMatch",
    "FaultRule",
    "Latency",
    "Preset",
    "parse_fault_rule",
    "parse_fault_rules",
    "preset",
]

FaultKind = Literal["latency", "error", "reset", "empty_reply", "hang", "dribble"]
FAULT_KINDS: tuple[str, ...] = ("latency", "error", "reset", "empty_reply", "hang", "dribble")
ENDPOINTS: tuple[str, ...] = ("E1", "E2", "E3", "E4")
MAX_ID_CHARS = 64
"""The longest rule id or match string."""
MAX_CHUNK_BYTES = 1 << 20
"""The largest dribble chunk."""
MAX_FIRST_N = 1 << 62
"""The largest `first_n`."""
_METHODS = ("GET", "POST")
_ERROR_STATUSES = (500, 502, 503, 504)
_STAGES = ("before", "after")
_PARAM_KEYS: dict[str, tuple[str, ...]] = {
    "latency": ("dist", "s", "min_s", "max_s", "median_s", "sigma"),
    "error": ("status", "stage"),
    "reset": ("stage",),
    "empty_reply": ("stage",),
    "hang": ("max_s",),
    "dribble": ("chunk_bytes", "interval_s"),
}
_LATENCY_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("s",),
    "uniform": ("min_s", "max_s"),
    "lognormal": ("median_s", "sigma", "max_s"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultMatch:
    """Which requests a rule applies to; None matches anything."""

    method: str | None = None
    endpoint: str | None = None
    workspace_id: str | None = None
    trigger_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Latency:
    """An added delay in real seconds: fixed `s`, uniform, or lognormal capped at `max_s`."""

    dist: Literal["fixed", "uniform", "lognormal"]
    s: float = 0.0
    min_s: float = 0.0
    max_s: float = 0.0
    median_s: float = 0.0
    sigma: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One fault rule; `window_from`/`window_to` are `(seconds, is_offset)` pairs or None."""

    id: str | None = None
    kind: FaultKind
    match: FaultMatch = FaultMatch()
    probability: float = 1.0
    first_n: int | None = None
    window_from: tuple[float, bool] | None = None
    window_to: tuple[float, bool] | None = None
    latency: Latency | None = None
    status: int = 500
    stage: Literal["before", "after"] = "before"
    max_s: float = 60.0
    chunk_bytes: int = 16
    interval_s: float = 0.2

    def to_json(self) -> dict[str, Any]:
        """The rule as the admin API shows it (the schema it was given in)."""
        match = {k: v for k, v in _match_items(self.match) if v is not None}
        window = {
            key: bound[0] if bound[1] else _iso(bound[0])
            for key, bound in (("from", self.window_from), ("to", self.window_to))
            if bound is not None
        }
        return {
            "id": self.id,
            "kind": self.kind,
            "match": match,
            "probability": self.probability,
            "first_n": self.first_n,
            "window": window or None,
            "params": self.params(),
        }

    def params(self) -> dict[str, Any]:
        """The kind's parameters, defaults filled in."""
        if self.latency is not None:
            keys = _LATENCY_KEYS[self.latency.dist]
            return {"dist": self.latency.dist} | {k: getattr(self.latency, k) for k in keys}
        if self.kind == "error":
            return {"status": self.status, "stage": self.stage}
        if self.kind in ("reset", "empty_reply"):
            return {"stage": self.stage}
        if self.kind == "hang":
            return {"max_s": self.max_s}
        return {"chunk_bytes": self.chunk_bytes, "interval_s": self.interval_s}


def _match_items(match: FaultMatch) -> tuple[tuple[str, str | None], ...]:
    return (
        ("method", match.method),
        ("endpoint", match.endpoint),
        ("workspace_id", match.workspace_id),
        ("trigger_id", match.trigger_id),
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _parse_match(value: object, where: Where) -> FaultMatch:
    items = table(value, where, ("method", "endpoint", "workspace_id", "trigger_id"))
    values: dict[str, str] = {}
    for key, item in items.items():
        if key == "method":
            values[key] = choice(item, where / key, _METHODS)
        elif key == "endpoint":
            values[key] = choice(item, where / key, ENDPOINTS)
        else:
            values[key] = _short_string(item, where / key)
    return FaultMatch(**values)


def _short_string(value: object, where: Where) -> str:
    text = string(value, where)
    if len(text) > MAX_ID_CHARS:
        raise where.fail(f"must be at most {MAX_ID_CHARS} characters", value)
    return text


def _bound(value: object, where: Where) -> tuple[float, bool]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, where, minimum=0, inclusive=True, maximum=MAX_DURATION_S), True
    moment: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise where.fail(
            "must be seconds after the clock's start or an ISO 8601 time with a zone", value
        )
    try:
        instant = moment.timestamp()
    except (OverflowError, ValueError):
        instant = -1.0
    if not MIN_TIMESTAMP <= instant <= MAX_TIMESTAMP:
        raise where.fail("must be between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z", value)
    return instant, False


def _parse_window(value: object, where: Where) -> tuple[tuple[float, bool] | None, ...]:
    items = table(value, where, ("from", "to"))
    low = _bound(items["from"], where / "from") if "from" in items else None
    high = _bound(items["to"], where / "to") if "to" in items else None
    if low is not None and high is not None and low[1] == high[1] and high[0] <= low[0]:
        raise (where / "to").fail("must be after window.from", items["to"])
    return low, high


def _parse_latency(items: dict[str, Any], where: Where) -> Latency:
    dist = choice(required(items, "dist", where), where / "dist", tuple(_LATENCY_KEYS))
    allowed = ("dist", *_LATENCY_KEYS[dist])
    for key in items:
        if key not in allowed:
            raise (where / key).fail(f"unknown key for dist {dist} (allowed: {', '.join(allowed)})")
    values = {
        key: number(
            required(items, key, where),
            where / key,
            minimum=0,
            inclusive=True,
            maximum=MAX_SIGMA if key == "sigma" else MAX_REAL_DELAY_S,
        )
        for key in _LATENCY_KEYS[dist]
    }
    if dist == "uniform" and values["max_s"] < values["min_s"]:
        raise (where / "max_s").fail("must be >= min_s", values["max_s"])
    return Latency(dist=dist, **values)  # type: ignore[arg-type]


def _kind_values(kind: str, items: dict[str, Any], where: Where) -> dict[str, Any]:
    if kind == "latency":
        return {"latency": _parse_latency(items, where)}
    values: dict[str, Any] = {}
    if "stage" in items:
        values["stage"] = choice(items["stage"], where / "stage", _STAGES)
    if kind == "error":
        status = required(items, "status", where)
        if status not in _ERROR_STATUSES or isinstance(status, bool):
            raise (where / "status").fail("must be one of 500, 502, 503, 504", status)
        values["status"] = int(status)
    elif kind == "hang" and "max_s" in items:
        values["max_s"] = number(
            items["max_s"], where / "max_s", minimum=0, maximum=MAX_REAL_DELAY_S
        )
    elif kind == "dribble":
        if "chunk_bytes" in items:
            values["chunk_bytes"] = integer(
                items["chunk_bytes"], where / "chunk_bytes", minimum=1, maximum=MAX_CHUNK_BYTES
            )
        if "interval_s" in items:
            values["interval_s"] = number(
                items["interval_s"],
                where / "interval_s",
                minimum=0,
                inclusive=True,
                maximum=MAX_REAL_DELAY_S,
            )
    return values


def parse_fault_rule(value: object, where: Where) -> FaultRule:
    """Validate one rule (a JSON object or TOML table).

    Args:
        value: the rule as parsed from JSON or TOML.
        where: the key path of the rule, for error messages.

    Raises:
        ConfigError: naming the bad key and its value.
    """
    keys = ("id", "kind", "match", "probability", "first_n", "window", "params")
    items = table(value, where, keys)
    kind = choice(required(items, "kind", where), where / "kind", FAULT_KINDS)
    values: dict[str, Any] = {"kind": kind}
    if "id" in items:
        values["id"] = _short_string(items["id"], where / "id")
    if "match" in items:
        values["match"] = _parse_match(items["match"], where / "match")
    if "probability" in items:
        probability = number(items["probability"], where / "probability", minimum=0)
        if probability > 1:
            raise (where / "probability").fail("must be a probability in (0, 1]", probability)
        values["probability"] = probability
    if "first_n" in items:
        values["first_n"] = integer(
            items["first_n"], where / "first_n", minimum=1, maximum=MAX_FIRST_N
        )
    if "window" in items:
        values["window_from"], values["window_to"] = _parse_window(
            items["window"], where / "window"
        )
    params = items.get("params", {})
    at = where / "params"
    params = table(params, at, _PARAM_KEYS[kind])
    if kind == "latency" and not params:
        raise (at / "dist").fail("is required", show=False)
    values.update(_kind_values(kind, params, at))
    return FaultRule(**values)


def parse_fault_rules(value: object, where: Where) -> tuple[FaultRule, ...]:
    """Validate a list of rules (`[[faults]]`); ids, when given, must be unique.

    Raises:
        ConfigError: naming the bad rule's key and value.
    """
    if not isinstance(value, list):
        raise where.fail("must be an array of tables", value)
    rules = tuple(parse_fault_rule(item, where / i) for i, item in enumerate(value))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id is not None:
            if rule.id in seen:
                raise (where / i / "id").fail("duplicate fault rule id", rule.id)
            seen.add(rule.id)
    return rules


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """A named scenario: its fault rules and capacity limits (None: no limit)."""

    name: str
    description: str
    rules: tuple[FaultRule, ...] = ()
    status_rate_per_s: float | None = None
    max_background_runs: int | None = None


_E3 = FaultMatch(endpoint="E3")
PRESETS: dict[str, Preset] = {
    "flaky": Preset(
        name="flaky",
        description="~12.5% of E3 answers are 500/502 and ~1% of E3 connections are reset",
        rules=(
            FaultRule(id="flaky-e3-reset", kind="reset", match=_E3, probability=0.01),
            FaultRule(id="flaky-e3-500", kind="error", match=_E3, probability=0.08, status=500),
            FaultRule(id="flaky-e3-502", kind="error", match=_E3, probability=0.05, status=502),
        ),
    ),
    "degraded": Preset(
        name="degraded",
        description="every endpoint: +lognormal latency (median 0.8 s, sigma 0.5, cap 5 s); 2% 500",
        rules=(
            FaultRule(
                id="degraded-latency",
                kind="latency",
                latency=Latency(dist="lognormal", median_s=0.8, sigma=0.5, max_s=5.0),
            ),
            FaultRule(id="degraded-500", kind="error", probability=0.02, status=500),
        ),
    ),
    "overloaded": Preset(
        name="overloaded",
        description="per workspace: 20 status requests/s and 50 concurrent background runs; "
        "beyond them 429 with Retry-After in whole seconds",
        status_rate_per_s=20.0,
        max_background_runs=50,
    ),
}


def preset(name: str | None) -> Preset | None:
    """The preset called `name` (None: none).

    Raises:
        ConfigError: an unknown name.
    """
    if name is None:
        return None
    if name not in PRESETS:
        raise ConfigError(f"scenario: must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]
