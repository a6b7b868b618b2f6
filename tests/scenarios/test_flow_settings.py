"""The flag contract through Locust's own parser: what the harness writes, a locustfile reads.

Locust is imported only in a subprocess (it gevent-patches the process on import), which parses
the harness's arguments with `locust.argument_parser.get_parser()` after importing the locustfile
glue, exactly as `locust -f scenarios/background.py ...` does.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness._targets import mock_target
from harness.load import PROJECT_ROOT, LoadSettings, parse_candidates

pytestmark = pytest.mark.load

PARSE = """
import itertools, json, os, random, sys
import scenarios._harness_user  # declares the flow options, as every locustfile does
from locust.argument_parser import get_parser
from harness.load import FlowSettings
parsed = get_parser().parse_args(["-f", "scenarios/background.py", *sys.argv[1:]])
flow = FlowSettings.from_options(parsed, host=parsed.host, environ=os.environ)
print(json.dumps({
    "arguments": flow.to_arguments(),
    "host": flow.host,
    "key_read": flow.api_key is not None and flow.api_key.reveal() == os.environ["THE_KEY"],
    "delays": list(itertools.islice(flow.strategy().delays(random.Random(11)), 4)),
}))
"""


def test_locust_reads_back_what_load_writes_and_polls_like_size_polling(tmp_path: Path) -> None:
    """Locust's parser gives back the harness's settings, the key from its variable, and the
    `fixed_jittered:5` schedule size-polling measures."""
    settings = LoadSettings(scenario="background", poll_strategy="fixed_jittered", poll_interval=5)
    target = dataclasses.replace(mock_target(), api_key_env="THE_KEY")
    flow = settings.flow_for(target, host="http://127.0.0.1:9", mock_admin=True)
    env = flow.to_environ({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT)})
    done = subprocess.run(
        [sys.executable, "-c", PARSE, "--host", "http://127.0.0.1:9", *flow.to_arguments()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert tuple(seen["arguments"]) == flow.to_arguments()
    assert seen["host"] == "http://127.0.0.1:9"
    assert seen["key_read"] is True
    [candidate] = parse_candidates("fixed_jittered:5")
    expected = list(itertools.islice(candidate.build().delays(random.Random(11)), 4))
    assert seen["delays"] == expected
    assert 5.0 < expected[0] <= 10.0
