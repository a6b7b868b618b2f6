"""The probe asks the open questions and compares the answers with the mock's defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from harness import TriggerClient, mock_target
from harness.suite._probe import ProbeAnswer, probe_target
from mock_server import MockConfig, create_app, demo_config


def _config(**mock_changes: object) -> MockConfig:
    config = demo_config()
    return dataclasses.replace(
        config, mock=dataclasses.replace(config.mock, time_scale=1000.0, **mock_changes)
    )


@pytest.fixture
def client() -> Iterator[TriggerClient]:
    with TestClient(create_app(_config())) as http:
        yield TriggerClient(mock_target(), http=http)


def _by_id(answers: list[ProbeAnswer]) -> dict[str, ProbeAnswer]:
    return {answer.question_id: answer for answer in answers}


def test_the_mock_answers_every_question_as_its_defaults_say(client: TriggerClient) -> None:
    """Against the mock's defaults every asked question is answered 'same'."""
    answers = _by_id(probe_target(client, slow_trigger="slow-sync"))
    assert set(answers) == {"A1", "A3", "A4", "A5", "A6", "A7", "A8", "A14", "A15"}
    different = {qid: a.observed for qid, a in answers.items() if a.same is not True}
    assert different == {}
    assert "504" in answers["A1"].observed


def test_a1_is_not_asked_without_a_slow_trigger(client: TriggerClient) -> None:
    """Without a trigger known to outlast the sync limit, A1 is reported as not asked."""
    answers = _by_id(probe_target(client))
    assert answers["A1"].same is None
    assert answers["A1"].observed.startswith("not asked")


def test_a_different_sync_policy_is_reported_as_different() -> None:
    """A mock answering 200 failed past the sync limit is 'different' on A1, not an error."""
    with TestClient(create_app(_config(sync_timeout_policy="failed"))) as http:
        answers = _by_id(
            probe_target(TriggerClient(mock_target(), http=http), slow_trigger="slow-sync")
        )
    assert answers["A1"].same is False
    assert "failed" in answers["A1"].observed


def test_a_rate_limited_target_is_reported_on_a8() -> None:
    """A per-workspace rate limit shows as a 429 with its Retry-After on A8."""
    with TestClient(create_app(_config(rate_limit_per_s=5.0))) as http:
        answers = _by_id(probe_target(TriggerClient(mock_target(), http=http)))
    assert answers["A8"].same is False
    assert "429" in answers["A8"].observed


def test_a_target_accepting_lower_case_environments_is_different_on_a5() -> None:
    """A gateway that upper-cases the environment makes A5 'different'."""

    def upper_case_environment(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Trigger not found"})

    http = httpx.Client(transport=httpx.MockTransport(upper_case_environment))
    client = TriggerClient(dataclasses.replace(mock_target(), background_trigger=None), http=http)
    answers = _by_id(probe_target(client))
    assert answers["A5"].same is False
    assert "accepted" in answers["A5"].observed
    assert answers["A6"].same is None


def test_no_answer_shows_the_key(client: TriggerClient) -> None:
    """Nothing in the probe's rows repeats the key."""
    answers = probe_target(client, slow_trigger="slow-sync")
    text = repr(answers)
    assert "demo-key" not in text
