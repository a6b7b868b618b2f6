"""Benchmark: background runs through the harness client under the mock's `flaky` preset.

Each run is started with E2 and followed with E3 (`TriggerClient.wait`, fixed 1 s polls) while the
mock answers 10-15% of status requests with a 5xx and resets about 1% of status connections. The
mock runs in process on a simulated clock (the client's sleeps move it), so 1,000 runs take a few
seconds. Prints runs, polls, injected 5xx and resets (from the mock's metrics), the client's
retries and the runs whose final status stayed unknown (`lost`, the figure that must be 0).

    python -m scenarios.bench_flaky [--runs 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import sys
import time
import warnings
from dataclasses import dataclass

from harness import MockAdmin, OutcomeUnknown, TriggerClient, backoff, fixed, mock_target
from mock_server import create_app, demo_config

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its TestClient; the harness is built on httpx.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["FlakyFigures", "main", "run_flaky"]

_INJECTED = re.compile(r'mock_faults_injected_total\{rule="([^"]+)",kind="([^"]+)"\} (\d+)')


class SimulatedTime:
    """One clock for the mock's real time and the client: sleeping moves it, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        """The simulated monotonic seconds."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += max(seconds, 0.0)


@dataclass(frozen=True, slots=True)
class FlakyFigures:
    """What one benchmark run measured."""

    runs: int
    polls: int
    injected_5xx: int
    resets: int
    retries: int
    start_unknown: int
    lost: int
    real_s: float

    def lines(self) -> list[str]:
        """The figures, one `name: value` per line."""
        return [f"{field.name}: {getattr(self, field.name)}" for field in dataclasses.fields(self)]


def _injected(metrics: str) -> tuple[int, int]:
    server_errors = resets = 0
    for _, kind, count in _INJECTED.findall(metrics):
        if kind == "error":
            server_errors += int(count)
        elif kind == "reset":
            resets += int(count)
    return server_errors, resets


def run_flaky(runs: int = 1000, *, seed: int = 7, trigger_id: str = "quick-answer") -> FlakyFigures:
    """Start and follow `runs` background runs under `flaky`; count what was lost.

    Args:
        runs: how many runs to start (one after another).
        seed: the mock's seed (the faults it injects) and the client's jitter seed.
        trigger_id: the demo trigger to start (quick-answer: 2-8 s runs).
    """
    sim = SimulatedTime()
    config = demo_config(seed=seed)
    config = dataclasses.replace(config, mock=dataclasses.replace(config.mock, scenario="flaky"))
    app = create_app(config, real_time=sim.clock)
    started_real = time.perf_counter()
    polls = retries = start_unknown = lost = 0
    with TestClient(app, base_url="http://testserver") as http:
        client = TriggerClient(
            mock_target(),
            http=http,
            clock=sim.clock,
            sleep=sim.sleep,
            rng=random.Random(seed),
            retry=backoff(0.5, factor=2.0, cap_s=8.0, max_attempts=8),
        )
        for _ in range(runs):
            try:
                started = client.start(trigger_id)
            except OutcomeUnknown:
                start_unknown += 1
                continue
            assert started.envelope is not None
            history = client.wait(
                started.envelope.workflow_id, start=started, strategy=fixed(1.0), deadline_s=600
            )
            polls += len(history.polls)
            retries += sum(1 for poll in history.polls if poll.envelope is None)
            lost += history.final is None
        metrics = MockAdmin(http, base_url="http://testserver").metrics()
    server_errors, resets = _injected(metrics)
    return FlakyFigures(
        runs=runs,
        polls=polls,
        injected_5xx=server_errors,
        resets=resets,
        retries=retries,
        start_unknown=start_unknown,
        lost=lost,
        real_s=round(time.perf_counter() - started_real, 2),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a run was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="background runs to start")
    parser.add_argument("--seed", type=int, default=7, help="mock and client seed")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    figures = run_flaky(args.runs, seed=args.seed)
    print("\n".join(figures.lines()))
    polls = max(figures.polls, 1)
    print(f"5xx_rate: {figures.injected_5xx / polls:.3f}")
    print(f"reset_rate: {figures.resets / polls:.4f}")
    return 1 if figures.lost or figures.start_unknown else 0


if __name__ == "__main__":
    sys.exit(main())
