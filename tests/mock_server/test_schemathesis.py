"""The mock survives its own medicine: schemathesis with all its checks against /openapi.json.

Schemathesis runs in a subprocess (its CLI) against the demo mock served in a thread on
127.0.0.1, with the demo workspace, trigger and key pinned so bodies reach validation, and a
small budget. A longer run: `schemathesis run http://127.0.0.1:8080/openapi.json --checks all
-H "Authorization: Bearer demo-key"` against `trigger-mock serve`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import create_app, serve_in_thread
from mock_server._config import demo_config

CONFIG = """\
[parameters]
"path.workspace_id" = "demo"
"path.trigger_id" = "quick-answer"
"""


@pytest.mark.socket
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    """Every schemathesis check (5xx, schema, status codes, auth, ...) passes on the mock."""
    config = demo_config()
    config = dataclasses.replace(config, mock=dataclasses.replace(config.mock, time_scale=1000.0))
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    cli = Path(sys.executable).with_name("schemathesis")
    with serve_in_thread(create_app(config)) as base_url:
        completed = subprocess.run(
            [
                str(cli),
                "--config-file",
                str(tmp_path / "schemathesis.toml"),
                "run",
                f"{base_url}/openapi.json",
                "--checks",
                "all",
                "--header",
                "Authorization: Bearer demo-key",
                "--max-examples",
                "10",
                "--max-time",
                "15",
                "--seed",
                "1",
                "--generation-database",
                "none",
                "--workers",
                "1",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    assert "4 selected / 4 total" in output
    assert "Coverage" in output
    assert "Fuzzing" in output
    assert " passed" in output
