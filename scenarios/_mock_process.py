"""A pre-populated mock, in process (`populate`) or served in its own process (`serve_populated`).

The scale benchmarks need a store holding many runs before the first request. Creating them
over HTTP takes minutes; `populate` creates them straight through `TriggerStore.start_run`
(about 12 µs each). `python -m scenarios._mock_process` builds the demo world that way and
serves it under uvicorn like `trigger-mock serve` (first stdout line `serving <url>`), with the
options the benchmarks and the soak need (fault preset, time scale, retention). It never
outlives the process that started it: once its parent is gone (the soak's Locust stopped, even
by SIGKILL), it exits at once.

    python -m scenarios._mock_process --runs 100000 --in-flight --port 0
    python -m scenarios._mock_process --scenario flaky --time-scale 300 --retention-s 600
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Final

from mock_server import (
    MockConfig,
    TriggerStore,
    VirtualClock,
    base_url,
    bind_socket,
    create_app,
    demo_config,
    make_server,
)

__all__ = [
    "FINISHED_TRIGGER",
    "IN_FLIGHT_TRIGGER",
    "main",
    "mock_config",
    "populate",
    "read_rss_mib",
]

FINISHED_TRIGGER: Final = "quick-answer"
"""Demo trigger whose runs last 2-8 s: finished once the clock moved 10 s."""
IN_FLIGHT_TRIGGER: Final = "long-batch"
"""Demo trigger whose runs last 3000 s (failed at the 2700 s limit): in flight for 45 min."""
SETTLE_S: Final = 10.0
_PARENT_CHECK_S: Final = 0.5
"""How often the mock checks that the process that started it is still there."""


def mock_config(
    *,
    scenario: str | None = None,
    time_scale: float = 1.0,
    retention_s: float | None = None,
    seed: int = 7,
) -> MockConfig:
    """The demo world with the given `[mock]` settings.

    Args:
        scenario: a fault preset (`flaky`, `degraded`, `overloaded`) or None.
        time_scale: virtual seconds per real second.
        retention_s: how long finished runs stay readable; None keeps the default 24 h.
        seed: the world's seed.
    """
    config = demo_config(seed=seed)
    settings: dict[str, object] = {"time_scale": time_scale}
    if scenario is not None:
        settings["scenario"] = scenario
    if retention_s is not None:
        settings["retention_s"] = retention_s
    return dataclasses.replace(config, mock=dataclasses.replace(config.mock, **settings))


def populate(store: TriggerStore, runs: int, *, in_flight: bool = False) -> list[str]:
    """Start `runs` background runs in `store`, each with load-test-like user variables.

    Finished runs are `quick-answer` runs; the caller moves the clock `SETTLE_S` on to finish
    them. In-flight runs are `long-batch` runs, pending for 2700 virtual seconds.

    Args:
        store: the store to fill.
        runs: how many runs.
        in_flight: start long runs that stay pending, instead of short ones.
    """
    trigger = IN_FLIGHT_TRIGGER if in_flight else FINISHED_TRIGGER
    start = store.start_run
    return [
        start(
            workspace_id="demo",
            trigger_id=trigger,
            environment="DEV",
            message="bench",
            user_variables={"load_flow": "background", "load_id": uuid.uuid4().hex},
        ).workflow_id
        for _ in range(runs)
    ]


def read_rss_mib(pid: int | str = "self") -> float:
    """A process's resident set size (VmRSS of /proc/<pid>/status) in MiB.

    Args:
        pid: the process id, or `self`.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def exit_with_parent(period_s: float = _PARENT_CHECK_S) -> threading.Thread:
    """Watch, from a daemon thread, for this process's parent to go; then exit at once.

    The parent is gone when this process is re-parented (its parent pid changes). The exit
    skips every handler (`os._exit(0)`): nobody is left to read an answer.

    Args:
        period_s: seconds between checks (the longest the mock outlives its parent).
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(period_s)
        os._exit(0)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    """Build, fill and serve the demo mock until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--runs", type=int, default=0, help="runs stored before serving")
    parser.add_argument("--in-flight", action="store_true", help="stored runs stay pending")
    parser.add_argument("--scenario", choices=["flaky", "degraded", "overloaded"], default=None)
    parser.add_argument("--time-scale", type=float, default=1.0, help="virtual s per real s")
    parser.add_argument("--retention-s", type=float, default=None, help="retention (virtual s)")
    parser.add_argument("--seed", type=int, default=7, help="the world's seed")
    args = parser.parse_args(argv)
    if args.runs < 0 or not args.time_scale > 0:
        parser.error("--runs must be >= 0 and --time-scale > 0")
    config = mock_config(
        scenario=args.scenario,
        time_scale=args.time_scale,
        retention_s=args.retention_s,
        seed=args.seed,
    )
    clock = VirtualClock.from_settings(config.mock)
    store = TriggerStore(config, clock)
    if args.runs:
        # Filled on a frozen clock, then moved on: runs are finished before the first request.
        clock.set_frozen(True)
        populate(store, args.runs, in_flight=args.in_flight)
        if not args.in_flight:
            clock.advance(SETTLE_S)
        clock.set_frozen(False)
    app = create_app(config, store=store, clock=clock)
    exit_with_parent()
    sock = bind_socket(args.host, args.port)
    print(f"serving {base_url(sock)}", flush=True)
    try:
        make_server(app).run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
