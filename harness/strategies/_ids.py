"""Odd path segments for workspace, trigger and workflow ids, never one the target knows."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

from ._text import check_int, check_strings, path_ids

__all__ = ["trigger_ids", "workflow_ids", "workspace_ids"]

_SLUGS = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)


def _with_known(
    extra: st.SearchStrategy[str], max_size: int, known: Iterable[str]
) -> st.SearchStrategy[str]:
    check_int("max_size", max_size, min_value=1)
    known_ids = check_strings("known", known)
    excluded = frozenset(known_ids)
    own = extra.map(lambda text: text[:max_size]).filter(lambda text: text not in excluded)
    return st.one_of(own, path_ids(max_size=max_size, known=known_ids))


def workspace_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Workspace ids a target should not know: slugs, odd path segments, near misses.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: existing workspace ids, never drawn exactly.
    """
    return _with_known(_SLUGS, max_size, known)


def trigger_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Trigger ids a workspace should not have: slugs, odd path segments, near misses.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: existing trigger ids, never drawn exactly.
    """
    return _with_known(_SLUGS, max_size, known)


def workflow_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Workflow ids E3 should not find: fresh UUIDs (in several spellings) and odd segments.

    Args:
        max_size: the longest id, in code points (>= 1).
        known: workflow ids that exist, never drawn exactly.
    """
    return _with_known(st.uuids().map(str), max_size, known)
