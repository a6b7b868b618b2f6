"""Mock-only cases hold wherever the mock's clock happens to be: a run of the `run` job that
started at 11:59:55 crossed the hour and failed two cases on a correct mock (a cron tick was
counted as "a refused request started a run", and the day of cron ticks lost its first run to
A9's 24 h retention). Both must pass with the clock just before an hour.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from harness._embedded import open_session
from harness._targets import mock_target
from harness.report import Outcome
from harness.suite import run_suite, suite_context
from mock_server import create_app, demo_config

BEFORE_THE_HOUR = datetime(2026, 12, 1, 11, 59, 55, tzinfo=UTC)


def _world_before_the_hour() -> object:
    config = demo_config()
    settings = dataclasses.replace(config.mock, start=BEFORE_THE_HOUR, time_scale=50.0)
    return create_app(dataclasses.replace(config, mock=settings))


def test_cron_and_refusal_cases_pass_with_the_clock_just_before_an_hour() -> None:
    """`mock.cron_24h` and the refused-start cases pass when an hourly tick falls inside them."""
    with open_session(mock_target(), app=_world_before_the_hour(), time_scale=50.0) as session:
        ctx = suite_context(session)
        outcome = run_suite(
            ctx, emit=lambda event: None, select=["mock.cron_24h", "auth.empty_token"]
        )
    outcomes = {case.case_id: case.outcome for case in outcome.cases}
    assert outcomes
    assert set(outcomes.values()) == {Outcome.PASSED}, outcomes
