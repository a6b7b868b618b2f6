"""The command line a user would type passes: `schemathesis run <mock>/openapi.json -H
'Authorization: Bearer demo-key'` against `trigger-mock serve`, stateful phase included.

The mock is the installed `trigger-mock serve` on a free loopback port (a fast virtual clock,
so E1's flows end in milliseconds); Schemathesis runs as its CLI with only a smaller example
budget added, in an empty folder. Its output must show every phase passing, the E2 -> E3 link
followed, no failure, and warnings only about E4: Jira deliveries are signed, and the document
holds no signature (a secret), so a tool's E4 calls get A12's refusal.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.served_mock import BIN
from tests.fixtures.served_mock import served_mock as serve

pytestmark = pytest.mark.socket


@pytest.fixture
def served_mock(tmp_path: Path) -> Iterator[str]:
    """The demo world served by `trigger-mock serve` at time scale 1000; its base URL."""
    with serve(tmp_path, time_scale=1000) as base_url:
        yield base_url


def test_schemathesis_run_passes_with_its_stateful_phase(served_mock: str, tmp_path: Path) -> None:
    """Examples, coverage, fuzzing and stateful phases pass; no warning, no issue."""
    completed = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{served_mock}/openapi.json",
            "-H",
            "Authorization: Bearer demo-key",
            "--max-examples",
            "20",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-4000:]
    assert "API Links:    1 covered / 1 selected / 1 total" in output
    assert "FAILURES" not in output
    warned = [line.strip() for line in output.splitlines() if line.startswith("  - ")]
    assert warned, output[-4000:]
    assert all(line.startswith("- POST /trigger/jira/start/") for line in warned), warned
    assert "Stateful: not applicable" not in output
