"""The ready-made deployment (`deploy/`): the YAML parses, and its commands are ones the project
and Locust accept: the locustfiles exist, every flag is Locust's own or a flow option
(`FLOW_OPTIONS`), the workers dial the master's service and port, as many workers run as the
master expects, and the key reaches only the workers, from a secret or their environment.

Locust's own flags are read from `locust --help` in a subprocess (importing locust here would
gevent-patch the test process)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.load import FLOW_OPTIONS, PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
KEY_ENV = "TRIGGER_HARNESS_API_KEY"
FLOW_FLAGS = frozenset(option.flag for option in FLOW_OPTIONS)


@pytest.fixture(scope="module")
def locust_flags() -> frozenset[str]:
    """Every long option `locust --help` lists."""
    locust = Path(sys.executable).parent / "locust"
    text = subprocess.run(
        [str(locust), "--help"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return frozenset(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _value(command: Sequence[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def _check_command(command: Sequence[str], known: frozenset[str]) -> None:
    """A plain Locust command line on a project locustfile, every flag known."""
    assert all(isinstance(word, str) for word in command), command
    assert (PROJECT_ROOT / _value(command, "-f")).is_file()
    flags = {word for word in command if word.startswith("--")}
    assert flags - known - FLOW_FLAGS == set()


def _k8s() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in _documents(path):
            found[doc["kind"], doc["metadata"]["name"]] = doc
    return found


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_compose_runs_a_master_and_the_workers_it_expects(locust_flags: frozenset[str]) -> None:
    """Compose: the master binds the port the workers dial, expects as many as run, and only
    the workers get the key (from the environment compose runs in)."""
    services = _documents(DEPLOY / "docker-compose.yml")[0]["services"]
    master, worker = services["master"]["command"], services["worker"]["command"]
    for command in (master, worker):
        _check_command(command, locust_flags)
    assert "--worker" in worker
    assert "--master" in master
    assert _value(worker, "--master-host") == "master"
    assert _value(worker, "--master-port") == _value(master, "--master-bind-port")
    assert int(_value(master, "--expect-workers")) == services["worker"]["deploy"]["replicas"]
    assert not FLOW_FLAGS & set(worker), "flow options come from the master"
    assert services["worker"]["environment"][KEY_ENV].startswith("${")
    assert "environment" not in services["master"]


def test_kubernetes_master_service_and_workers_match(locust_flags: frozenset[str]) -> None:
    """Kubernetes: the master Deployment and Service, the workers (replicas = expected) dial the
    Service's port, and their key comes from the Secret, never a literal."""
    docs = _k8s()
    master = _container(docs["Deployment", "trigger-harness-master"])
    workers = docs["Deployment", "trigger-harness-worker"]
    worker = _container(workers)
    service = docs["Service", "trigger-harness-master"]
    for command in (master["args"], worker["args"]):
        _check_command(command, locust_flags)
    assert _value(worker["args"], "--master-host") == service["metadata"]["name"]
    port = int(_value(worker["args"], "--master-port"))
    assert port in {item["port"] for item in service["spec"]["ports"]}
    assert port == int(_value(master["args"], "--master-bind-port"))
    assert int(_value(master["args"], "--expect-workers")) == workers["spec"]["replicas"]
    assert not FLOW_FLAGS & set(worker["args"]), "flow options come from the master"
    [env] = worker["env"]
    assert env["name"] == _value(master["args"], "--api-key-env")
    secret = env["valueFrom"]["secretKeyRef"]
    assert secret["key"] in docs["Secret", secret["name"]]["stringData"]
    assert "env" not in master


def test_the_flag_check_catches_an_unknown_flag(locust_flags: frozenset[str]) -> None:
    """A misspelt flag or a missing locustfile fails the check."""
    with pytest.raises(AssertionError):
        _check_command(["-f", "scenarios/background.py", "--master-bind-hots", "x"], locust_flags)
    with pytest.raises(AssertionError):
        _check_command(["-f", "scenarios/nowhere.py"], locust_flags)
