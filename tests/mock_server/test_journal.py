"""The request journal: bounded, filterable, counted; as a unit and inside the app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from mock_server._journal import (
    ENTRY_OVERHEAD_BYTES,
    MAX_FIELD_CHARS,
    MAX_PATH_CHARS,
    RequestJournal,
)
from tests.fixtures.mock import AUTH


def fill(journal: RequestJournal, count: int) -> None:
    """Record `count` requests alternating GET/POST with increasing times."""
    for i in range(count):
        journal.record(
            virtual_time=1_800_000_000.0 + i,
            real_time=float(i),
            method="GET" if i % 2 else "POST",
            path=f"/trigger/status/demo/run-{i}" if i % 2 else "/trigger/start/demo/t/DEV",
            status_code=200,
            workflow_id=f"run-{i}",
            workspace_id="demo",
            latency_s=0.001,
        )


def test_journal_keeps_only_the_newest_entries() -> None:
    """Past its limit the journal drops the oldest entries."""
    journal = RequestJournal(3)
    fill(journal, 10)
    assert len(journal) == 3
    assert [entry["workflow_id"] for entry in journal.query()] == ["run-7", "run-8", "run-9"]


def test_journal_filters_and_counts() -> None:
    """Filters on method (any case), path prefix and workflow_id combine; count agrees."""
    journal = RequestJournal(100)
    fill(journal, 10)
    assert journal.count() == 10
    assert journal.count(method="get") == 5
    assert journal.count(path_prefix="/trigger/start/") == 5
    assert journal.count(workflow_id="run-3") == 1
    assert journal.count(method="POST", workflow_id="run-3") == 0
    assert [e["workflow_id"] for e in journal.query(method="GET", limit=2)] == ["run-7", "run-9"]
    assert journal.query(limit=0) == []


def test_journal_entry_fields() -> None:
    """An entry shows virtual time as ISO 8601 and every recorded field."""
    journal = RequestJournal(5)
    fill(journal, 1)
    assert journal.query() == [
        {
            "time": "2027-01-15T08:00:00+00:00",
            "virtual_time": journal.query()[0]["virtual_time"],
            "real_time": 0.0,
            "method": "POST",
            "path": "/trigger/start/demo/t/DEV",
            "endpoint": None,
            "status_code": 200,
            "workflow_id": "run-0",
            "workspace_id": "demo",
            "run_status": None,
            "retry_after": None,
            "fault": None,
            "latency_s": 0.001,
            "client_disconnected": False,
            "truncated": None,
        }
    ]


def test_clear_and_bad_limit() -> None:
    """clear() forgets everything; a negative limit is refused."""
    journal = RequestJournal(5)
    fill(journal, 4)
    journal.clear()
    assert journal.count() == 0
    with pytest.raises(ValueError, match="limit"):
        RequestJournal(-1)


def test_app_journal_respects_journal_limit(make_client: Callable[..., TestClient]) -> None:
    """The app keeps only `journal_limit` requests, the newest ones."""
    client = make_client(journal_limit=3)
    for i in range(6):
        client.get(f"/trigger/status/demo/id-{i}", headers=AUTH)
    entries = client.get("/__admin/requests").json()["requests"]
    assert [entry["workflow_id"] for entry in entries] == ["id-3", "id-4", "id-5"]
    assert client.get("/__admin/requests/count").json() == {"count": 3}


def test_unknown_paths_are_journaled_but_admin_calls_are_not(mock_client: TestClient) -> None:
    """A 404 on an unknown path is recorded; admin calls never are."""
    mock_client.get("/nope")
    mock_client.get("/__admin/health")
    entries = mock_client.get("/__admin/requests").json()["requests"]
    assert [(e["path"], e["status_code"]) for e in entries] == [("/nope", 404)]


LONG = "x" * 65_536


def test_long_paths_and_ids_are_cut_and_the_cut_recorded() -> None:
    """A 64 KB path (and the ids read from it) is kept cut, with the original lengths."""
    journal = RequestJournal(10)
    journal.record(
        virtual_time=0.0,
        real_time=0.0,
        method="G" * 200,
        path="/trigger/status/" + LONG,
        status_code=401,
        workflow_id=LONG,
        workspace_id=LONG,
        latency_s=0.0,
    )
    (entry,) = journal.query()
    assert len(entry["path"]) == MAX_PATH_CHARS
    assert entry["path"].startswith("/trigger/status/xxx")
    assert len(entry["workflow_id"]) == len(entry["workspace_id"]) == MAX_FIELD_CHARS
    assert len(entry["method"]) == MAX_FIELD_CHARS
    assert entry["truncated"] == {
        "method": 200,
        "path": 16 + 65_536,
        "workflow_id": 65_536,
        "workspace_id": 65_536,
    }


def test_journal_is_bounded_in_bytes() -> None:
    """Past its byte budget the journal drops the oldest entries, whatever its count limit."""
    budget = 100 * (ENTRY_OVERHEAD_BYTES + MAX_PATH_CHARS)
    journal = RequestJournal(1_000_000, max_bytes=budget)
    for i in range(11_000):
        journal.record(
            virtual_time=float(i),
            real_time=0.0,
            method="GET",
            path=f"/{i}/" + LONG,
            status_code=401,
            workflow_id=None,
            workspace_id=None,
            latency_s=0.0,
        )
    assert journal.size_bytes <= budget
    assert 90 <= len(journal) <= 100
    assert journal.query(limit=1)[0]["path"].startswith("/10999/")
    journal.clear()
    assert (len(journal), journal.size_bytes) == (0, 0)


def test_count_bound_keeps_the_byte_estimate_exact() -> None:
    """Entries dropped by the count limit are taken off the byte estimate too."""
    journal = RequestJournal(3)
    fill(journal, 10)
    sizes = [
        ENTRY_OVERHEAD_BYTES + len(e["path"]) + len(e["workflow_id"]) + len(e["workspace_id"])
        for e in journal.query()
    ]
    assert journal.size_bytes == sum(sizes)


def test_long_paths_over_the_app_are_journaled_cut(make_client: Callable[..., TestClient]) -> None:
    """Unauthenticated 64 KB-path requests are answered 401 and journaled cut."""
    client = make_client(journal_max_bytes=1 << 16)
    for _ in range(50):
        assert client.get("/trigger/status/demo/" + LONG[:60_000]).status_code == 401
    answer = client.get("/__admin/requests", params={"limit": "10000"})
    assert len(answer.content) < 2 << 16  # the budget, plus the JSON field names
    entries = answer.json()["requests"]
    assert entries
    assert all(e["truncated"]["workflow_id"] == 60_000 for e in entries)
    assert all(len(e["path"]) == MAX_PATH_CHARS for e in entries)
