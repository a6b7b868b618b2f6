"""`trigger-harness fuzz`: the fuzz properties and the state machine against one target.

`fuzz_command` is the library function (resolve, report, print, exit code); `fuzz_stage` runs
the fuzzing into an open report (the `run` job reuses it); `fuzz_cli` is the thin click
command the CLI adds with `main.add_command(fuzz_cli)`.

Verdicts: a finding (an invariant broken) is exit 1; what the target did on an open question
is a note in the report's open-questions section, never a finding; a property the harness could
not judge (a hypothesis health check, flakiness, every answer inconclusive, an internal error)
is an error case and, when nothing was found, `CannotJudge` (exit 4) with a plain message.

Budgets: `--profile` (ci, dev, thorough) sets the examples per property unless
`--max-examples` does; `--max-rps` caps the request rate; `--time-limit` bounds the whole run
(properties not reached are reported skipped); `--max-runs` caps the requests that may start a
run (else the examples' bound, `FuzzBudget.run_bound`), said on stderr before starting with the
seed (a random one unless `--seed` is given; recorded in the report, so `--seed` replays it).
Hypothesis's example database is `<report-dir>/.hypothesis/examples`, kept free of secrets
(`SecretFreeDatabase`); its other caches (the constants it harvests from source, the demo key
among them) live in a temporary directory removed when the run ends, never under the working
directory.

The long run on the mock (six properties and the state machine, 1500 examples each):

    trigger-harness fuzz --target mock --max-examples 1500

Measured 2026-11-28 on the 2-core machine: 10,666 examples, 22,400 requests, 760 s, nothing
found (the state machine took 490 s of it).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from .._embedded import MOCK_LOG_WINDOW, Session, open_session
from .._exceptions import AuthRejected, CannotJudge, TargetUnavailable
from .._preflight import preflight_target
from .._targets import Target
from .._types import Sleep
from ..fuzz import (
    FUZZ_PROFILES,
    MACHINE_CASE_ID,
    PROPERTIES,
    FuzzBudget,
    FuzzContext,
    FuzzMeter,
    Property,
    PropertyResult,
    SecretFreeDatabase,
    note_events,
    run_machine,
    run_property,
    status_request,
)
from ..report import CaseFinished, NoteRecorded, Outcome, Suite, SuiteStarted
from ._cost import announce, check_poll_interval, choose_seed, progress
from ._edge import Edge, ReportedRun, print_report, report_run, resolve_target
from ._options import (
    current_edge,
    max_runs_option,
    seed_option,
    target_options,
    time_limit_option,
)
from ._output import first_line

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from .._redact import Redactor

__all__ = [
    "CI_SEED",
    "DATABASE_DIR",
    "FUZZ_TIME_SCALE",
    "FuzzOutcome",
    "describe_fuzz",
    "fuzz_cli",
    "fuzz_command",
    "fuzz_stage",
    "hypothesis_home",
]

FUZZ_TIME_SCALE: Final = 1000.0
"""The embedded mock's virtual seconds per real second while fuzzing (E1 waits are short)."""
DATABASE_DIR: Final = ".hypothesis"
CI_SEED: Final = 0
"""The `ci` profile's seed when none is given: CI runs repeat exactly (the profile's promise)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzOutcome:
    """What a fuzz run gave: one result per property (and the machine), totals, time.

    `notes` are the open-question notes recorded (each once), `inconclusive` the answers
    that said nothing (no answer, 429, injected 5xx).
    """

    results: tuple[PropertyResult, ...]
    examples: int
    requests: int
    duration_s: float
    notes: tuple[NoteRecorded, ...] = ()
    inconclusive: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found and every property could be judged."""
        return all(
            result.finding is None and result.case.outcome is not Outcome.ERROR
            for result in self.results
        )

    @property
    def found(self) -> bool:
        """True when some property found an invariant broken."""
        return any(result.finding is not None for result in self.results)

    def cannot_judge(self) -> CannotJudge | None:
        """`CannotJudge` naming every property the harness could not judge; None if none."""
        unjudged = [r for r in self.results if r.cannot_judge is not None]
        if not unjudged:
            return None
        reasons = "; ".join(f"{r.case.case_id}: {r.cannot_judge}" for r in unjudged)
        return CannotJudge(f"fuzz could not judge {len(unjudged)} of them: {reasons}"[:2000])


