"""`trigger-harness compare`: two targets, or a target and a mock config, side by side.

`compare_command` is the library function, `compare_cli` the click command. Two sides are
given as `--target NAME` (twice) or `--target NAME --mock-config FILE` (or two
`--mock-config`); a mock config is served by an embedded mock. Each side is probed (the open
questions and the wire traits), run through the contract suite (unless `--no-contract`) and
sampled (`--runs` runs per trigger); the table shows one verdict per row (same, different,
inconclusive) and overall. Exit 0 when nothing differs, 1 when something does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import click

from .._exceptions import UsageError
from .._targets import Target
from ..compare import (
    Comparison,
    Observation,
    Side,
    Verdict,
    compare_sides,
    load_mock_config,
    mock_config_target,
    observe,
    open_side,
    slow_trigger_of,
    trigger_roles,
)
from ..report import ComparisonRecorded, ComparisonRow
from ._edge import Edge, print_report, report_run, resolve_target
from ._options import allow_production_option, current_edge, report_dir_option
from ._output import render_table
from ._probe import MOCK_SLOW_TRIGGER

__all__ = ["DEFAULT_COMPARE_RUNS", "compare_cli", "compare_command"]

DEFAULT_COMPARE_RUNS: Final = 12
"""Runs followed per trigger on each side unless `--runs` says otherwise."""
_TWO_SIDES: Final = (
    "compare needs two sides: --target A --target B, --target A --mock-config FILE, "
    "or --mock-config FILE1 --mock-config FILE2"
)


def _sides(
    edge: Edge,
    target_names: Sequence[str],
    mock_configs: Sequence[Path],
    targets_file: Path | None,
    allow_production: bool,
) -> list[Side]:
    if len(target_names) + len(mock_configs) != 2:
        raise UsageError(_TWO_SIDES)
    sides = [
        Side(
            name=name,
            target=resolve_target(
                edge, name, targets_file, starts_runs=True, allow_production=allow_production
            ),
        )
        for name in target_names
    ]
    sides += [
        load_mock_config(path if path.is_absolute() else edge.cwd / path) for path in mock_configs
    ]
    return sides


def _target_of(side: Side, other: Side) -> Target:
    """The side's target: its own, or the one its mock config serves."""
    if side.target is not None:
        return side.target
    return mock_config_target(side.config or {}, name=side.name, like=other.target)


def _slow_trigger(side: Side, target: Target, given: str | None) -> str | None:
    if given is not None:
        return given
    if side.config is not None:
        return slow_trigger_of(side.config, target)
    return MOCK_SLOW_TRIGGER if target.embedded else None


def _observe(
    side: Side,
    other: Side,
    *,
    runs: int,
    slow_trigger: str | None,
    contract: bool,
    allow_production: bool,
) -> Observation:
    target = _target_of(side, other)
    with open_side(side, like=other.target) as session:
        return observe(
            session,
            runs=runs,
            slow_trigger=_slow_trigger(side, target, slow_trigger),
            contract=contract,
            exact=False if side.config is not None else None,
            allow_production=allow_production,
        )


def _event(
    comparison: Comparison, runs: int, observations: Sequence[Observation]
) -> ComparisonRecorded:
    return ComparisonRecorded(
        kind="compare",
        title=f"{comparison.left} vs {comparison.right}",
        left=comparison.left,
        right=comparison.right,
        verdict=str(comparison.verdict),
        rows=tuple(
            ComparisonRow(
                group=row.group,
                topic=row.topic,
                left=row.left,
                right=row.right,
                verdict=str(row.verdict) if row.verdict is not None else "not compared",
                why=row.why,
                p_value=row.p_value,
            )
            for row in comparison.rows
        ),
        notes=(
            f"{runs} runs per trigger on each side.",
            *(
                f"{name}: durations read on {seen.measurement.clock}."
                for name, seen in zip(
                    (comparison.left, comparison.right), observations, strict=True
                )
            ),
        ),
    )


