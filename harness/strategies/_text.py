"""Odd text for the public strategies: message strings and path-segment ids.

Argument checks run when a factory is called, as hypothesis's own factories promise, and raise
`hypothesis.errors.InvalidArgument` naming the argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = [
    "NO_SURROGATES",
    "check_bool",
    "check_int",
    "check_strings",
    "messages",
    "path_ids",
    "text_fragments",
]

EMOJI = (
    "\U0001f600",  # grinning face (astral plane)
    "\U0001f9ea",  # test tube
    "\U0001f1fa\U0001f1e6",  # flag: regional indicator pair
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag (ZWJ sequence)
    "\U0001f3f4\u200d\u2620\ufe0f",  # pirate flag (ZWJ sequence)
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family (ZWJ sequence)
    "\U0001f44d\U0001f3fd",  # thumbs up with a skin-tone modifier
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag sequence
)
RTL = (
    "مرحبا بالعالم",
    "שלום עולם",
    "\u200fعربي\u200e mixed",
    "abc \u202eevil\u202c def",  # right-to-left override
    "\u200eשלום 123\u200f",
)
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\ufeff", "\u2060")
COMBINING = ("e\u0301", "\u0301", "Z\u0351\u0308\u0324\u0347\u035c", "n\u0303\u0323")
CONTROL = ("\x00", "\n", "\r\n", "\t", "\x1b[31m", "\x7f", "\u0085")
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
NO_SURROGATES = st.characters(exclude_categories=["Cs"])
_PRINTABLE = st.characters(exclude_categories=["Cs", "Cc"])
_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def check_int(name: str, value: Any, *, min_value: int) -> None:
    """Raise InvalidArgument unless `value` is an int (not a bool) >= `min_value`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int")
    if value < min_value:
        raise InvalidArgument(f"{name}={value!r} must be >= {min_value}")


def check_bool(name: str, value: Any) -> None:
    """Raise InvalidArgument unless `value` is a bool."""
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be a bool")


def check_strings(name: str, values: Any) -> tuple[str, ...]:
    """The strings of `values` as a tuple; InvalidArgument for a bare string or a non-string."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidArgument(f"{name}={values!r} must be a sequence of strings")
    items = tuple(values)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"{name} holds {item!r}, which is not a string")
    return items


def text_fragments(
    *, allow_surrogates: bool = False, allow_control: bool = True
) -> st.SearchStrategy[str]:
    """Short pieces of odd text: emoji, RTL, zero-width, combining, control, plain.

    Args:
        allow_surrogates: also lone surrogates (not encodable as UTF-8).
        allow_control: also C0/C1 control characters (which a URL cannot carry raw).
    """
    pieces = [
        st.sampled_from(EMOJI),
        st.sampled_from(RTL),
        st.sampled_from(ZERO_WIDTH),
        st.sampled_from(COMBINING),
        st.text(_ASCII, max_size=20),
        st.text(NO_SURROGATES if allow_control else _PRINTABLE, max_size=10),
    ]
    if allow_control:
        pieces.append(st.sampled_from(CONTROL))
    if allow_surrogates:
        pieces.append(st.text(SURROGATES, min_size=1, max_size=3))
    return st.one_of(pieces)


def _repeated(fragment: str, size: int) -> str:
    return (fragment * (size // max(len(fragment), 1) + 1))[:size]


def messages(*, max_size: int = 2000, allow_surrogates: bool = False) -> st.SearchStrategy[str]:
    """Message strings: empty, ASCII, emoji, RTL, zero-width, combining marks, very long.

    Lengths count code points, at most `max_size`. Lone surrogates (which cannot be encoded as
    UTF-8 JSON) appear only with `allow_surrogates=True`, for raw-bytes tests.

    Args:
        max_size: the longest message, in code points (>= 0).
        allow_surrogates: also mix in lone surrogates.
    """
    check_int("max_size", max_size, min_value=0)
    check_bool("allow_surrogates", allow_surrogates)
    fragments = text_fragments(allow_surrogates=allow_surrogates)
    mixed = st.lists(fragments, max_size=8).map("".join)
    long_text = st.builds(
        _repeated,
        st.sampled_from(("a", "lorem ipsum ", *EMOJI, *RTL, *COMBINING, "\u200b")),
        st.integers(min_value=max_size // 2, max_value=max_size),
    )
    return st.one_of(
        st.just(""),
        st.text(_ASCII, max_size=max_size),
        mixed.map(lambda text: text[:max_size]),
        long_text,
    )


def _near_misses(known: str) -> list[str]:
    """Ids a path parser might confuse with `known` without being it."""
    variants = [
        known.upper(),
        known.lower(),
        known.swapcase(),
        known + "x",
        known[:-1],
        known + "%2F",
        known + "/",
        "%2F" + known,
        known + "%00",
        known + "\u200b",
        " " + known,
        known + ".",
        known.replace("-", "_"),
        known.replace("a", "\u0430"),  # Cyrillic look-alike
    ]
    return [variant for variant in variants if variant != known]


def path_ids(*, max_size: int = 4096, known: Iterable[str] = ()) -> st.SearchStrategy[str]:
    """Odd path-segment ids: unicode, `%2F`, dot segments, very long, empty-ish, unknown UUIDs.

    Values are meant to be substituted verbatim into one path segment; the client decides
    how to quote them. They never hold ASCII control characters or lone surrogates (an httpx
    URL cannot carry those) and are never empty (use `""` yourself for a missing segment).
    None equals an id in `known`; near misses of those ids are included.

    Args:
        max_size: the longest id, in code points (>= 1; defaults to 4096).
        known: ids that exist on the target, to be avoided exactly and missed closely.
    """
    check_int("max_size", max_size, min_value=1)
    known_ids = check_strings("known", known)
    odd = st.sampled_from(
        (
            "%2F", "a%2Fb", "%2f..%2f", "..", ".", "%2E%2E", "a/b", "a/../b", "%00", "%",
            "%zz", "%20", " ", "\u200b", "\ufeff", "-", "_", "~", "?x=1", "#frag", ";p=1",
            "null", "undefined", "0", "-1", "' OR '1'='1", "\\", "*", "status", "start",
        )
    )  # fmt: skip
    candidates = [
        odd,
        st.uuids().map(str),
        st.uuids().map(lambda value: str(value).upper()),
        st.uuids().map(lambda value: value.hex),
        st.text(_PRINTABLE, min_size=1, max_size=min(max_size, 40)),
        st.lists(text_fragments(allow_control=False), min_size=1, max_size=4).map("".join),
        st.builds(
            _repeated,
            st.sampled_from(("a", "%2F", "\U0001f600", "../")),
            st.integers(min_value=max(1, max_size // 2), max_value=max_size),
        ),
    ]
    misses = [miss for known_id in known_ids for miss in _near_misses(known_id)]
    if misses:
        candidates.append(st.sampled_from(misses))
    excluded = frozenset(known_ids)
    return (
        st.one_of(candidates)
        .map(lambda text: text[:max_size])
        .filter(lambda text: bool(text) and text not in excluded)
    )
