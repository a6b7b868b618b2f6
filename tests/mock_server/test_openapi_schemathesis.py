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
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.socket

_BIN = Path(sys.executable).parent


@pytest.fixture
def served_mock(tmp_path: Path) -> Iterator[str]:
    """`trigger-mock serve --port 0` (the demo world, time scale 1000); yields its base URL."""
    command = [str(_BIN / "trigger-mock"), "serve", "--port", "0", "--time-scale", "1000"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            assert server.stdout is not None
            first_line = server.stdout.readline()
            assert first_line.startswith("serving http://127.0.0.1:"), first_line
            yield first_line.split()[1]
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_schemathesis_run_passes_with_its_stateful_phase(served_mock: str, tmp_path: Path) -> None:
    """Examples, coverage, fuzzing and stateful phases pass; no warning, no issue."""
    completed = subprocess.run(
        [
            str(_BIN / "schemathesis"),
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
