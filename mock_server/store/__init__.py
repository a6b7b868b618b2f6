"""The mock's state with no HTTP: `TriggerStore` and the records and errors it hands out."""

from __future__ import annotations

from ._exceptions import (
    JiraNotEnabled,
    NoBuild,
    NotWaitingForInput,
    StoreError,
    TriggerNotFound,
    TriggerPaused,
    WorkflowNotFound,
)
from ._keys import KeyScope
from ._runs import Run, Source
from ._sync import SyncLimit
from ._trigger_store import TriggerStore
from ._triggers import CronStatus, Triggers

__all__ = [
    "CronStatus",
    "JiraNotEnabled",
    "KeyScope",
    "NoBuild",
    "NotWaitingForInput",
    "Run",
    "Source",
    "StoreError",
    "SyncLimit",
    "TriggerNotFound",
    "TriggerPaused",
    "TriggerStore",
    "Triggers",
    "WorkflowNotFound",
]
