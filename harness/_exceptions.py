"""The harness's one exception hierarchy; every error a user can see is one of these.

    HarnessError (Exception)          root of the errors; `exit_code` is the CLI's exit code
    ├── UsageError                    bad flag or argument (exit 2)
    │   ├── ConfigError               bad targets/config file or value, missing env var (exit 2)
    │   └── ProductionGuardError      a production target without --allow-production (exit 2)
    ├── TargetUnavailable             the target could not be reached or refused the key (exit 3)
    │   ├── TransportError            no answer: connection refused/reset, timeout
    │   │   ├── ConnectError
    │   │   ├── RequestTimeout
    │   │   └── OutcomeUnknown        a POST whose answer never came: the run may or may not exist
    │   ├── AuthRejected              401 on a request sent with the configured key
    │   └── NotTriggerApi             `base_url` does not lead to the trigger API (generic
    │                                 404/405 or HTML on every endpoint)
    ├── ApiError                      an HTTP answer that is not what the call needed
    │   │                             (carries `status_code`, `exchange`)
    │   ├── RateLimited               429 (carries `retry_after_s`)
    │   ├── ServerError               5xx
    │   └── MalformedResponse         2xx whose body is not a valid envelope
    ├── PollTimeout                   a run still not final at the deadline (carries `workflow_id`,
    │                                 `attempts`, `elapsed_s`, `history`)
    ├── ContractViolation             an invariant broken (also an AssertionError, exit 1;
    │                                 carries `title`, `message`, `severity`, `evidence`)
    └── CannotJudge                   the harness itself could not judge (exit 4): a hypothesis
                                      health check or flaky strategy, an internal error

    Interrupted (BaseException)       stopped by SIGINT (exit 130); the report says `interrupted`
    └── Terminated                    stopped by SIGTERM or SIGHUP (exit 143)

`Interrupted` is not an `Exception` (nor a `HarnessError`), like `KeyboardInterrupt`: no
`except Exception` or `except HarnessError` of a case, a check, a retry or a fuzz loop can
swallow a stop; only the command's edge (`cli/_main.py`, `cli/_edge.py` `report_run`) catches
it, to write the report with the verdict `interrupted` and exit 130/143. Catch it explicitly
(`except (HarnessError, Interrupted)`) where its `exit_code` is wanted.

Messages never hold an API key, a Jira secret or an admin token: exchanges are redacted
before they are attached.

INTERFACE: the class names and attributes above are fixed. `_transport.py` maps httpx
exceptions into this tree in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ._models import Exchange, RunHistory

__all__ = [
    "ApiError",
    "AuthRejected",
    "CannotJudge",
    "ConfigError",
    "ConnectError",
    "ContractViolation",
    "HarnessError",
    "Interrupted",
    "MalformedResponse",
    "NotTriggerApi",
    "OutcomeUnknown",
    "PollTimeout",
    "ProductionGuardError",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "TargetUnavailable",
    "Terminated",
    "TransportError",
    "UsageError",
]


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code: ClassVar[int] = 1


class UsageError(HarnessError):
    """A flag, argument or option is wrong; the message names it."""

    exit_code: ClassVar[int] = 2


class ConfigError(UsageError):
    """A targets or config file, key or value is invalid, or a named env var is missing."""


class ProductionGuardError(UsageError):
    """A command that starts runs or sends load was aimed at a production target."""


class TargetUnavailable(HarnessError):
    """The target could not be reached, or refused the configured key."""

    exit_code: ClassVar[int] = 3


class TransportError(TargetUnavailable):
    """No HTTP answer came (connection refused or reset, timeout)."""

    def __init__(self, message: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange


class ConnectError(TransportError):
    """The connection could not be made or was reset."""


class RequestTimeout(TransportError):
    """The answer did not come in time."""


class OutcomeUnknown(TransportError):
    """A POST got no answer, so whether it started a run is unknown; it was not retried."""


class AuthRejected(TargetUnavailable):
    """The target answered 401 to a request carrying the configured key."""

    def __init__(self, message: str, *, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.exchange = exchange


class NotTriggerApi(TargetUnavailable):
    """`base_url` answers, but not as the trigger API does: generic 404/405 or HTML everywhere."""


class ApiError(HarnessError):
    """An HTTP answer that is not what the call needed."""

    def __init__(self, message: str, *, status_code: int | None, exchange: Exchange) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.exchange = exchange


class RateLimited(ApiError):
    """A 429; `retry_after_s` is the parsed `Retry-After`, None when absent or unparsable."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        exchange: Exchange,
        retry_after_s: float | None,
    ) -> None:
        super().__init__(message, status_code=status_code, exchange=exchange)
        self.retry_after_s = retry_after_s


class ServerError(ApiError):
    """A 5xx answer."""


class MalformedResponse(ApiError):
    """A 2xx answer whose body is not a valid envelope; the message names the field."""


class PollTimeout(HarnessError):
    """A run was still not final when the deadline passed."""

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str,
        attempts: int,
        elapsed_s: float,
        history: RunHistory | None = None,
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.history = history


class ContractViolation(HarnessError, AssertionError):
    """An invariant of the API was broken; `evidence` holds the redacted exchanges."""

    def __init__(
        self,
        title: str,
        message: str,
        *,
        severity: str = "high",
        evidence: tuple[Exchange, ...] = (),
    ) -> None:
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.severity = severity
        self.evidence = evidence


class CannotJudge(HarnessError):
    """The harness could not reach a verdict: a hypothesis health check or flaky strategy, an
    internal error. Said plainly, never reported as a finding (exit 4)."""

    exit_code: ClassVar[int] = 4


class Interrupted(BaseException):
    """The run was stopped by SIGINT (Ctrl-C); what it did so far is reported (exit 130).

    A `BaseException`, as `KeyboardInterrupt` is, so `except Exception` never swallows it.
    """

    exit_code: ClassVar[int] = 130


class Terminated(Interrupted):
    """The run was stopped by SIGTERM or SIGHUP (a CI cancel, `timeout`); exit 143."""

    exit_code: ClassVar[int] = 143
