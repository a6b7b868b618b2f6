"""A4 in the dialect: what a valid key gets on a workspace that is not its own.

`unknown_workspace_status` answers a key naming a workspace that does not exist,
`foreign_workspace_status` one naming another existing workspace; both default to the 401 of
every auth failure. A token that is no key at all stays 401 whatever the dialect says, on E2
and E3 alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server import ConfigError, parse_dialect
from tests.fixtures.mock import AUTH

MakeClient = Callable[..., TestClient]
_RUN = "0d4f7a4e-0000-4000-8000-000000000000"
_BODY = {"message": "hi", "user_variables": {}}


def _client(make_client: MakeClient, **keys: Any) -> TestClient:
    return make_client(dialect=parse_dialect(keys), time_scale=1000.0)


def _e3(client: TestClient, workspace: str, headers: dict[str, str] = AUTH) -> Any:
    return client.get(f"/trigger/status/{workspace}/{_RUN}", headers=headers)


def _e2(client: TestClient, workspace: str, headers: dict[str, str] = AUTH) -> Any:
    return client.post(f"/trigger/start/{workspace}/quick-answer/DEV", json=_BODY, headers=headers)


@pytest.mark.parametrize("code", [403, 404])
def test_a_key_on_an_unknown_workspace_gets_the_dialects_code(
    make_client: MakeClient, code: int
) -> None:
    client = _client(make_client, unknown_workspace_status=code)
    for answer in (_e3(client, "no-such-workspace"), _e2(client, "no-such-workspace")):
        assert answer.status_code == code
        assert "www-authenticate" not in answer.headers
        assert isinstance(answer.json()["detail"], str)
    assert _e3(client, "sandbox").status_code == 401  # an existing workspace: foreign, 401


def test_a_key_on_another_existing_workspace_gets_the_foreign_code(
    make_client: MakeClient,
) -> None:
    client = _client(make_client, foreign_workspace_status=403)
    assert _e3(client, "sandbox").status_code == 403
    assert _e2(client, "sandbox").status_code == 403
    assert _e3(client, "no-such-workspace").status_code == 401


def test_a_token_that_is_no_key_stays_401(make_client: MakeClient) -> None:
    client = _client(make_client, unknown_workspace_status=404, foreign_workspace_status=404)
    wrong = {"Authorization": "Bearer not-a-key"}
    for answer in (
        _e3(client, "sandbox", wrong),
        _e2(client, "nowhere", wrong),
        _e3(client, "x", {}),
    ):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"


def test_the_default_is_401_everywhere(make_client: MakeClient) -> None:
    client = _client(make_client)
    assert [_e3(client, "sandbox").status_code, _e2(client, "nowhere").status_code] == [401, 401]
    assert _e3(client, "demo").status_code == 404  # the key's own workspace: the run is unknown


@pytest.mark.parametrize("key", ["unknown_workspace_status", "foreign_workspace_status"])
def test_the_codes_are_validated(key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}: must be one of 401, 403, 404, got 400"):
        parse_dialect({key: 400})


def test_the_admin_api_shows_and_sets_them(make_client: MakeClient) -> None:
    client = _client(make_client)
    assert client.get("/__admin/dialect").json()["unknown_workspace_status"] == 401
    changed = client.post("/__admin/dialect", json={"unknown_workspace_status": 404})
    assert changed.json()["unknown_workspace_status"] == 404
    assert _e3(client, "nowhere").status_code == 404