def _preflight(ctx: FuzzContext) -> None:
    """One E3 for an unknown run: raises when the target is unreachable or refuses the key."""
    exchange = ctx.send(status_request(ctx, "fuzz-preflight-unknown-run"))
    if exchange.status_code is None:
        raise TargetUnavailable(
            f"target {ctx.target.name!r} could not be reached: {exchange.error}"
        )
    if exchange.status_code == 401:
        raise AuthRejected(
            f"target {ctx.target.name!r} refused the configured key (401)", exchange=exchange
        )


def _not_reached(name: str, title: str, meter: FuzzMeter) -> PropertyResult:
    reason = (
        "not reached: --max-runs reached"
        if meter.cap_reached
        else ("not reached within --time-limit")
    )
    case = CaseFinished(
        suite=Suite.FUZZ,
        case_id=name,
        title=title,
        outcome=Outcome.SKIPPED,
        message=reason,
        skip_reason=reason,
    )
    return PropertyResult(case=case, finding=None, examples=0, requests=0, out_of_time=True)


def fuzz_stage(
    run: ReportedRun,
    target: Target,
    *,
    budget: FuzzBudget,
    database: ExampleDatabase | None,
    allow_production: bool = False,
    properties: Sequence[Property] = PROPERTIES,
    machine: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = time.sleep,
    time_scale: float = FUZZ_TIME_SCALE,
    app: ASGIApp | None = None,
    on_change: Callable[[FuzzMeter], None] | None = None,
) -> FuzzOutcome:
    """Fuzz `target`, emitting a case per property (and findings) into `run`'s report.

    Args:
        run: the open report.
        target: the resolved target.
        budget: examples, rate, time limit, seed and profile.
        database: hypothesis's example database; None for none.
        allow_production: let properties that start runs run on a production target.
        properties: the properties to fuzz (default: all).
        machine: also run the state machine.
        clock: real monotonic seconds (pacing, time limit, durations).
        sleep: a real sleep (pacing).
        time_scale: embedded mock only: virtual seconds per real second.
        app: embedded mock only: an ASGI app to serve instead of the demo mock (tests); it
            need not keep the demo mock's defaults on open questions.
        on_change: called with the meter after each example and run started (progress).

    Open-question notes go to the report (`NoteRecorded`), never as findings. A finding sets
    the exit code to 1; a property that could not be judged, with nothing found, to 4. The
    requests that may start a run are capped at `budget.run_bound(...)`; what the cap stopped
    says so. `database` is wrapped so it never stores the target's secrets.
    """
    cap = budget.run_bound(len(properties), machine=machine)
    meter = FuzzMeter.for_budget(
        budget, clock=clock, sleep=sleep, max_runs=cap, on_change=on_change
    )
    if database is not None:
        database = SecretFreeDatabase(database, target.secret_values())
    results: list[PropertyResult] = []
    notes: dict[tuple[str, str, str], NoteRecorded] = {}
    run.bus.emit(SuiteStarted(suite=Suite.FUZZ))
    with open_session(target, time_scale=time_scale, app=app) as session:
        exact = target.embedded and app is None
        ctx = _context(session, meter, exact=exact, allow_production=allow_production)
        _preflight(ctx)
        steps: list[tuple[str, str, Callable[[], PropertyResult]]] = [
            (
                f"fuzz.{prop.name}",
                prop.title,
                partial(run_property, ctx, prop, budget, database=database, clock=clock),
            )
            for prop in properties
        ]
        if machine:
            machine_step = partial(run_machine, ctx, budget, database=database, clock=clock)
            steps.append((MACHINE_CASE_ID, "Stateful fuzzer", machine_step))
        for case_id, title, step in steps:
            result = _not_reached(case_id, title, meter) if meter.spent() else step()
            results.append(result)
            run.bus.emit(result.case)
            if result.finding is not None:
                run.bus.emit(result.finding)
            for event in note_events(result.notes):
                key = (event.question_id, event.title, event.observed)
                if key not in notes:
                    notes[key] = event
                    run.bus.emit(event)
    outcome = FuzzOutcome(
        results=tuple(results),
        examples=meter.examples,
        requests=meter.requests,
        duration_s=meter.elapsed_s,
        notes=tuple(notes.values()),
        inconclusive=ctx.inconclusive,
    )
    if outcome.found:
        run.exit_code = max(run.exit_code, 1)
    elif outcome.cannot_judge() is not None and run.exit_code == 0:
        run.exit_code = CannotJudge.exit_code
    return outcome


