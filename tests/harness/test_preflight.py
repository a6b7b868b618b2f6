"""Preflight: is `base_url` the trigger API, is the key accepted; never a run started."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
import pytest

from harness import AuthRejected, ConnectError, NotTriggerApi, Secret, Target, TargetUnavailable
from harness._client import TriggerClient
from harness._embedded import embedded_app, in_process_client, open_session
from harness._preflight import RETRY_DELAYS_S, preflight, preflight_target, reachable
from harness._targets import mock_target

KEY = "preflight-KEY-5e1d"
UNAUTHORIZED = {"detail": "Invalid authentication credentials"}
Handler = Callable[[httpx.Request], httpx.Response]


def _target(**fields: object) -> Target:
    base: dict[str, object] = {
        "name": "remote",
        "base_url": "http://127.0.0.1:9/api/v1/ai",
        "workspace_id": "ws-1",
        "environment": "DEV",
        "api_key": Secret(KEY),
        "api_key_env": "REMOTE_KEY",
    }
    return Target(**{**base, **fields})  # type: ignore[arg-type]


def _client(handler: Handler, **fields: object) -> TriggerClient:
    return TriggerClient(
        _target(**fields), http=httpx.Client(transport=httpx.MockTransport(handler))
    )


def _keyed(request: httpx.Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {KEY}"


def _api(unknown_workflow: httpx.Response) -> Handler:
    """A trigger API: 401 without the key on every API path, `unknown_workflow` on E3."""

    def handle(request: httpx.Request) -> httpx.Response:
        if "/trigger/" not in request.url.path:
            return httpx.Response(404, json={"detail": "Not Found"})
        if not _keyed(request):
            return httpx.Response(401, json=UNAUTHORIZED)
        return unknown_workflow

    return handle


def _generic_404(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, json={"detail": "Not Found"})


@pytest.fixture
def sleeps() -> list[float]:
    """The waits preflight asked for (recorded, never slept)."""
    return []


def test_the_embedded_mock_passes_and_no_run_starts() -> None:
    """On the embedded mock preflight passes (401 without the key) and starts no run."""
    with open_session(mock_target()) as session:
        found = preflight(session.client(), sleep=session.sleep)
        assert session.admin is not None
        assert session.admin.runs() == []
    assert found.anonymous.status_code == 401
    assert {found.keyed.method, found.anonymous.method} == {"GET"}
    assert preflight_target(mock_target()).keyed.status_code == 404


def test_a_base_url_without_the_gateway_prefix_is_not_the_trigger_api() -> None:
    """The mock under `/api/v1` (prefix cut short): every path is a generic 404 -> NotTriggerApi
    (exit 3), naming base_url and never the key."""
    with in_process_client(embedded_app()) as http:
        target = _target(base_url="http://testserver/api/v1", workspace_id="demo")
        target = dataclasses.replace(target, api_key=Secret("demo-key"))
        with pytest.raises(NotTriggerApi) as raised:
            preflight(TriggerClient(target, http=http), sleep=lambda s: None)
    message = str(raised.value)
    assert raised.value.exit_code == 3
    assert "'http://testserver/api/v1'" in message
    assert '{"detail": "Not Found"}' in message
    assert "demo-key" not in message


@pytest.mark.parametrize(
    "everywhere",
    [
        httpx.Response(200, html="<html><body>Welcome</body></html>"),
        httpx.Response(405, json={"detail": "Method Not Allowed"}),
        httpx.Response(301, headers={"Location": "https://elsewhere.example/"}),
    ],
    ids=["HTML page", "generic 405", "redirect"],
)
def test_the_same_answer_everywhere_is_not_the_trigger_api(everywhere: httpx.Response) -> None:
    """A site answering every path alike (an HTML page, a 405, a redirect) is NotTriggerApi."""
    with pytest.raises(NotTriggerApi, match="does not lead to the trigger API"):
        preflight(_client(lambda request: everywhere), sleep=lambda s: None)


def test_a_refused_key_names_its_variable_never_the_key() -> None:
    """A 401 to E3 with the key is AuthRejected (exit 3) naming REMOTE_KEY, not the key."""
    refuse_all = _api(httpx.Response(401, json=UNAUTHORIZED))
    with pytest.raises(AuthRejected) as raised:
        preflight(_client(refuse_all), sleep=lambda s: None)
    assert raised.value.exit_code == 3
    assert "REMOTE_KEY" in str(raised.value)
    assert KEY not in str(raised.value)


@pytest.mark.parametrize(
    "unknown_workflow",
    [
        httpx.Response(404, json={"detail": "Not Found"}),
        httpx.Response(400, json={"detail": "bad id"}),
        httpx.Response(403, json={"error": "forbidden"}),
        httpx.Response(404, text="no such run"),
    ],
    ids=["generic 404", "400", "403 without detail", "plain text"],
)
def test_any_answer_to_an_unknown_workflow_passes_when_401_without_key(
    unknown_workflow: httpx.Response,
) -> None:
    """A3 is open: whatever E3 says of an unknown run, a 401 without the key is the trigger API."""
    found = preflight(_client(_api(unknown_workflow)), sleep=lambda s: None)
    assert found.anonymous.status_code == 401
    assert found.elsewhere is None


def test_a_route_that_answers_unlike_no_route_is_left_to_the_suite() -> None:
    """Without 401 unauthenticated (an invariant-8 bug the suite reports), an E3 answer unlike the
    no-route answer still says the route exists: preflight passes."""

    def leaky(request: httpx.Request) -> httpx.Response:
        if "/trigger/status/" in request.url.path:
            return httpx.Response(404, json={"detail": "Workflow not found"})
        return httpx.Response(404, json={"detail": "Not Found"})

    found = preflight(_client(leaky), sleep=lambda s: None)
    assert found.elsewhere is not None


def test_a_gateway_refusing_every_anonymous_request_is_not_a_verdict() -> None:
    """401 to every anonymous request and a generic 404 with the key cannot be told apart from a
    trigger API with a generic A3 answer: preflight passes (no false exit 3)."""

    def gateway(request: httpx.Request) -> httpx.Response:
        if not _keyed(request):
            return httpx.Response(401, json=UNAUTHORIZED)
        return httpx.Response(404, json={"detail": "Not Found"})

    preflight(_client(gateway), sleep=lambda s: None)


def test_transient_5xx_is_retried_a_bounded_number_of_times(sleeps: list[float]) -> None:
    """Two 503s then the real answers: preflight passes after two waits."""
    answers = iter([httpx.Response(503), httpx.Response(503)])
    api = _api(httpx.Response(404, json={"detail": "Workflow not found"}))

    def flaky(request: httpx.Request) -> httpx.Response:
        answer = next(answers, None)
        return answer if answer is not None else api(request)

    preflight(_client(flaky), sleep=sleeps.append)
    assert sleeps == list(RETRY_DELAYS_S[:2])


def test_persistent_503_is_target_unavailable(sleeps: list[float]) -> None:
    """E3 answering 503 to every try is TargetUnavailable (exit 3), after len(delays)+1 tries."""
    calls: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503, text="Service Unavailable")

    with pytest.raises(TargetUnavailable, match="not available") as raised:
        preflight(_client(down), sleep=sleeps.append)
    assert not isinstance(raised.value, NotTriggerApi | AuthRejected)
    assert len(calls) == len(RETRY_DELAYS_S) + 1
    assert sleeps == list(RETRY_DELAYS_S)


def test_persistent_500_cannot_tell_and_leaves_the_verdict_to_the_suite() -> None:
    """A 500 to every request is no preflight failure (the suite reports it as a finding)."""
    preflight(_client(lambda request: httpx.Response(500)), sleep=lambda s: None)


def test_nothing_listening_is_a_connect_error_naming_base_url(sleeps: list[float]) -> None:
    """Connection refused twice is ConnectError (exit 3) naming base_url; one retry only."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ConnectError) as raised:
        preflight(_client(refuse), sleep=sleeps.append)
    assert "'http://127.0.0.1:9/api/v1/ai'" in str(raised.value)
    assert "could not connect" in str(raised.value)
    assert sleeps == [RETRY_DELAYS_S[0]]


def test_one_reset_connection_is_retried() -> None:
    """A single lost connection (flaky network) does not stop preflight."""
    lost: list[bool] = []
    api = _api(httpx.Response(404, json={"detail": "Workflow not found"}))

    def reset_once(request: httpx.Request) -> httpx.Response:
        if not lost:
            lost.append(True)
            raise httpx.ReadError("connection reset", request=request)
        return api(request)

    preflight(_client(reset_once), sleep=lambda s: None)


def test_reachable_is_true_for_any_answer_and_false_for_none(sleeps: list[float]) -> None:
    """`reachable` counts any HTTP answer; no answer to any of its tries means gone."""
    assert reachable(_client(lambda request: httpx.Response(500)), sleep=sleeps.append)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert not reachable(_client(refuse), sleep=sleeps.append)
    assert sleeps == list(RETRY_DELAYS_S)
