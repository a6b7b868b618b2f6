"""`async_trigger_client` under each async runner a suite may use: pytest-asyncio (strict and
auto mode), anyio, and plain `asyncio.run`.

Each inner run awaits flows in several tests, each in its own event loop, on the one session
mock, with a sync `trigger_client` test between them.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
_FLOWS = """
async def test_sync_flow(async_trigger_client):
    observation = await async_trigger_client.run_sync(user_variables={"k": 1})
    assert observation.envelope.status == "completed"
    assert observation.envelope.response["k"] == 1

def test_between(trigger_client):
    assert trigger_client.start().status_code == 200

async def test_background_flow(async_trigger_client):
    history = await async_trigger_client.start_and_wait()
    assert history.final.status in {"completed", "failed", "waiting_for_input"}
"""


def _flows(header: str, marker: str = "") -> str:
    """The flows module with `header` on top and `marker` before each async test."""
    body = _FLOWS.replace("async def", f"{marker}async def")
    return header + body


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_pytest_asyncio(pytester: pytest.Pytester, mode: str) -> None:
    """pytest-asyncio: marked tests in strict mode, unmarked ones in auto mode."""
    pytester.makeini(f"{_INI}asyncio_mode = {mode}\n")
    marker = "@pytest.mark.asyncio\n" if mode == "strict" else ""
    pytester.makepyfile(_flows("import pytest\n", marker))
    result = pytester.runpytest("-p", "no:anyio", "-W", "error")
    result.assert_outcomes(passed=3)


def test_anyio(pytester: pytest.Pytester) -> None:
    """anyio's plugin on its asyncio backend (pytest-asyncio present, strict, leaves them be)."""
    pytester.makeini(f"{_INI}asyncio_mode = strict\n")
    header = (
        "import pytest\n\npytestmark = pytest.mark.anyio\n\n"
        "@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n"
    )
    pytester.makepyfile(_flows(header))
    result = pytester.runpytest("-W", "error")
    result.assert_outcomes(passed=3)


def test_asyncio_run(pytester: pytest.Pytester) -> None:
    """No async runner at all: a sync test drives the client with `asyncio.run`."""
    pytester.makepyfile(
        """
        import asyncio

        def test_sync_flow(async_trigger_client):
            observation = asyncio.run(async_trigger_client.run_sync())
            assert observation.envelope.status == "completed"
        """
    )
    result = pytester.runpytest("-p", "no:asyncio", "-p", "no:anyio", "-W", "error")
    result.assert_outcomes(passed=1)