def _context(
    session: Session, meter: FuzzMeter, *, exact: bool, allow_production: bool
) -> FuzzContext:
    """The fuzz context over `session`; faults are expected where the mock has fault rules."""
    admin = session.admin
    return FuzzContext(
        target=session.target,
        client=session.client(),
        http=session.http,
        meter=meter,
        admin=admin,
        exact=exact,
        allow_production=allow_production,
        log_window=MOCK_LOG_WINDOW if admin is not None else None,
        sleep=session.sleep,
        transient_faults=admin is not None and bool(admin.faults()),
    )


@contextmanager
def hypothesis_home(report_root: Path) -> Iterator[ExampleDatabase]:
    """Give hypothesis a temporary home for the block; yield the example database to use.

    Hypothesis keeps caches in its home directory, among them the string literals it harvests
    from local source (the demo world's key among them). The home is a fresh temporary
    directory outside the working directory, removed when the block ends however it ends
    (an interrupt included; a process killed outright leaves it in the system's temporary
    directory, never beside the reports). The example database persists under
    `<report_root>/.hypothesis/examples`; `fuzz_stage` keeps secrets out of it.

    Args:
        report_root: the `--report-dir` root, absolute.
    """
    home = Path(tempfile.mkdtemp(prefix="trigger-harness-hypothesis-"))
    set_hypothesis_home_dir(home)
    try:
        yield DirectoryBasedExampleDatabase(report_root / DATABASE_DIR / "examples")
    finally:
        set_hypothesis_home_dir(None)
        shutil.rmtree(home, ignore_errors=True)


def describe_fuzz(outcome: FuzzOutcome, redactor: Redactor | None = None) -> list[str]:
    """The lines `fuzz` prints: totals, the open questions answered unlike the mock, then each
    error and each finding with its reproduction.

    An error's or finding's message is the target's text: only its first line is shown, made
    display-safe (`first_line`), so a newline in it cannot fake a line of the harness's own;
    it is redacted with `redactor` (the run's) before it is cut.
    """
    counts = dict.fromkeys(Outcome, 0)
    for result in outcome.results:
        counts[result.case.outcome] += 1
    lines = [
        f"fuzz: {counts[Outcome.PASSED]} passed, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.ERROR]} errors, {counts[Outcome.SKIPPED]} skipped; "
        f"{outcome.examples} examples, "
        f"{outcome.requests} requests in {outcome.duration_s:.1f} s"
        + (f", {outcome.inconclusive} answers inconclusive" if outcome.inconclusive else "")
    ]
    different = sorted({note.question_id for note in outcome.notes if not note.same})
    if different:
        lines.append(f"  open questions answered unlike the mock: {', '.join(different)}")
    for result in outcome.results:
        finding = result.finding
        if result.case.outcome is Outcome.ERROR:
            shown = first_line(result.case.message, 380, redactor=redactor)
            lines.append(f"  ERROR {result.case.case_id}: {shown}")
        if finding is None:
            continue
        summary = first_line(f"{finding.title}: {finding.message}", 380, redactor=redactor)
        lines.append(f"  FINDING {result.case.case_id}: {summary}")
        lines.append(f"    input: {finding.input_repr}"[:1000])
        lines.extend(f"    {line}" for line in finding.reproduction.splitlines()[:20])
    return lines


