"""The "right key on another workspace id" row compares with what the mock answers (issue 16).

Before, any 401 or 404 was "same" while the row's default column showed 404: a target answering
401 read "same" beside "404", and one answering 404 read "same" beside a mock that answers 401.
"""

from __future__ import annotations

import pytest

from harness._models import Endpoint, Exchange
from harness.suite.cases.auth import _other_workspace_note


def _status_answer(code: int) -> Exchange:
    return Exchange(
        endpoint=Endpoint.STATUS,
        method="GET",
        url="http://127.0.0.1/trigger/status/contract-ws-1/wf-1",
        request_headers={},
        request_body=b"",
        started_at=1.0,
        elapsed_s=0.01,
        status_code=code,
        response_headers={"content-type": "application/json"},
        response_body=b'{"detail": "Invalid authentication credentials"}',
    )


@pytest.mark.parametrize("endpoint", [Endpoint.SYNC, Endpoint.START, Endpoint.STATUS])
@pytest.mark.parametrize(("code", "same"), [(401, True), (404, False), (403, False)])
def test_same_only_when_the_answer_is_the_mocks(endpoint: Endpoint, code: int, same: bool) -> None:
    """The default column names 401 (the mock's answer on E1-E3) and `same` agrees with it."""
    note = _other_workspace_note(endpoint, _status_answer(code))
    assert note.mock_default.startswith("401")
    assert note.same is same
