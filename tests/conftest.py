"""Shared fixtures live in `tests/fixtures/`; this file loads them and adds the short options.

`--target NAME` and `--targets FILE` are this repository's short forms of the plugin's
`--trigger-target` / `--trigger-targets` (`pytest tests/contract --target dev`). They are declared
here, once for every test folder (a second conftest declaring them would clash when both
folders run), and handed to the plugin before it reads its options.
"""

from __future__ import annotations

from typing import Final

import pytest

pytest_plugins = ["tests.fixtures.mock"]

_SHORT_OPTIONS: Final = (
    ("--target", "target", "trigger_harness_target", "--trigger-target"),
    ("--targets", "targets", "trigger_harness_targets", "--trigger-targets"),
)
"""(short flag, its dest, the plugin's dest, the plugin's flag)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--target NAME` and `--targets FILE` (short for the plugin's namespaced options)."""
    group = parser.getgroup("trigger-harness")
    group.addoption(
        "--target",
        dest="target",
        default=None,
        metavar="NAME",
        help="short for --trigger-target (this repository's tests)",
    )
    group.addoption(
        "--targets",
        dest="targets",
        default=None,
        metavar="FILE",
        help="short for --trigger-targets (this repository's tests)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hand the short options to the plugin; both forms with different values is an error."""
    for short, dest, plugin_dest, plugin_flag in _SHORT_OPTIONS:
        value: str | None = config.getoption(dest)
        if value is None:
            continue
        given: str | None = config.getoption(plugin_dest)
        if given is not None and given != value:
            raise pytest.UsageError(f"{short} {value!r} and {plugin_flag} {given!r} disagree")
        setattr(config.option, plugin_dest, value)