def compare_command(
    edge: Edge,
    *,
    target_names: Sequence[str] = (),
    mock_configs: Sequence[Path] = (),
    targets_file: Path | None = None,
    report_dir: Path = Path("reports"),
    allow_production: bool = False,
    runs: int = DEFAULT_COMPARE_RUNS,
    slow_trigger: str | None = None,
    contract: bool = True,
) -> int:
    """`trigger-harness compare`: both sides side by side; 1 when a row differs, else 0.

    Raises:
        UsageError: not exactly two sides (exit 2).
        ConfigError: a targets file or mock config is invalid (exit 2).
        ProductionGuardError: a production target without `allow_production` (exit 2).
        TargetUnavailable: a side cannot be reached or refuses the key (exit 3).
    """
    left, right = _sides(edge, target_names, mock_configs, targets_file, allow_production)
    pair = [_target_of(left, right), _target_of(right, left)]
    for side, target in zip((left, right), pair, strict=True):
        edge.echo(
            f"compare starts {runs * len(trigger_roles(target))} runs on {side.name} "
            f"({runs} per trigger), and more for the probe's questions"
            + (" and the contract suite." if contract else ".")
        )
    report_target = dataclasses.replace(pair[0], name=f"{left.name} vs {right.name}")
    options = {
        "sides": [left.name, right.name],
        "runs": runs,
        "slow_trigger": slow_trigger,
        "contract": contract,
    }
    with report_run(
        edge,
        command="compare",
        target=report_target,
        report_dir=report_dir,
        options=options,
        extra_secrets=(*pair[1].secret_values(), left.admin_token, right.admin_token),
    ) as run:
        observations = [
            _observe(
                side,
                other,
                runs=runs,
                slow_trigger=slow_trigger,
                contract=contract,
                allow_production=allow_production,
            )
            for side, other in ((left, right), (right, left))
        ]
        comparison = compare_sides(*observations)
        comparison = dataclasses.replace(comparison, left=left.name, right=right.name)
        run.bus.emit(_event(comparison, runs, observations))
        if comparison.verdict is Verdict.DIFFERENT:
            run.exit_code = max(run.exit_code, 1)
    _echo(edge, run.redactor.redact_text, comparison)
    print_report(edge, run)
    return run.exit_code


def _echo(edge: Edge, redact: Any, comparison: Comparison) -> None:
    rows = [
        [
            f"{row.group}: {row.topic}",
            row.left,
            row.right,
            (str(row.verdict) if row.verdict is not None else "not compared")
            + (f" ({row.why})" if row.why else ""),
        ]
        for row in comparison.rows
    ]
    columns = ("what", comparison.left, comparison.right, "verdict")
    edge.echo(redact(render_table(f"{comparison.left} vs {comparison.right}", columns, rows)))
    for row in comparison.differences():
        edge.echo(redact(f"different: {row.group}: {row.topic}: {row.why}"))
    edge.echo(f"overall: {comparison.verdict}")


@click.command("compare")
@click.option(
    "--target",
    "target_names",
    multiple=True,
    help="A side: a target of the targets file (give two, or one and --mock-config).",
)
@click.option(
    "--mock-config",
    "mock_configs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A side: a mock config served by an embedded mock.",
)
@click.option(
    "--targets",
    "targets_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Targets file (default: $TRIGGER_HARNESS_TARGETS, then ./harness.toml).",
)
@report_dir_option
@allow_production_option
@click.option(
    "--runs",
    type=click.IntRange(min=1, max=1000),
    default=DEFAULT_COMPARE_RUNS,
    show_default=True,
    help="Runs started and followed per trigger on each side.",
)
@click.option(
    "--slow-trigger",
    default=None,
    help="A trigger known to outlast the sync limit on both sides, to ask A1.",
)
@click.option(
    "--no-contract",
    "contract",
    flag_value=False,
    default=True,
    help="Skip the contract suite on both sides.",
)
@click.pass_context
def compare_cli(ctx: click.Context, /, **options: Any) -> None:
    """Compare two targets (or a target and a mock config) side by side; exit 1 on a
    difference."""
    ctx.exit(compare_command(current_edge(ctx), **options))
