"""Load shapes chosen by `--shape`: constant (the default), ramp, step, spike, soak.

One `HarnessShape` reads `--shape` (declared from `harness.load.SHAPE_OPTION`, the option the
harness passes), `-u`, `-r` and `-t` (`use_common_options`) and asks `harness.load.shape_at` how
many users to run at each moment; the shape ends the test when `-t` has passed (60 s without
`-t`). In distributed mode the master runs it.
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape, events

from harness.load import SHAPE_OPTION, shape_at

__all__ = ["HarnessShape"]


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    SHAPE_OPTION.add_to(parser)


class HarnessShape(LoadTestShape):
    """The shape `--shape` names, over `-u` users, `-r` users/s and `-t` seconds."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        """Users and spawn rate now; None ends the test."""
        assert self.runner is not None
        options = self.runner.environment.parsed_options
        return shape_at(
            options.shape,
            self.get_run_time(),
            users=options.num_users or 1,
            spawn_rate=options.spawn_rate or 1.0,
            duration_s=options.run_time or None,
        )
