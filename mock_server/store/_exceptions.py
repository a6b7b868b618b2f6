"""What the store refuses, as exceptions carrying their HTTP answer.

StoreError (400)
├── TriggerNotFound (404 "Trigger not found")
│   └── JiraNotEnabled (404, same body: E4 does not exist for the trigger)
├── TriggerPaused (409)
├── NoBuild (409, names the environment)
├── WorkflowNotFound (404 "Workflow not found")
└── NotWaitingForInput (409)
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "JiraNotEnabled",
    "NoBuild",
    "NotWaitingForInput",
    "StoreError",
    "TriggerNotFound",
    "TriggerPaused",
    "WorkflowNotFound",
]


class StoreError(Exception):
    """A request the store refuses; `status_code` and `detail` are the HTTP answer.

    Args:
        detail: the `detail` of the answer; the class's `default_detail` when None.
    """

    status_code: ClassVar[int] = 400
    default_detail: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        super().__init__(self.detail)


class TriggerNotFound(StoreError):
    """Unknown workspace or trigger (404)."""

    status_code: ClassVar[int] = 404
    default_detail: ClassVar[str] = "Trigger not found"


class JiraNotEnabled(TriggerNotFound):
    """The trigger has no Jira secret, so E4 does not exist for it (404, same body)."""


class TriggerPaused(StoreError):
    """The trigger is paused (409)."""

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "Trigger is paused"


class NoBuild(StoreError):
    """The trigger has no build in the requested environment (409).

    Args:
        environment: the environment of the path, named in the detail.
    """

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "No build is deployed to this environment"

    def __init__(self, environment: str) -> None:
        super().__init__(f"No build is deployed to environment {environment}")
        self.environment = environment


class WorkflowNotFound(StoreError):
    """Unknown or expired workflow id (404)."""

    status_code: ClassVar[int] = 404
    default_detail: ClassVar[str] = "Workflow not found"


class NotWaitingForInput(StoreError):
    """Input was given to a run that is not `waiting_for_input` (409)."""

    status_code: ClassVar[int] = 409
    default_detail: ClassVar[str] = "Workflow is not waiting for input"