def fuzz_command(
    edge: Edge,
    *,
    target_name: str,
    targets_file: Path | None,
    report_dir: Path,
    allow_production: bool,
    max_examples: int | None = None,
    profile: str = "dev",
    max_rps: float | None = None,
    time_limit_s: float | None = None,
    seed: int | None = None,
    max_runs: int | None = None,
    sleep: Sleep = time.sleep,
    properties: Sequence[Property] = PROPERTIES,
) -> int:
    """`trigger-harness fuzz`: fuzz one target; exit 1 on any finding.

    Before the first request it says on stderr how many runs it will start at most and its
    seed; a progress bar runs on stderr while it works (a terminal only).

    Raises:
        CannotJudge: nothing was found but some property could not be judged (exit 4).

    Args:
        edge: environment, working directory, clocks and output.
        target_name: the `--target` value.
        targets_file: the `--targets` value.
        report_dir: the `--report-dir` root (the example database lives under it).
        allow_production: the `--allow-production` flag.
        max_examples: examples per property (default: the profile's).
        profile: `ci`, `dev` or `thorough`.
        max_rps: requests per second, at most.
        time_limit_s: wall-clock seconds for the whole run.
        seed: the hypothesis seed; None chooses one (random; `CI_SEED` for the `ci`
            profile), printed and recorded.
        max_runs: requests that may start a run, at most (default: the examples' bound).
        sleep: a real sleep (pacing).
        properties: the properties to fuzz (default: all; the state machine always runs).
    """
    budget = FuzzBudget(
        profile=profile,
        max_examples=max_examples,
        max_rps=max_rps,
        time_limit_s=time_limit_s,
        seed=choose_seed(CI_SEED if seed is None and profile == "ci" else seed),
        max_runs=max_runs,
    )
    target = resolve_target(
        edge, target_name, targets_file, starts_runs=True, allow_production=allow_production
    )
    check_poll_interval(target)
    preflight_target(target)
    root = report_dir if report_dir.is_absolute() else edge.cwd / report_dir
    bound = budget.run_bound(len(properties), machine=True)
    announce(
        f"fuzz: at most {bound} runs ({len(properties)} properties and the state machine, "
        f"{budget.examples} examples each"
        + (f", --max-runs {max_runs}" if max_runs is not None else "; --max-runs N lowers it")
        + f"); seed {budget.seed} (replay with --seed {budget.seed})"
    )
    options: dict[str, Any] = {
        "profile": profile,
        "max_examples": budget.examples,
        "max_rps": max_rps,
        "time_limit_s": time_limit_s,
        "seed": budget.seed,
        "max_runs": bound,
    }
    total = budget.examples * (len(properties) + 1)
    with (
        hypothesis_home(root) as database,
        report_run(
            edge, command="fuzz", target=target, report_dir=report_dir, options=options
        ) as run,
        progress("fuzz: examples", total) as advance,
    ):
        outcome = fuzz_stage(
            run,
            target,
            budget=budget,
            database=database,
            allow_production=allow_production,
            properties=properties,
            clock=edge.monotonic,
            sleep=sleep,
            on_change=lambda meter: advance(meter.examples, f"{meter.runs} runs started"),
        )
        for line in describe_fuzz(outcome, run.redactor):
            edge.echo(run.redactor.redact_text(line))
        print_report(edge, run)
        unjudged = outcome.cannot_judge()
        if unjudged is not None and not outcome.found:
            raise CannotJudge(run.redactor.redact_text(str(unjudged)))
    return run.exit_code


@click.command("fuzz")
@target_options
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=None,
    help="Examples per property and state-machine runs (default: the profile's).",
)
@click.option(
    "--profile",
    type=click.Choice(FUZZ_PROFILES),
    default="dev",
    show_default=True,
    help="Hypothesis profile: ci (25 examples, derandomized), dev (100), thorough (1000).",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Send at most this many requests per second.",
)
@time_limit_option
@seed_option
@max_runs_option
@click.pass_context
def fuzz_cli(ctx: click.Context, /, **options: Any) -> None:
    """Fuzz a target with property-based tests and a state machine; exit 1 on a finding."""
    ctx.exit(fuzz_command(current_edge(ctx), **options))
