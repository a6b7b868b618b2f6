"""The registry of contract cases: `@case` registers a plain function `fn(ctx)` under an id.

The case modules (`harness.suite.cases`) import this module and register themselves; the
package's `__init__` imports them, never the reverse.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Sequence

from .._exceptions import UsageError
from ._context import Case, CaseFn

__all__ = ["CASES", "case", "select_cases"]

CASES: dict[str, Case] = {}


def case(
    id: str,
    title: str,
    *,
    needs: Collection[str] = (),
    admin_reason: str = "",
) -> Callable[[CaseFn], CaseFn]:
    """Register `fn` as the case `id` (its area is the id's first segment).

    Args:
        id: the stable case id.
        title: one line for the report.
        needs: what the target must offer (`NEEDS`); the case is skipped without it.
        admin_reason: with the `admin` need: why only the mock's admin API makes it possible.
    """

    def register(fn: CaseFn) -> CaseFn:
        if id in CASES:
            raise UsageError(f"A case with id {id!r} is already registered")
        CASES[id] = Case(
            id=id,
            title=title,
            area=id.split(".", 1)[0],
            needs=frozenset(needs),
            fn=fn,
            admin_reason=admin_reason,
        )
        return fn

    return register


def select_cases(select: Sequence[str] | None = None) -> list[Case]:
    """The registered cases matching any of `select` (ids, `area` prefixes or globs); all if None.

    Args:
        select: case ids, id prefixes ending at a dot boundary, or fnmatch patterns.
    """
    cases = list(CASES.values())
    if not select:
        return cases
    for pattern in select:
        if not any(_matches(item.id, pattern) for item in cases):
            raise UsageError(f"--select: {pattern!r} matches no contract case")
    return [item for item in cases if any(_matches(item.id, p) for p in select)]


def _matches(case_id: str, pattern: str) -> bool:
    return (
        case_id == pattern
        or case_id.startswith(pattern.rstrip(".") + ".")
        or fnmatch.fnmatchcase(case_id, pattern)
    )
